"""Does a question name something the passages never mention? Then they cannot answer it.

The small model answers nearly every question whose topic the passages touch, also the ones
they do not answer: asked which stablecoins can be deposited, it lists the crypto assets of the
fee schedule. Such questions usually carry the word that gives them away ("stablecoins",
"staking", "fractional"), a word no passage uses. So before the model is asked, each word of
the question that is rare in everyday language (below `RARE_ZIPF` on wordfreq's Zipf scale, in
every language of `LANGUAGES`) must appear in a passage shown, in its heading path, or as the
initials of its words ("MLRO" for Money Laundering Reporting Officer), or among the words the
caller adds as held (the names of the currencies whose codes the passages write,
`agents.rag.currencies`); `related` allows inflections and derivations (rejected, rejection).
Everyday words ("how much", "get", "cost") are left to the model: their absence says nothing.
A question in another language than the passages (judged by whose everyday words most of its
words are) is not checked. The search ranks by these words (BM25 weighs rare words most), so
a rare word held by any passage the caller may read is in the passages shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from os.path import commonprefix

from wordfreq import zipf_frequency

from services.words import same_word, words

LANGUAGES = ("en", "de", "fr", "es")  # the languages the platform's customers write in
RARE_ZIPF = 3.5  # about once in 300,000 words; "leverage" is 3.9, "stablecoins" 1.4
MAX_INITIALS = 6  # the longest run of words an acronym may stand for
MIN_STEM = 5  # letters two words must share to count as one word's derivations


def related(a: str, b: str) -> bool:
    """One word, inflected or derived: `same_word`, or a shared stem of five letters or more
    that leaves at most two letters of the shorter word and four of the longer (a suffix,
    not a second word). Looser than the semantic model's test: here a false match only lets
    the model try.

    >>> [related(a, b) for a, b in [("rejection", "rejected"), ("custodian", "custody"),
    ...     ("stablecoins", "stable"), ("fees", "fee")]]
    [True, True, False, True]
    """
    short, long = sorted((a, b), key=len)
    stem = len(commonprefix([a, b]))
    suffix = stem >= MIN_STEM and len(short) - stem <= 2 and len(long) - stem <= 4
    return suffix or same_word(a, b)


@lru_cache(maxsize=65536)
def _everyday(word: str, lang: str) -> bool:
    return zipf_frequency(word, lang, wordlist="small") >= RARE_ZIPF


def rare(word: str) -> bool:
    """Rare in every language of `LANGUAGES` and not a number.

    >>> [rare(w) for w in ["stablecoins", "much", "gebühren", "2026"]]
    [True, False, False, False]
    """
    if any(ch.isdigit() for ch in word):
        return False
    return not any(_everyday(word, lang) for lang in LANGUAGES)


def language(text_words: list[str]) -> str:
    """The language of `LANGUAGES` in whose everyday words most of `text_words` are.

    >>> language(["welche", "gebühren", "kann", "ich", "sehen"]), language(["which", "fees"])
    ('de', 'en')
    """
    counts = {lang: sum(_everyday(w, lang) for w in text_words) for lang in LANGUAGES}
    return max(LANGUAGES, key=lambda lang: counts[lang])


def _initials(text_words: list[str]) -> set[str]:
    return {
        "".join(w[0] for w in text_words[i : i + n])
        for n in range(2, MAX_INITIALS + 1)
        for i in range(len(text_words) - n + 1)
    }


def unknown_words(question: str, passages: Iterable[str], named: Iterable[str] = ()) -> list[str]:
    """The question's rare words that no passage holds, in the question's order.

    >>> shown = ["The Money Laundering Reporting Officer decides within 7 days.",
    ...     "Crypto deposits: BTC and ETH only."]
    >>> unknown_words("Which stablecoins can I deposit?", shown)
    ['stablecoins']
    >>> unknown_words("When does the MLRO decide? Which cryptos?", shown)
    []
    >>> unknown_words("Welche Stablecoins kann ich einzahlen?", shown)  # no common language
    []
    >>> unknown_words("Which stablecoins can I deposit?", shown, named=["stablecoins"])
    []
    """
    held: set[str] = set()
    initials: set[str] = set()
    for text in passages:
        text_words = words(text)
        held.update(text_words)
        initials |= _initials(text_words)
    asked = list(dict.fromkeys(words(question)))
    if language(asked) != language(list(held)):
        return []  # asked in another language than the passages': their words cannot meet
    held.update(named)
    missing = []
    for word in asked:
        if not rare(word) or word in held or word in initials:
            continue
        if not any(related(word, other) for other in held):
            missing.append(word)
    return missing
