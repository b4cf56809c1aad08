"""What data a request would touch: the tables and the caller's own records its words point at.
`agents.routing.sensitivity` turns these into a sensitivity.

These are sensitivity rules, not routing: which *documents* a request reads is measured on the
index itself (`agents.routing.evidence`), so no list of document topics is kept here. The words
are not kept here either: they are the routing vocabulary (`agents/routing/vocabulary.yaml`,
loaded and checked by `agents.routing.vocabulary`), per table and per language, which an
operator edits; the instruments are the symbols the platform lists (its `instruments` table),
given by whoever builds the router, and the vocabulary's everyday names for them. The
vocabulary is deliberately generous: naming a table that a question does not need only keeps
it on the local model; missing one could send customer data to the cloud.

>>> from agents.routing.vocabulary import load_routing_vocabulary
>>> sources = Sources(load_routing_vocabulary(), symbols=["AAPL", "BTCUSD"])
>>> sorted(sources.tables_named("how many open orders do i have on my margin account?"))
['orders', 'trading_accounts']
>>> sources.own_records("what is my btc position?")
['positions']
>>> sources.own_records("zeig mir meine offenen aufträge"), sources.own_records("mes ordres")
(['orders'], ['orders'])
>>> sources.own_records("¿cuál es el saldo de mi cuenta?")
['trading_accounts']
>>> sources.tables_named("what was the closing price of aapl yesterday?")
['market_prices']
>>> sources.action_tables("buy 0.1 btc and send me a notification when it fills")
['orders', 'notifications']
>>> sources.own_records("send my statement to my new email address")
['transactions', 'users']
>>> sources.own_records("what is the fee schedule?")
[]
>>> sources.discloses_self("should i sell, given i bought at 60k?"), sources.discloses_self(
...     "how do i sell?")
(True, False)
>>> sources.names_firm_figures("is our maker fee competitive, considering the volumes we see?")
True
>>> sources.names_a_customer("why was order #17 rejected?"), sources.names_a_customer(
...     "what is an order?")
(True, False)
>>> sources.tables_for("should i rebalance a 60/40 portfolio?", QueryType.REASONING)
[]
>>> sources.tables_for("should i rebalance my portfolio?", QueryType.REASONING)
['positions']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from agents.routing.labels import QueryType
from agents.routing.vocabulary import RoutingVocabulary, Words

OWN_WINDOW = 4
"""After a possessive ("my", "meine"), a table word among this many words is the caller's own."""

_NEVER = "(?!)"  # a section with no entries matches nothing


def _alternatives(words: Words) -> str:
    """Every language's entries as one alternation, in the file's order."""
    entries = [entry for language in words.values() for entry in language]
    return "|".join(entries) or _NEVER


def _as_words(words: Words) -> re.Pattern[str]:
    """Entries that stand as whole words or phrases."""
    return re.compile(rf"\b(?:{_alternatives(words)})\b")


def _per_table(tables: Mapping[str, Words]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_as_words(words), table) for table, words in tables.items())


def _named(text: str, lexicon: tuple[tuple[re.Pattern[str], str], ...]) -> list[str]:
    names: list[str] = []
    for pattern, name in lexicon:
        if name not in names and pattern.search(text):
            names.append(name)
    return names


class Sources:
    """The routing vocabulary compiled, with the instruments the platform lists (`symbols`,
    tickers such as AAPL or BTCUSD); every method takes lowercased text (see
    `agents.routing.rules.normalise`)."""

    def __init__(self, vocabulary: RoutingVocabulary, symbols: Iterable[str] = ()):
        names = [re.escape(s.strip().lower()) for s in symbols if s.strip()]
        names += [n for language in vocabulary.instruments.values() for n in language]
        self.instruments = rf"\b(?:{'|'.join(dict.fromkeys(names)) or _NEVER})\b"
        """The pattern that finds an instrument, for the rules' cues."""
        self._instrument = re.compile(self.instruments)
        self._possessive = _as_words(vocabulary.own)
        self._tables = _per_table(vocabulary.tables)
        self._actions = _per_table(vocabulary.actions)
        self._self_disclosure = re.compile(_alternatives(vocabulary.self_disclosure))
        self._customer_id = re.compile(_alternatives(vocabulary.customer_ids))
        self._firm_figures = re.compile(_alternatives(vocabulary.firm_figures))

    def names_instrument(self, text: str) -> bool:
        """The text names an instrument, by its symbol or an everyday name."""
        return self._instrument.search(text) is not None

    def tables_named(self, text: str) -> list[str]:
        """Tables whose records the text speaks of, in the vocabulary's order (an instrument
        named: market prices)."""
        tables = _named(text, self._tables)
        if self.names_instrument(text) and "market_prices" not in tables:
            tables.append("market_prices")
        return tables

    def action_tables(self, text: str) -> list[str]:
        """Tables the tools behind the text's verbs would write."""
        return _named(text, self._actions)

    def speaks_of_own(self, text: str) -> bool:
        """The text calls something the speaker's own ("my", "meine", "mes", "mis")."""
        return self._possessive.search(text) is not None

    def own_records(self, text: str) -> list[str]:
        """Tables holding the records the text calls the caller's own ("my orders", "my
        card"): the tables named within `OWN_WINDOW` words after each possessive."""
        tables: list[str] = []
        for match in self._possessive.finditer(text):
            after = self._possessive.split(text[match.end() :], maxsplit=1)[0]
            window = " ".join(after.split()[:OWN_WINDOW])
            # "my BTC" is the caller's holding of it, not the market's price
            for table in self.tables_named(window):
                table = "positions" if table == "market_prices" else table
                if table not in tables:
                    tables.append(table)
        return tables

    def discloses_self(self, text: str) -> bool:
        """The text speaks of the speaker's own circumstances or records ("I bought at 60k",
        "did I", "I'm 17"); for a customer that makes a request confidential."""
        return self._self_disclosure.search(text) is not None

    def names_firm_figures(self, text: str) -> bool:
        """Staff speaking of the firm's own business figures ("our volumes", "the revenue we
        make"): internal information, though no customer's."""
        return self._firm_figures.search(text) is not None

    def names_a_customer(self, text: str) -> bool:
        """The text identifies a particular customer or one of their records ("user 42",
        "order #17"), so it concerns that customer's data whoever asks."""
        return self._customer_id.search(text) is not None

    def tables_for(self, text: str, query_type: QueryType) -> list[str]:
        """The tables a part of a request of this type would touch, as its words name them.

        Data questions read every table they name; actions write their tools' tables; documents
        and reasoning touch customers' tables only when they name particular records (the
        caller's own, or an identified customer's); small talk touches nothing.
        """
        if query_type is QueryType.GENERAL:
            return []
        if query_type is QueryType.SQL:
            tables = self.tables_named(text)
            return tables + [t for t in self.own_records(text) if t not in tables]
        if query_type is QueryType.ACTION:
            tables = self.action_tables(text)
            tables += [t for t in self.tables_named(text) if t not in tables]
            return tables
        tables = self.own_records(text)
        if self.names_a_customer(text):
            tables += [t for t in self.tables_named(text) or ["users"] if t not in tables]
        return tables
