"""How sensitive a request is: personal and payment data in its text, and the data it touches.

The router labels a request with the highest sensitivity any of these rules gives it. The label
decides where it may be processed (confidential never leaves for a cloud provider), so every
rule errs on the side of confidential: an unknown table or document counts as confidential.

| what the request does | sensitivity |
|---|---|
| its text holds personal or payment data (`find_personal_data`: e-mail address, phone number, card number passing the Luhn check, IBAN passing its mod-97 check, crypto wallet address, national id, date of birth, age, a card named by its last four digits) | confidential |
| touches a user-owned table: `users`, `trading_accounts`, `orders`, `transactions`, `positions`, `payments`, `subscriptions`, `kyc_verifications`, `notifications` | confidential |
| touches `audit_log` (who did what) or `sql_examples` (questions users typed) | confidential |
| touches `market_prices` | public |
| touches `documents`, `document_versions` or `document_chunks` (the firm's documents, internal ones included) | internal |
| its document evidence points at public documents (`agents.routing.evidence`) | public |
| its document evidence points at internal documents (staff only; a customer's search never finds them) | internal |
| its document evidence points at restricted documents (named roles or users only) | confidential |
| names a particular customer or record ("user 42", "order #17") | confidential |
| a customer speaks of their own affairs: a possessive anywhere ("my ...", "meine ...", "mes ...", "mis ..."), or their circumstances ("I bought at 60k", "I only trade monthly") | confidential |
| staff speak of the firm's own business figures ("our volumes") | internal |
| staff speak in the first person ("what should I tell a customer") | no effect: they speak for the firm |
| an action (a tool that trades, pays, notifies, verifies or changes a profile) | confidential, from the tables the tool writes |
| small talk, general knowledge, reasoning on public facts only | public |
| anything else: a table this module does not know | confidential |

Which tables a request touches, whose records it calls its own, whether it names a customer or
discloses the speaker's circumstances: the words for these are the routing vocabulary
(`agents/routing/vocabulary.yaml`, in English, German, French and Spanish, which an operator
edits; compiled by `agents.routing.sources`), not this module. A document's sensitivity is its
visibility, read from the index the moment the request is routed, so a document ingested a
minute ago counts like the rest. The table list mirrors `services/db/models/` (a unit test
keeps them in step).

Wallet addresses are matched on their format alone, without their checksums: a mistyped
address is still somebody's address. Card numbers and IBANs do need their check digits, so an
order id or an account number of the same length is not taken for one.

>>> [f.kind for f in find_personal_data("mail me at ann@example.com or call +44 20 7946 0958")]
['email address', 'phone number']
>>> sources_sensitivity(tables=["market_prices"], visibilities=[Visibility.INTERNAL])
<Sensitivity.INTERNAL: 'internal'>
"""  # noqa: E501

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from retrieval.chunks import Visibility
from services.llm.privacy import Sensitivity

_ORDER = (Sensitivity.PUBLIC, Sensitivity.INTERNAL, Sensitivity.CONFIDENTIAL)

