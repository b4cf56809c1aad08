"""Which of the semantic model's row sets and measures a question names, by their declared words.

A name is mentioned when every word of it (underscores read as spaces) or of one of its
synonyms stands in the question, close together and in any order, allowing the small
inflections of `same_word` ("customer" for customers, "Kunde" for Kunden). The words are the
operator's, in whatever languages the file lists; the code knows no language. When two mentions
share a word of the question the one of more words wins, so "filled orders" names
`filled_orders`, not the `fills` its first word would also name.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from services.semantic.model import Cube, Measure, Segment, SemanticModel
from services.words import same_word, words

SPAN_SLACK = 2  # other words allowed between a term's words ("orders that are open")


@dataclass(frozen=True)
class Mention:
    name: str
    cube: Cube
    segment: Segment | None = None  # a segment of `cube`; None with neither: the cube itself
    measure: Measure | None = None
    at: frozenset[int] = frozenset()  # the positions of the question's words it matched


@dataclass(frozen=True)
class _Term:
    words: tuple[str, ...]
    mention: Mention


def _span(term: tuple[str, ...], question: list[str]) -> frozenset[int] | None:
    """The positions of the question's words that match `term`'s, closest together; None when
    a word is missing or they lie further apart than the term's length and `SPAN_SLACK`."""
    places = [[i for i, w in enumerate(question) if same_word(t, w)] for t in term]
    spans = [frozenset(chosen) for chosen in itertools.product(*places)]
    close = [at for at in spans if len(at) == len(term) and _width(at) < len(term) + SPAN_SLACK]
    return min(close, key=_width, default=None)


def _width(at: frozenset[int]) -> int:
    return max(at) - min(at)


class MentionFinder:
    """The row sets and measures of one semantic model a question names.

    >>> from services.semantic.loader import load_semantic_model
    >>> finder = MentionFinder(load_semantic_model())
    >>> [m.name for m in finder.find("How many of my filled orders were buys?")]
    ['filled_orders']
    >>> [m.name for m in finder.find("Wie viele Kunden haben offene Orders?")]
    ['customers', 'open_orders']
    """

    def __init__(self, model: SemanticModel):
        """Every name's words and every synonym's, longest first (the order `find` claims
        the question's words in)."""
        terms: list[_Term] = []
        for cube in model.cubes:
            named: list[tuple[Mention, list[str]]] = [
                (Mention(s.name, cube, segment=s), s.meta.synonyms) for s in cube.segments
            ]
            named += [(Mention(m.name, cube, measure=m), m.meta.synonyms) for m in cube.measures]
            if cube.sql is not None:
                named.append((Mention(cube.name, cube), cube.meta.synonyms))
            for mention, synonyms in named:
                for text in [mention.name, *synonyms]:
                    if term := tuple(words(text)):
                        terms.append(_Term(term, mention))
        self.terms = sorted(terms, key=lambda t: -len(t.words))

    def find(self, question: str) -> list[Mention]:
        """The names the question mentions, each once, in the order it names them."""
        asked = words(question)
        taken: set[int] = set()
        found: dict[str, Mention] = {}
        for term in self.terms:
            at = _span(term.words, asked)
            if at is None or at & taken or term.mention.name in found:
                continue
            taken |= at
            found[term.mention.name] = replace(term.mention, at=at)
        return sorted(found.values(), key=lambda m: min(m.at))
