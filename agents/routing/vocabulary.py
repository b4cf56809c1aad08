"""The routing vocabulary: the words, in each language, that tell the router what data a request
touches, read from a YAML file an operator edits (`vocabulary.yaml` beside this module, or the
file the `ROUTING_VOCABULARY_FILE` setting names).

It decides sensitivity, not the query type: which table's records a request names, which the
caller calls their own ("my orders", "meine Aufträge", "mes ordres", "mis órdenes"), which
tables a request to act would write, whether a customer speaks of their own circumstances or
a particular customer is named, and whether staff speak of the firm's figures. The format is
documented in the packaged file and in `agents/routing/ROUTING.md`; `agents.routing.sources`
compiles it, with the instruments the platform lists, for the router.

A file is checked when it is loaded: every entry must compile as a regular expression, hold no
capturing group and not match the empty text, and every table it names must be a table of the
operational schema. A file that fails refuses to load, with a message naming the file and the
entry.

>>> vocabulary = load_routing_vocabulary()
>>> list(vocabulary.own)
['en', 'de', 'fr', 'es']
>>> vocabulary.tables["orders"]["fr"]
['ordres?', 'commandes?']
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agents.routing.yaml_file import read_yaml_model
from services.db.models import Base

PACKAGED_VOCABULARY = Path(__file__).with_name("vocabulary.yaml")


class RoutingVocabularyError(ValueError):
    """A vocabulary file that cannot be read, is malformed, or names what does not exist."""


def _compiles(entry: str) -> str:
    try:
        pattern = re.compile(entry)
    except re.error as exc:
        raise ValueError(f"{entry!r} is not a valid regular expression: {exc}") from None
    if pattern.groups:
        raise ValueError(f"{entry!r} has a capturing group; write (?:...) instead")
    if pattern.fullmatch(""):
        raise ValueError(f"{entry!r} matches the empty text, so it would match every request")
    return entry


def _language(code: str) -> str:
    if not re.fullmatch(r"[a-z]{2}", code):
        raise ValueError(f"{code!r} is not a language: use a two-letter code such as en or de")
    return code


def _table(name: str) -> str:
    if name not in Base.metadata.tables:
        raise ValueError(f"{name!r} is not a table of the operational schema")
    return name


Entry = Annotated[str, AfterValidator(_compiles)]
Language = Annotated[str, AfterValidator(_language)]
Table = Annotated[str, AfterValidator(_table)]
Words = dict[Language, list[Entry]]
"""Entries by language: {"en": ["orders?", ...], "de": [...]}."""


class RoutingVocabulary(BaseModel):
    """The file, as written; see the packaged `vocabulary.yaml` for what each part means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    own: Words = Field(description="Words by which a person calls records their own.")
    instruments: Words = Field(
        default_factory=dict,
        description="Everyday names of instruments; their symbols come from the platform.",
    )
    tables: dict[Table, Words] = Field(description="Per table, the words that name its records.")
    actions: dict[Table, Words] = Field(description="Per table, the verbs of tools that write it.")
    self_disclosure: Words = Field(description="Patterns: the speaker's own circumstances.")
    customer_ids: Words = Field(description="Patterns: a particular customer or record named.")
    firm_figures: Words = Field(description="Patterns: the firm's own business figures.")


def load_routing_vocabulary(path: Path | None = None) -> RoutingVocabulary:
    """Read and check a vocabulary file; `None` reads the packaged one. Raises
    `RoutingVocabularyError` naming the file and the entry at fault.

    >>> import tempfile
    >>> text = PACKAGED_VOCABULARY.read_text(encoding="utf-8")
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
    ...     _ = f.write(text.replace("  orders:", "  ordres:", 1))
    ...     f.flush()
    ...     load_routing_vocabulary(Path(f.name))
    Traceback (most recent call last):
    ...
    agents.routing.vocabulary.RoutingVocabularyError: ...: tables.ordres: 'ordres' is not a table of the operational schema
    """  # noqa: E501
    path = PACKAGED_VOCABULARY if path is None else Path(path)
    shape = "a mapping with `own`, `tables`, `actions` and the other sections"
    return read_yaml_model(
        path, RoutingVocabulary, RoutingVocabularyError, "routing vocabulary", shape
    )