TABLE_SENSITIVITY: dict[str, Sensitivity] = {
    "users": Sensitivity.CONFIDENTIAL,
    "trading_accounts": Sensitivity.CONFIDENTIAL,
    "orders": Sensitivity.CONFIDENTIAL,
    "transactions": Sensitivity.CONFIDENTIAL,
    "positions": Sensitivity.CONFIDENTIAL,
    "payments": Sensitivity.CONFIDENTIAL,
    "subscriptions": Sensitivity.CONFIDENTIAL,
    "kyc_verifications": Sensitivity.CONFIDENTIAL,
    "notifications": Sensitivity.CONFIDENTIAL,
    "notification_preferences": Sensitivity.CONFIDENTIAL,
    "notification_events": Sensitivity.CONFIDENTIAL,
    "price_alerts": Sensitivity.CONFIDENTIAL,
    "outbox_events": Sensitivity.CONFIDENTIAL,
    "processed_events": Sensitivity.CONFIDENTIAL,
    "audit_log": Sensitivity.CONFIDENTIAL,
    "sql_examples": Sensitivity.CONFIDENTIAL,
    "sql_example_reviews": Sensitivity.CONFIDENTIAL,
    "market_prices": Sensitivity.PUBLIC,
    "quotes": Sensitivity.PUBLIC,
    "price_bars": Sensitivity.PUBLIC,
    "instruments": Sensitivity.PUBLIC,
    "documents": Sensitivity.INTERNAL,
    "document_versions": Sensitivity.INTERNAL,
    "document_chunks": Sensitivity.INTERNAL,
    "api_keys": Sensitivity.CONFIDENTIAL,
    "user_passwords": Sensitivity.CONFIDENTIAL,
    # payments (services/payments): customers' Stripe ids, refunds, the webhook's event ids
    "stripe_customers": Sensitivity.CONFIDENTIAL,
    "refunds": Sensitivity.CONFIDENTIAL,
    "stripe_events": Sensitivity.CONFIDENTIAL,
}
"""Every table of the operational schema; see the module docstring."""

VISIBILITY_SENSITIVITY: dict[Visibility, Sensitivity] = {
    Visibility.PUBLIC: Sensitivity.PUBLIC,
    Visibility.INTERNAL: Sensitivity.INTERNAL,
    Visibility.RESTRICTED: Sensitivity.CONFIDENTIAL,
}
"""A document's visibility as a sensitivity: a restricted document is kept for named roles or
users, which may be one customer's, so it counts as theirs."""


def highest(levels: Iterable[Sensitivity]) -> Sensitivity:
    """The most sensitive of `levels`; public when there are none.

    >>> highest([Sensitivity.INTERNAL, Sensitivity.PUBLIC])
    <Sensitivity.INTERNAL: 'internal'>
    >>> highest([])
    <Sensitivity.PUBLIC: 'public'>
    """
    return max(levels, key=_ORDER.index, default=Sensitivity.PUBLIC)


def sources_sensitivity(
    tables: Iterable[str] = (), visibilities: Iterable[Visibility] = ()
) -> Sensitivity:
    """The sensitivity of the data a request reads or writes: its tables (unknown names are
    confidential) and the visibility of the documents it reads.

    >>> sources_sensitivity(tables=["orders", "market_prices"])
    <Sensitivity.CONFIDENTIAL: 'confidential'>
    >>> sources_sensitivity(visibilities=["public"]), sources_sensitivity(tables=["wallets"])
    (<Sensitivity.PUBLIC: 'public'>, <Sensitivity.CONFIDENTIAL: 'confidential'>)
    """
    levels = [TABLE_SENSITIVITY.get(t, Sensitivity.CONFIDENTIAL) for t in tables]
    levels += [VISIBILITY_SENSITIVITY[Visibility(v)] for v in visibilities]
    return highest(levels)


