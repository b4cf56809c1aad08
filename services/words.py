"""Words of a text, and whether two words are one word inflected: shared by the semantic model's
search for the names a question mentions and the document agent's check for words no passage
holds. Unicode word characters, no language's rules.
"""

from __future__ import annotations

import os
import re

WORD = re.compile(r"\w+")
STEM_SHARE = 0.8  # of the longer word, for words that differ past a shared stem


def words(text: str) -> list[str]:
    """The lower-cased words, underscores read as spaces (`open_orders` is two words).

    >>> words("Open_orders für Kunden?")
    ['open', 'orders', 'für', 'kunden']
    """
    return WORD.findall(text.replace("_", " ").lower())


def same_word(a: str, b: str) -> bool:
    """Equal; or one is the other with at most two letters added (fee, fees; order, orders);
    or they share a stem of 80% of the longer (Kunde, Kunden; unrealised, unrealized does not).

    >>> [same_word(a, b) for a, b in [("fee", "fees"), ("customers", "customer"),
    ...     ("trades", "traders"), ("filled", "fills"), ("order", "ordres")]]
    [True, True, False, False, False]
    """
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if long.startswith(short) and len(long) - len(short) <= 2 and len(short) >= 3:
        return True
    return len(os.path.commonprefix([a, b])) >= STEM_SHARE * len(long)
