"""The words BM25 matches on: lower-cased, stop words dropped, plurals folded.

bm25s's own tokenizer keeps a vocabulary per corpus and no stemmer ships here (PyStemmer is not
installed), so this small tokenizer is shared by indexing and querying: the same function on
both sides is what makes the terms meet. Folding plurals matters on policy text, where a question
says "fee" and the schedule says "fees".
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

STOP_WORDS = frozenset(STOPWORDS_EN_PLUS) | {"does", "can", "much", "many", "long"}
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")


def fold(word: str) -> str:
    """A crude English plural fold: enough for BM25 to match "fees" with "fee".

    >>> [fold(w) for w in ("fees", "policies", "withdrawals", "status", "business", "ids")]
    ['fee', 'policy', 'withdrawal', 'status', 'business', 'id']
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """
    >>> terms("How much does an international wire withdrawal cost? $25.00 each.")
    ['international', 'wire', 'withdrawal', 'cost', '25.00']
    """
    words = _WORD.findall(text.lower())
    return [fold(w) for w in words if w not in STOP_WORDS]
