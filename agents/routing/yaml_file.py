"""An operator's YAML file (the routing policy, the routing vocabulary) read into its pydantic
model, with every failure an error that names the file and the entry at fault, so a broken file
refuses to load with a message the operator can act on."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def where(location: tuple[str | int, ...], whole: str) -> str:
    """An entry's place in the file; a dictionary key's own error (pydantic adds `[key]`) is
    named by the key, and an error of the file as a whole by `whole`.

    >>> where(("tables", "orders", "de", 0), "vocabulary"), where((), "policy")
    ('tables.orders.de[0]', 'policy')
    """
    found = ""
    for part in location:
        if part == "[key]":
            continue
        found += f"[{part}]" if isinstance(part, int) else f".{part}" if found else str(part)
    return found or whole


def read_yaml_model(path: Path, model: type[M], error: type[Exception], what: str, shape: str) -> M:
    """`path` parsed and validated as `model`; `error` raised naming the file and, for each
    problem, the entry. `what` names the file's kind ("routing policy"), `shape` the mapping it
    must be ("a mapping with `rules`, `default` and `fallback`")."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{path}: a {what} is {shape}, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        whole = what.split()[-1]
        problems = "; ".join(
            f"{where(e['loc'], whole)}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise error(f"{path}: {problems}") from exc
