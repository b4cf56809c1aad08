"""Reading a semantic model file, with every problem tied to the line that causes it.

An operator edits the file by hand; "cubes.2.segments.0: sql is required" would leave them
counting list items, so each error names the file and the line (`trading.yaml:41: ...`), taken
from the YAML parser's own marks. A file that does not load stops the platform at start.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from services.semantic.model import SemanticModel

PACKAGED_MODEL = Path(__file__).with_name("trading.yaml")
_PATH = re.compile(r"^(?P<path>[A-Za-z_]+(?:\.\w+)+): (?P<rest>.*)$", re.S)


class SemanticModelError(ValueError):
    """A semantic model file that cannot be used; the message names the file and the line."""

    def __init__(self, source: Path | None, line: int | None, problem: str):
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line else f"{source}"
        super().__init__(f"{where}: {problem}")


def _lines(node: yaml.Node, path: str = "") -> dict[str, int]:
    """Dotted path -> 1-based line of each mapping value and list item under `node`.

    >>> _lines(yaml.compose("a:\\n  - x: 1\\n  - y: 2\\n"))["a.1.y"]
    3
    """
    found = {path: node.start_mark.line + 1} if path else {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = f"{path}.{key.value}" if path else str(key.value)
            found[child] = key.start_mark.line + 1
            found |= {k: v for k, v in _lines(value, child).items() if k != child}
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found |= _lines(item, f"{path}.{index}" if path else str(index))
    return found


def parse_semantic_model(text: str, source: Path | None = None) -> SemanticModel:
    """The model the YAML `text` declares; `SemanticModelError` naming the line otherwise.

    >>> parse_semantic_model("cubes:\\n  - name: orders\\n    sql_table: orders\\n"
    ...     "    segments:\\n      - name: open_orders\\n")
    Traceback (most recent call last):
    ...
    services.semantic.loader.SemanticModelError: None:5: cubes.0.segments.0.sql: Field required
    """
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context, started = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and started:  # an unclosed bracket is found a line later: say where it was
            problem += f" ({context} that started on line {started.line + 1})"
        raise SemanticModelError(source, mark.line + 1 if mark else None, problem) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SemanticModelError(source, 1, "a semantic model is a mapping with `cubes`")
    lines = _lines(node) if node is not None else {}
    try:
        return SemanticModel.model_validate({**data, "source": source, "lines": lines})
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"])
        line = next((lines[p] for p in _prefixes(path) if p in lines), None)
        message = error["msg"].removeprefix("Value error, ")
        if not path and (found := _PATH.match(message)):  # a whole-model check names the part
            path, message = found["path"], found["rest"]
            line = next((lines[p] for p in _prefixes(path) if p in lines), None)
        raise SemanticModelError(source, line, f"{path}: {message}" if path else message) from exc


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def load_semantic_model(path: Path | None = None) -> SemanticModel:
    """The model in the file at `path` (by default the platform's own, shipped beside this
    module); `SemanticModelError` naming the file and line when it cannot be read."""
    path = PACKAGED_MODEL if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SemanticModelError(path, None, f"cannot read the semantic model: {exc}") from exc
    return parse_semantic_model(text, path)
