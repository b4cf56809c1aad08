"""What data a request would touch: the tables and the caller's own records its words point at.
`agents.routing.sensitivity` turns these into a sensitivity.

These are sensitivity rules, not routing: which *documents* a request reads is measured on the
index itself (`agents.routing.evidence`), so no list of document topics is kept here. The table
vocabulary comes from the schema (`services/db/models/`: table and column comments), not from
any test set. It is deliberately generous: naming a table that a question does not need only
keeps it on the local model; missing one could send customer data to the cloud.

>>> sorted(tables_named("how many open orders do i have on my margin account?"))
['orders', 'trading_accounts']
>>> own_records("what is my btc position?")
['positions']
"""

from __future__ import annotations

import re

from agents.routing.labels import QueryType

_T = "trading_accounts"

# word or phrase -> table; matched on lowercased text
TABLE_WORDS: tuple[tuple[str, str], ...] = (
    (
        r"balances?|cash|buying power|accounts?|account number|equity|net worth|margin loans?|"
        r"loans?|borrow\w*|debt",
        _T,
    ),
    (r"orders?|limit (?:buy|sell)|stop (?:buy|sell)|open trades?", "orders"),
    (
        r"positions?|holdings?|holding|hold|portfolio|shares|coins|exposure|allocation|"
        r"(?:btc|eth|sol|bitcoin|ether|ethereum|solana|crypto|stocks?)\s+(?:position|stack|bag)",
        "positions",
    ),
    (
        r"transactions?|trades?|traded|trading activity|fills?|filled|executions?|dividends?|"
        r"ledger|history|statements?|p&l|pnl|profits?|loss(?:es)?|gains?|returns?|"
        r"realised|realized|fees? (?:i|we|they|he|she) (?:paid|was charged)|fees paid|"
        r"paid in fees|charged",
        "transactions",
    ),
    (
        r"payments?|paid|deposits?|deposited|withdrawals?|withdrew|withdrawn|refunds?|"
        r"refunded|cards?|top[- ]?ups?|payouts?|chargebacks?|bank details|iban|wire",
        "payments",
    ),
    (r"subscriptions?|subscribed|plan|renewal|renews?|billing|past due|trial", "subscriptions"),
    (
        r"kyc|verification|verified|verify|identity|id check|due diligence status|"
        r"onboarding status",
        "kyc_verifications",
    ),
    (
        r"notifications?|alerts?|reminders?|messages?|emails? (?:we|you) sent|sms|push",
        "notifications",
    ),
    (
        r"users?|customers?|clients?|sign[- ]?ups?|signed up|registered|email address|"
        r"e-mail|phone|address|date of birth|birthday|profile|tier|vip|gold tier|nationality|"
        r"country|login|password|locked",
        "users",
    ),
    (
        r"prices?|priced|quotes?|close|closing|opening|open price|high|low|volume|ohlc|"
        r"candles?|market data|trading at|worth|rall(?:y|ied)|dropp?(?:ed)?|volatil\w+",
        "market_prices",
    ),
    (r"audit(?: log| trail)?|who (?:ran|changed|approved|did)", "audit_log"),
    (r"sql examples?|verified (?:questions|queries)", "sql_examples"),
    (r"documents? (?:list|library)|which documents|document versions?", "documents"),
)

# instruments the platform lists (services/demo_data/market.py) and their everyday names
TICKERS = re.compile(
    r"\b(?:btc|eth|sol|btcusd|ethusd|solusd|bitcoin|ether|ethereum|solana|spy|aapl|apple|ibm|"
    r"msft|microsoft|nvda|nvidia|tsla|tesla)\b"
)

# verbs of actions -> the tables the tool behind them writes
ACTION_WORDS: tuple[tuple[str, str], ...] = (
    (r"buy|sell|short|place|trade|close (?:my|the|a|out)? ?position", "orders"),
    (r"cancel (?:my |the |an |that )?(?:\w+ )?order|amend|modify (?:my |the )?order", "orders"),
    (r"withdraw|deposit|transfer|top up|pay|refund|wire|fund", "payments"),
    (
        r"notify|remind|alert|send me|email me|text me|message me|ping me|let me know",
        "notifications",
    ),
    (
        r"verify|kyc|verification|resubmit|re-?verify|approve|reject|id document",
        "kyc_verifications",
    ),
    (r"subscribe|unsubscribe|upgrade|downgrade|renew|subscription|plan", "subscriptions"),
    (
        r"update|change|reset|lock|unlock|close (?:my|the|this|an) account|delete my|"
        r"email|phone|address|password|profile|freeze|suspend|reactivate",
        "users",
    ),
    (r"upload|publish|reindex|re-index|ingest|replace the|new version|archive", "documents"),
)

