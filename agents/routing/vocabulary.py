"""The routing vocabulary: the words, in each language, that tell the router what data a request
touches and what kind of request it is, read from a YAML file an operator edits
(`vocabulary.yaml` beside this module, or the file the `ROUTING_VOCABULARY_FILE` setting names).

Most of it decides sensitivity: which table's records a request names, which the
caller calls their own ("my orders", "meine Aufträge", "mes ordres", "mis órdenes"), which
tables a request to act would write, whether a customer speaks of their own circumstances or
a particular customer is named, and whether staff speak of the firm's figures. Its query-type
cues say what kind of request a text is, its complexity signals how much work a part is
(`agents.routing.cues` compiles both). The format is
documented in the packaged file and in `agents/routing/ROUTING.md`; `agents.routing.sources`
compiles the rest, with the instruments the platform lists, for the router.

A file is checked when it is loaded: every entry must compile as a regular expression, hold no
capturing group and not match the empty text, and every table it names must be a table of the
operational schema; a cue's patterns must compile with their fragments put in, and name only
fragments the file defines. A file that fails refuses to load, with a message naming the file
and the entry.

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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from agents.routing.labels import QueryType
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


INSTRUMENT = "instrument"
"""The fragment name that stands for the instruments the platform lists (`<instrument>`)."""
_FRAGMENT = re.compile(r"<([a-z_]+)>")


class QueryCue(BaseModel):
    """One cue of a query type: patterns that, matched, add `weight` to the type's score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: QueryType
    weight: float = Field(gt=0)
    why: str = Field(min_length=1, description='Shown in the decision; "{0}": the first group.')
    small_talk: bool = Field(False, description="A greeting or thanks, set aside beside a request.")
    patterns: dict[Language, list[str]] = Field(min_length=1)


class ComplexitySignals(BaseModel):
    """The patterns of each signal the complexity rules weigh (`agents.routing.rules`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    aggregates: Words = Field(description="Grouping, ranking, totals; each distinct one counts.")
    multi_step: Words = Field(description="Period over period, running totals, cohorts.")
    comparison: Words = Field(description="Two rules or options compared.")
    condition: Words = Field(description="A rule applied under a condition.")
    action_condition: Words = Field(description="An action that is conditional or recurring.")
    factors: Words = Field(description="Circumstances the advice must weigh.")
    reasoning_topics: Words = Field(description="Risk, strategy, horizon; each distinct counts.")


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
    fragments: dict[str, list[str]] = Field(
        default_factory=dict, description="Named parts of cue patterns: `<name>` in a cue."
    )
    query_types: list[QueryCue] = Field(description="Cues of each kind of request.")
    definition: Words = Field(description="Patterns: the text asks what a term means.")
    complexity: ComplexitySignals

    def expand(self, pattern: str, instruments: str) -> str:
        """A cue's pattern with each `<fragment>` written out, `<instrument>` as `instruments`.

        >>> load_routing_vocabulary().expand("(<price_words>) of <instrument>", "aapl")
        '((?:price|priced|trading at|close|closing|open(?:ing)?|high|low|volume|quote|worth)) of aapl'
        """  # noqa: E501

        def written(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == INSTRUMENT:
                return instruments
            known = self.fragments.get(name)
            return f"(?:{'|'.join(known)})" if known is not None else match.group(0)

        return _FRAGMENT.sub(written, pattern)

    @model_validator(mode="after")
    def _cues_compile(self) -> RoutingVocabulary:
        for number, cue in enumerate(self.query_types):
            for language, patterns in cue.patterns.items():
                for index, pattern in enumerate(patterns):
                    place = f"query_types[{number}].patterns.{language}[{index}]"
                    unknown = set(_FRAGMENT.findall(pattern)) - {*self.fragments, INSTRUMENT}
                    if unknown:
                        raise ValueError(f"{place}: no fragment named {', '.join(sorted(unknown))}")
                    try:
                        compiled = re.compile(self.expand(pattern, "x"))
                    except re.error as exc:
                        raise ValueError(f"{place}: {pattern!r} does not compile: {exc}") from None
                    if compiled.fullmatch(""):
                        raise ValueError(f"{place}: {pattern!r} matches the empty text")
        return self


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