# -- detectors of personal and payment data --------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """A piece of personal data in a text: what kind, and where (the value is not copied, so a
    finding can be logged)."""

    kind: str
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """The check digit card numbers carry.

    >>> luhn_valid("4242424242424242"), luhn_valid("4242424242424241")
    (True, False)
    """
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616's mod-97 check.

    >>> iban_valid("GB82 WEST 1234 5698 7654 32"), iban_valid("GB82 WEST 1234 5698 7654 33")
    (True, False)
    """
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_CARD = re.compile(r"(?<!\w)(?<!\d\.)\d(?:[ -]?\d){12,18}(?!\w|\.\d)")
_CARD_LAST4 = re.compile(r"\bcard\s+(?:number\s+)?(?:ending|ends)\s+(?:in|with)?\s*\d{4}\b", re.I)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", re.I)
_ETH = re.compile(r"\b0x[0-9a-f]{40}\b", re.I)
_BECH32 = re.compile(r"\b(?:bc|tb)1[ac-hj-np-z02-9]{11,71}\b")
_BASE58 = re.compile(r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b")
_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_ID_NUMBER = re.compile(
    r"\b(?:passport|national id|id card|identity card|social security|ssn|tax id|tin|"
    r"driving licen[cs]e|driver'?s license)(?:\s+(?:number|no\.?|#))?\s*(?:is|:)?\s*"
    r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{5,}\b",
    re.I,
)
_DATE = (
    r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|\d{1,2}(?:st|nd|rd|th)? \w+ \d{4}|\w+ \d{1,2},? \d{4})"
)
_BIRTH = re.compile(
    rf"\b(?:born(?:\s+on)?|date of birth(?:\s+is)?|d\.?o\.?b\.?|birthday(?:\s+is)?)\s*:?\s*{_DATE}",
    re.I,
)
_AGE = re.compile(
    r"\b(?:at (?:the )?age (?:of )?\d{1,3}|aged \d{1,3}|\d{1,3} years? old)"
    r"|\bi(?:'?m| am) \d{1,2}(?!\d|%|[.,]\d| ?k\b)",
    re.I,
)
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)\d[\d ().-]{6,18}\d(?!\d)"  # international: +44 20 7946 0958
    r"|(?<!\d)\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)"  # North American: (555) 123-4567
    r"|(?<!\d)0\d{3,4} ?\d{6,7}(?!\d)"  # national trunk prefix: 07700 900123
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _base58_address(text: str) -> bool:
    return any(c.isdigit() for c in text[1:]) and any(c.isalpha() for c in text)


def find_personal_data(text: str) -> list[Finding]:
    """Personal and payment data in `text`, in order of position; overlapping matches keep the
    first kind found (a card number is not also a phone number).

    >>> kinds = lambda t: [f.kind for f in find_personal_data(t)]
    >>> kinds("refund to card 4242 4242 4242 4242"), kinds("cancel order 4242424242424241")
    (['card number'], [])
    >>> kinds("wire it to DE89 3704 0044 0532 0130 00 please")
    ['IBAN']
    >>> kinds("send 0.1 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
    ['crypto wallet address']
    >>> kinds("my SSN is 123-45-6789, born on 1990-04-12")
    ['national id', 'date of birth']
    >>> kinds("passport number X1234567"), kinds("the card ending in 4242 was declined")
    (['national id'], ['card number (last four digits)'])
    >>> kinds("how should I invest at age 30?"), kinds("I'm 50% in BTC")
    (['age'], [])
    >>> kinds("Buy 0.1 BTC at 64000 on 2025-03-01 for order 42")
    []
    """
    found: list[Finding] = []

    def add(kind: str, match: re.Match[str]) -> None:
        if not any(f.start < match.end() and match.start() < f.end for f in found):
            found.append(Finding(kind, match.start(), match.end()))

    for match in _EMAIL.finditer(text):
        add("email address", match)
    for match in _CARD.finditer(text):
        if luhn_valid(_digits(match.group())):
            add("card number", match)
    for match in _CARD_LAST4.finditer(text):
        add("card number (last four digits)", match)
    for match in _IBAN.finditer(text):
        if iban_valid(match.group()):
            add("IBAN", match)
    for pattern in (_ETH, _BECH32):
        for match in pattern.finditer(text):
            add("crypto wallet address", match)
    for match in _BASE58.finditer(text):
        if _base58_address(match.group()):
            add("crypto wallet address", match)
    for pattern in (_SSN, _NINO, _ID_NUMBER):
        for match in pattern.finditer(text):
            add("national id", match)
    for match in _BIRTH.finditer(text):
        add("date of birth", match)
    for match in _AGE.finditer(text):
        add("age", match)
    for match in _PHONE.finditer(text):
        if 8 <= len(_digits(match.group())) <= 15:
            add("phone number", match)
    return sorted(found, key=lambda f: f.start)
