"""Currencies as documents write them and as people name them.

A rate card writes ISO 4217 codes ("EUR/HUF 0.90%"); a customer asks about "Hungarian forint",
"lira" or "forint hongrois". Neither the search (BM25 meets no word; an embedding reads little
into a code) nor the check for words no passage holds (`agents.rag.subject_check`) links the
two on its own. So the search also looks for the codes a question names, and the check counts
the names of the codes a passage writes as held. The names come from the Unicode CLDR through
Babel, in each language of `subject_check.LANGUAGES`: no list is kept here.
"""

from __future__ import annotations

import re
from functools import cache

from babel import Locale
from babel.numbers import get_territory_currencies

from agents.rag.subject_check import LANGUAGES, rare
from services.words import same_word, words

_CODE = re.compile(r"\b[A-Z]{3}\b")  # how documents write an ISO 4217 currency: EUR/HUF
MAX_SHARED = 3  # the most currencies a rare word may name at once ("zloty" names one)


@cache
def _names() -> dict[str, tuple[frozenset[str], ...]]:
    """ISO 4217 code -> the words of each of its names, one name per language; the currencies
    legal tender somewhere today (not the Italian lira, which would make "lira" ambiguous)."""
    locales = [Locale.parse(lang) for lang in LANGUAGES]
    current = {
        code for territory in locales[0].territories for code in get_territory_currencies(territory)
    }
    found = {}
    for code in sorted(current):
        named = {frozenset(words(locale.currencies.get(code, ""))) for locale in locales}
        found[code] = tuple(n for n in named if n)
    return found


@cache
def _owners() -> dict[str, frozenset[str]]:
    """Name word -> the codes with a name holding it."""
    owners: dict[str, set[str]] = {}
    for code, names in _names().items():
        for word in set().union(*names):
            owners.setdefault(word, set()).add(code)
    return {word: frozenset(codes) for word, codes in owners.items()}


@cache
def _by_start() -> dict[str, tuple[str, ...]]:
    """Name words by their first two letters, which any inflection of them shares."""
    starts: dict[str, list[str]] = {}
    for word in _owners():
        starts.setdefault(word[:2], []).append(word)
    return {start: tuple(found) for start, found in starts.items()}


def names_written(text: str) -> set[str]:
    """The words of the names of the currencies whose codes `text` writes.

    >>> sorted(names_written("EUR/HUF: 0.90% spread"))
    ['euro', 'forint', 'forinto', 'hongrois', 'hungarian', 'húngaro', 'ungarischer']
    >>> sorted(names_written("TRY AGAIN")), names_written("try again")
    (['lira', 'livre', 'turca', 'turkish', 'turque', 'türkische'], set())
    """
    names = _names()
    return {w for code in codes_written(text) for name in names[code] for w in name}


def codes_written(text: str) -> set[str]:
    """The codes of today's currencies that `text` writes.

    >>> sorted(codes_written("EUR/HUF, or TRY the ABC")), codes_written("try euros")
    (['EUR', 'HUF', 'TRY'], set())
    """
    return set(_CODE.findall(text)) & _names().keys()


def codes_named(text: str) -> list[str]:
    """The codes of the currencies `text` names, sorted: by every word of a name, inflected or
    not ("US dollars", "euros"), or by one rare word that at most `MAX_SHARED` currencies'
    names hold ("forint", "lira"; "dollar" alone names a dozen, "real" is an everyday word).

    >>> codes_named("Changing euros into Hungarian forint?")
    ['EUR', 'HUF']
    >>> codes_named("How many dollars? Is that real?")
    []
    >>> codes_named("Fees in US dollars")
    ['USD']
    """
    asked = set(words(text))
    owners, names = _owners(), _names()
    starts = _by_start()
    said = {w for a in asked for w in starts.get(a[:2], ()) if same_word(w, a)}
    found = set()
    for code in set().union(*(owners[w] for w in said)):
        for name in names[code]:
            if name <= said or any(
                w in asked and rare(w) and len(owners[w]) <= MAX_SHARED for w in name
            ):
                found.add(code)
    return sorted(found)
