"""The routing vocabulary's cues, compiled: which kinds of request a text reads as, and the
signals its complexity is judged by.

The cues are data an operator edits (the `query_types`, `fragments`, `definition` and
`complexity` sections of `agents/routing/vocabulary.yaml`), per language;
`agents.routing.rules` weighs what they find against the data a text names and the evidence of
the document index. Each cue's patterns, and each signal's, in every language, are compiled into
one alternation, with the instruments the platform lists where a pattern says `<instrument>`.

>>> from agents.routing.vocabulary import load_routing_vocabulary
>>> cues = QueryCues(load_routing_vocabulary(), instruments=r"\\b(?:aapl)\\b")
>>> [(cue.type.value, why) for cue, why in cues.matches("cancel my order 42")]
[('action', 'starts with an instruction (cancel)'), ('sql', 'names a particular record')]
>>> cues.is_small_talk("thanks!"), cues.asks_definition("what is a stop order?")
(True, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agents.routing.vocabulary import QueryCue, RoutingVocabulary

_NEVER = "(?!)"


class QueryCues:
    def __init__(self, vocabulary: RoutingVocabulary, instruments: str):
        def compiled(patterns: list[str]) -> re.Pattern[str]:
            written = [vocabulary.expand(p, instruments) for p in patterns]
            return re.compile("|".join(f"(?:{p})" for p in written) or _NEVER)

        self.cues = tuple((cue, compiled(_all(cue))) for cue in vocabulary.query_types)
        self._small_talk = compiled(
            [p for cue in vocabulary.query_types if cue.small_talk for p in _all(cue)]
        )
        self._definition = compiled([p for ps in vocabulary.definition.values() for p in ps])
        self.signals = {
            name: compiled([p for ps in words.values() for p in ps])
            for name, words in vocabulary.complexity.model_dump().items()
        }
        """The complexity signals (`aggregates`, `condition`, ...), each one pattern."""

    def matches(self, text: str) -> Iterator[tuple[QueryCue, str]]:
        """Each cue that matches the (normalised) text, with its reason: "{0}" in `why`
        replaced by the first group the pattern captured."""
        for cue, pattern in self.cues:
            match = pattern.search(text)
            if match:
                groups = [g for g in match.groups() if g]
                yield cue, cue.why.format(groups[0]) if groups and "{0}" in cue.why else cue.why

    def is_small_talk(self, text: str) -> bool:
        """A greeting, thanks or goodbye (the cues marked `small_talk`)."""
        return self._small_talk.search(text) is not None

    def asks_definition(self, text: str) -> bool:
        """The text asks what a term means."""
        return self._definition.search(text) is not None


def _all(cue: QueryCue) -> list[str]:
    return [p for language in cue.patterns.values() for p in language]