# "my X": the caller's own records; X is looked for in the few words after "my"
OWN_WINDOW = 4
_POSSESSIVE = re.compile(r"\b(?:my|mine)\b")
SELF_DISCLOSURE = re.compile(
    # a statement about one's habits: "I only trade once a month", "I usually hold"
    r"(?<!\bdo )(?<!\bcan )(?<!\bhow )(?<!\bshould )(?<!\bwould )(?<!\bcould )(?<!\bwill )"
    r"(?<!\bmay )(?<!\bmust )\bi (?:only|just|also|still|already|mostly|usually|often|rarely|"
    r"never|always|currently|mainly|normally) (?:trade|invest|hold|own|have|earn|make|buy|sell|"
    r"deposit|withdraw|use|keep|pay|spend)\b|"
    r"\b(?:i|i've|i'd)\s+(?:have|hold|own|bought|sold|paid|deposited|withdrew|traded|"
    r"received|made|lost|spent|sent|placed|opened|closed|got|earned|invested|owe|"
    r"am \d+|live|was born|earn|work)\b|\b(?:did|have|was) i\b|\bdo i (?:have|hold|own|owe)\b|"
    r"\bi'm (?:\d+|a resident|based|from|living)\b"
)
CUSTOMER_ID = re.compile(
    r"\b(?:user|customer|client|account|order|payment|subscription|ticket)\s*"
    r"(?:id\s*)?(?:#|no\.?|number)?\s*\d+\b|\b(?:customer|client|user) (?:named|called)\b"
)


def _compile(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(rf"\b(?:{words})\b"), name) for words, name in pairs)


_TABLES = _compile(TABLE_WORDS)
_ACTIONS = _compile(ACTION_WORDS)


def _named(text: str, lexicon: tuple[tuple[re.Pattern[str], str], ...]) -> list[str]:
    names: list[str] = []
    for pattern, name in lexicon:
        if name not in names and pattern.search(text):
            names.append(name)
    return names


def tables_named(text: str) -> list[str]:
    """Tables whose records the (lowercased) text speaks of, in lexicon order.

    >>> tables_named("what was the closing price of aapl yesterday?")
    ['market_prices']
    """
    tables = _named(text, _TABLES)
    if TICKERS.search(text) and "market_prices" not in tables:
        tables.append("market_prices")
    return tables


def action_tables(text: str) -> list[str]:
    """Tables the tools behind the text's verbs would write.

    >>> action_tables("buy 0.1 btc and send me a notification when it fills")
    ['orders', 'notifications']
    """
    return _named(text, _ACTIONS)


def own_records(text: str) -> list[str]:
    """Tables holding the records the text calls the caller's own ("my orders", "my card").

    >>> own_records("send my statement to my new email address")
    ['transactions', 'users']
    >>> own_records("what is the fee schedule?")
    []
    """
    tables: list[str] = []
    for match in _POSSESSIVE.finditer(text):
        after = _POSSESSIVE.split(text[match.end() :], maxsplit=1)[0]
        window = " ".join(after.split()[:OWN_WINDOW])
        # "my BTC" is the caller's holding of it, not the market's price
        for table in tables_named(window):
            table = "positions" if table == "market_prices" else table
            if table not in tables:
                tables.append(table)
    return tables


def discloses_self(text: str) -> bool:
    """The text speaks of the speaker's own circumstances or records ("I bought at 60k", "did
    I", "I'm 17"); for a customer that makes a request confidential.

    >>> discloses_self("should i sell, given i bought at 60k?"), discloses_self("how do i sell?")
    (True, False)
    """
    return SELF_DISCLOSURE.search(text) is not None


FIRM_FIGURES = re.compile(
    r"\b(?:our|we)\b(?:\s+\w+){0,3}?\s+(?:volumes?|revenues?|turnover|margins?|growth|figures|"
    r"numbers|metrics|kpis?|churn|sign-?ups|profits?|costs|customer base)\b|"
    r"\b(?:volumes?|revenues?|turnover|growth|figures|numbers|metrics|churn)\b(?:\s+\w+){0,3}?"
    r"\s+we (?:see|have|get|make|handle|process|do)\b"
)


def names_firm_figures(text: str) -> bool:
    """Staff speaking of the firm's own business figures ("our volumes", "the revenue we
    make"): internal information, though no customer's.

    >>> names_firm_figures("is our maker fee competitive, considering the volumes we see?")
    True
    >>> names_firm_figures("what is the maker fee?")
    False
    """
    return FIRM_FIGURES.search(text) is not None


def names_a_customer(text: str) -> bool:
    """The text identifies a particular customer or one of their records ("user 42", "order
    #17"), so it concerns that customer's data whoever asks.

    >>> names_a_customer("why was order #17 rejected?"), names_a_customer("what is an order?")
    (True, False)
    """
    return CUSTOMER_ID.search(text) is not None


def tables_for(text: str, query_type: QueryType) -> list[str]:
    """The tables a part of a request of this type would touch, as its words name them.

    Data questions read every table they name; actions write their tools' tables; documents
    and reasoning touch customers' tables only when they name particular records (the
    caller's own, or an identified customer's); small talk touches nothing.

    >>> tables_for("should i rebalance a 60/40 portfolio?", QueryType.REASONING)
    []
    >>> tables_for("should i rebalance my portfolio?", QueryType.REASONING)
    ['positions']
    """
    if query_type is QueryType.GENERAL:
        return []
    if query_type is QueryType.SQL:
        tables = tables_named(text)
        return tables + [t for t in own_records(text) if t not in tables]
    if query_type is QueryType.ACTION:
        tables = action_tables(text)
        tables += [t for t in tables_named(text) if t not in tables]
        return tables
    tables = own_records(text)
    if names_a_customer(text):
        tables += [t for t in tables_named(text) or ["users"] if t not in tables]
    return tables
