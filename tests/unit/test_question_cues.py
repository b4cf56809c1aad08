"""What the question states outright is what the answer shows: on the demo database, through
the SQL agent, with the model's draft scripted to miss the cue."""

import json

import pytest
from sqlalchemy import text

from agents.question_cues import Cues, Term, enforced, read_cues, shaped, with_terms
from agents.time_differences import with_time_differences
from graphs.assistant import PLATFORM_TERMS
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel

CUSTOMER = Term(word="customer", table="users", column="role", values=["customer"])


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _scalar(engine, sql: str):
    ((value,),) = _rows(engine, sql)
    return value


@pytest.fixture
def answer(demo_sql_agent):
    """Answers a question with the model scripted to write `draft`."""

    async def ask(question: str, draft: str, caller: Caller | None = None):
        model = ScriptedChatModel(responder=lambda _m, _k: json.dumps({"sql": draft}))
        agent = demo_sql_agent(model, max_retries=0, terms=PLATFORM_TERMS)
        return await agent.answer(question, caller or Caller(role=Role.ADMIN))

    return ask


@pytest.mark.parametrize(
    ("question", "decimals", "positive"),
    [
        ("What is the average withdrawal, rounded to two decimals?", 2, False),
        ("Give the share in percent, rounded to 1 decimal place.", 1, False),
        ("Round to one decimal.", 1, False),
        ("Average hours, rounded to the nearest whole number", 0, False),
        ("Total fees as a positive amount rounded to two decimals", 2, True),
        ("How many rounds did the tournament have, to two decimals?", None, False),
        ("Which country has the highest positive balance?", None, False),
    ],
)
def test_cues_are_read_from_the_question(question, decimals, positive):
    cues = read_cues(question)
    assert (cues.decimals, cues.positive) == (decimals, positive)


def test_a_term_counts_only_when_the_question_uses_its_word():
    assert read_cues("How many customers are there?", [CUSTOMER]).terms == [CUSTOMER]
    assert read_cues("How many users are there?", [CUSTOMER]).terms == []


async def test_customers_are_the_users_with_the_customer_role(answer, demo_engine):
    everyone = _scalar(demo_engine, "SELECT COUNT(*) FROM users")
    customers = _scalar(demo_engine, "SELECT COUNT(*) FROM users WHERE role = 'customer'")
    assert customers < everyone  # staff are users too
    outcome = await answer("How many customers do we have?", "SELECT COUNT(*) FROM users")
    assert outcome.result.rows == [[customers]]
    assert outcome.draft == "SELECT COUNT(*) FROM users"  # what the model wrote stays on record
    unasked = await answer("How many users do we have?", "SELECT COUNT(*) FROM users")
    assert unasked.result.rows == [[everyone]]


async def test_open_orders_include_the_partially_filled(answer, demo_engine):
    working = _scalar(
        demo_engine, "SELECT COUNT(*) FROM orders WHERE status IN ('open', 'partially_filled')"
    )
    just_open = _scalar(demo_engine, "SELECT COUNT(*) FROM orders WHERE status = 'open'")
    assert just_open < working
    draft = "SELECT COUNT(*) FROM orders WHERE status = 'open'"
    outcome = await answer("How many orders are open right now?", draft)
    assert outcome.result.rows == [[working]]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT COUNT(*) FROM orders WHERE status = 'filled'",  # another value: another question
        "SELECT COUNT(*) FROM orders WHERE status = 'open' OR status = 'filled'",
        "SELECT COUNT(*) FROM orders WHERE status <> 'cancelled'",
    ],
)
def test_a_condition_the_term_does_not_narrow_is_kept(sql):
    (open_orders,) = [t for t in PLATFORM_TERMS if t.word == "open"]
    assert with_terms(sql, [open_orders], "sqlite") == sql


def test_a_term_looks_only_at_its_own_tables_column():
    (open_orders,) = [t for t in PLATFORM_TERMS if t.word == "open"]
    joined = (
        "SELECT COUNT(*) FROM orders AS o JOIN trading_accounts AS a ON a.id = o.account_id "
        "WHERE a.status = 'suspended'"
    )
    assert with_terms(joined, [open_orders], "sqlite") == (
        f"{joined} AND o.status IN ('open', 'partially_filled')"
    )
    assert with_terms(f"{joined} AND o.status = 'open'", [open_orders], "sqlite") == (
        f"{joined} AND o.status IN ('open', 'partially_filled')"
    )


def test_terms_reach_every_select_that_reads_the_table_unfiltered():
    sql = (
        "SELECT COUNT(*) FROM users AS u JOIN orders AS o ON o.user_id = u.id "
        "WHERE u.id IN (SELECT id FROM users WHERE role = 'support') "
        "AND o.user_id NOT IN (SELECT user_id FROM positions)"
    )
    changed = with_terms(sql, [CUSTOMER], "sqlite")
    assert changed.count("role = 'customer'") == 1  # the outer users, not the filtered one
    assert "u.role = 'customer'" in changed
    assert "role = 'support'" in changed
    assert with_terms("SELECT COUNT(*) FROM orders", [CUSTOMER], "sqlite") == (
        "SELECT COUNT(*) FROM orders"
    )
    assert with_terms("not sql at all (", [CUSTOMER], "sqlite") == "not sql at all ("


async def test_rounding_asked_for_is_applied(answer, demo_engine):
    question = "What is the average amount of a successful withdrawal, rounded to two decimals?"
    where = "FROM payments WHERE direction = 'withdrawal' AND status = 'succeeded'"
    exact = _scalar(demo_engine, f"SELECT AVG(amount) {where}")
    assert round(exact, 2) != exact  # the data needs the rounding
    outcome = await answer(question, f"SELECT AVG(amount) AS avg {where}")
    assert outcome.result.rows == [[round(exact, 2)]]
    assert "ROUND(AVG(amount), 2) AS avg" in outcome.sql
    assert [c.name for c in outcome.result.columns] == ["avg"]


async def test_a_positive_amount_asked_for_is_negated_when_all_values_are_negative(
    answer, demo_engine
):
    fees = _scalar(demo_engine, "SELECT SUM(amount) FROM transactions WHERE type = 'fee'")
    assert fees < 0
    outcome = await answer(
        "How much have we charged in fees in total? Give it as a positive number.",
        "SELECT SUM(amount) AS fees FROM transactions WHERE type = 'fee'",
    )
    assert outcome.result.rows == [[pytest.approx(-fees)]]


async def test_a_customers_scoped_answer_is_shaped_and_stays_scoped(answer, demo_engine):
    user = _scalar(demo_engine, "SELECT MIN(user_id) FROM transactions WHERE type = 'fee'")
    mine = _scalar(
        demo_engine, f"SELECT SUM(amount) FROM transactions WHERE type = 'fee' AND user_id = {user}"
    )
    outcome = await answer(
        "What did I pay in fees, as a positive amount rounded to two decimals?",
        "SELECT SUM(amount) FROM transactions WHERE type = 'fee'",  # the guard scopes it
        caller=Caller(user_id=user, role=Role.CUSTOMER),
    )
    assert outcome.result.rows == [[round(-mine, 2)]]
    assert f"user_id = {user}" in outcome.sql


def test_stored_values_and_whole_numbers_are_left_as_they_are(demo_catalog):
    catalog = demo_catalog
    cues = Cues(decimals=1, positive=True)
    assert shaped("SELECT close FROM market_prices", [[101.25]], cues, catalog, "sqlite") is None
    assert shaped("SELECT COUNT(*) FROM orders", [[7]], cues, catalog, "sqlite") is None
    assert shaped("SELECT ROUND(AVG(x), 3) FROM t", [[1.234]], cues, catalog, "sqlite") is None
    mixed = [[-2.0], [3.0]]  # a column with gains and losses is not made positive
    assert shaped("SELECT SUM(x) FROM t GROUP BY y", mixed, cues, catalog, "sqlite") is None
    assert shaped("SELECT * FROM t", [[1.25]], cues, catalog, "sqlite") is None


async def test_an_order_on_a_negated_column_follows_it(answer, demo_engine):
    """Asked for the biggest fee payers first, the model sorted its negative sums descending,
    which puts the smallest fees first; once negated, the order must be on the positive sum."""
    question = (
        "Which five trading accounts have been charged the most in fees? Give the total as a "
        "positive amount, highest first."
    )
    draft = (
        "SELECT account_id, SUM(amount) FROM transactions WHERE type = 'fee' "
        "GROUP BY account_id ORDER BY SUM(amount) DESC LIMIT 5"
    )
    gold = _rows(
        demo_engine,
        "SELECT account_id, -SUM(amount) AS fees FROM transactions WHERE type = 'fee' "
        "GROUP BY account_id ORDER BY fees DESC LIMIT 5",
    )
    outcome = await answer(question, draft)
    assert [tuple(r) for r in outcome.result.rows] == gold


async def test_a_value_the_question_names_becomes_a_condition(answer, demo_engine):
    limit_orders = "FROM orders WHERE symbol = 'NVDA' AND order_type = 'limit'"
    buys = _scalar(demo_engine, f"SELECT COUNT(*) {limit_orders} AND side = 'buy'")
    assert 0 < buys < _scalar(demo_engine, f"SELECT COUNT(*) {limit_orders}")
    outcome = await answer(
        "How many limit buy orders for NVDA are there?", f"SELECT COUNT(*) {limit_orders}"
    )
    assert outcome.result.rows == [[buys]], outcome.sql


@pytest.mark.parametrize(
    ("question", "sql"),
    [
        # two values of the column: a split, not a filter
        ("How many buys and how many sells?", "SELECT side, COUNT(*) FROM orders GROUP BY side"),
        # the model already decided about the column
        ("How many orders were not buys?", "SELECT COUNT(*) FROM orders WHERE side <> 'buy'"),
        # negated
        ("How many orders, not counting buy orders?", "SELECT COUNT(*) FROM orders"),
        # 'cash' is an account type, but here it names the cash_balance column
        ("Total cash across accounts", "SELECT SUM(cash_balance) FROM trading_accounts"),
        # the table holding the value is not read
        ("How many buy transactions?", "SELECT COUNT(*) FROM payments"),
    ],
)
def test_a_named_value_is_left_out_where_it_does_not_plainly_filter(demo_catalog, question, sql):
    cues = read_cues(question, (), demo_catalog)
    assert enforced(sql, cues, demo_catalog, "sqlite") == sql


async def test_ordered_by_puts_the_named_column_first(answer, demo_engine):
    question = "What share of subscriptions were cancelled, per plan, ordered by plan?"
    draft = (
        "SELECT plan, AVG(status = 'cancelled') AS share FROM subscriptions "
        "GROUP BY plan ORDER BY share DESC"
    )
    outcome = await answer(question, draft)
    plans = [row[0] for row in outcome.result.rows]
    assert plans == sorted(plans)
    assert len(plans) > 1
    assert outcome.sql.index("plan") < outcome.sql.index("share DESC")


async def test_a_difference_of_stored_times_is_taken_in_the_unit_asked(answer, demo_engine):
    where = "FROM kyc_verifications WHERE status = 'approved'"
    hours = _scalar(
        demo_engine, f"SELECT AVG((julianday(reviewed_at) - julianday(submitted_at)) * 24) {where}"
    )
    naive = _scalar(demo_engine, f"SELECT AVG(reviewed_at - submitted_at) {where}")
    assert hours > 0 and naive != pytest.approx(hours)  # text minus text: the years subtracted
    draft = f"SELECT AVG(reviewed_at - submitted_at) {where}"
    in_hours = await answer("Average hours from KYC submission to decision?", draft)
    assert in_hours.result.rows == [[pytest.approx(hours)]]
    in_seconds = await answer("Average seconds from KYC submission to decision?", draft)
    assert in_seconds.result.rows == [[pytest.approx(hours * 3600, rel=1e-6)]]
    in_days = await answer("How long from KYC submission to decision on average?", draft)
    assert in_days.result.rows == [[pytest.approx(hours / 24)]]


def test_time_differences_are_left_to_dialects_that_subtract_times(demo_catalog):
    sql = "SELECT AVG(reviewed_at - submitted_at) FROM kyc_verifications"
    assert with_time_differences(sql, "hour", demo_catalog, "postgres") == sql
    not_times = "SELECT AVG(quantity - filled_quantity) FROM orders"
    assert with_time_differences(not_times, "hour", demo_catalog, "sqlite") == not_times


async def test_rounding_nobody_asked_for_is_taken_off(answer, demo_engine):
    where = "FROM payments WHERE direction = 'deposit' AND status = 'succeeded'"
    exact = _scalar(demo_engine, f"SELECT AVG(amount) {where}")
    assert round(exact, 1) != exact
    draft = f"SELECT ROUND(AVG(amount), 1) AS avg_deposit {where}"
    unasked = await answer("What is the average successful deposit?", draft)
    assert unasked.result.rows == [[pytest.approx(exact)]]
    for asked in ("Average successful deposit, to one decimal?", "Average deposit to the cent?"):
        kept = await answer(asked, draft)
        assert kept.result.rows == [[round(exact, 1)]], asked


async def test_the_user_id_asked_for_is_the_owners_not_the_rows(answer, demo_engine):
    where = "FROM kyc_verifications AS k WHERE k.status = 'rejected'"
    owners = sorted(_rows(demo_engine, f"SELECT k.user_id, k.expires_at {where}"))
    own_ids = sorted(_rows(demo_engine, f"SELECT k.id, k.expires_at {where}"))
    assert owners and owners != own_ids  # KYC check numbers are not user numbers
    question = "Which KYC checks were rejected? Return the user id and the expiry time."
    instead = await answer(question, f"SELECT k.id, k.expires_at {where}")
    assert sorted(map(tuple, instead.result.rows)) == owners
    beside = await answer(question, f"SELECT k.id, k.user_id, k.expires_at {where}")
    assert sorted(map(tuple, beside.result.rows)) == owners


@pytest.mark.parametrize(
    ("question", "sql"),
    [  # another id is asked too; the users table's own id is the user id; no id asked
        ("Return the check id and the user id.", "SELECT id, user_id FROM kyc_verifications"),
        ("Return the user ids of locked users.", "SELECT id FROM users WHERE status = 'locked'"),
        ("List every KYC check.", "SELECT id FROM kyc_verifications"),
    ],
)
def test_ids_are_left_alone_unless_only_the_user_id_is_asked(demo_catalog, question, sql):
    assert enforced(sql, read_cues(question, (), demo_catalog), demo_catalog, "sqlite") == sql


async def test_the_tie_break_asked_for_is_the_last_order_key(answer):
    draft = (
        "SELECT country, COUNT(*) AS n FROM users WHERE role = 'customer' "
        "GROUP BY country ORDER BY n DESC"
    )
    asked = "Which countries have the most customers? Break ties by country code."
    outcome = await answer(asked, draft)
    rows = [tuple(r) for r in outcome.result.rows]
    assert len({n for _c, n in rows}) < len(rows)  # there are ties to break
    assert rows == sorted(rows, key=lambda r: (-r[1], r[0]))
    assert "ORDER BY n DESC, country" in outcome.sql
    symbols = "SELECT symbol, COUNT(*) AS n FROM orders GROUP BY symbol ORDER BY n DESC"
    abc = await answer("Which symbols have the most orders, ties alphabetically?", symbols)
    assert "ORDER BY n DESC, symbol" in abc.sql


@pytest.mark.parametrize(
    ("question", "sql"),
    [  # already a key; nothing ordered; no stored text to sort by; no tie-break asked
        (
            "Most users per country, break ties by country.",
            "SELECT country, COUNT(*) AS n FROM users GROUP BY country ORDER BY n DESC, country",
        ),
        ("Users per country, break ties by country.", "SELECT country FROM users"),
        ("Top order counts, ties alphabetically.", "SELECT COUNT(*) AS n FROM orders ORDER BY n"),
        ("Which countries have most users?", "SELECT country FROM users ORDER BY id"),
    ],
)
def test_a_tie_break_is_left_alone_where_it_changes_nothing(demo_catalog, question, sql):
    assert enforced(sql, read_cues(question, (), demo_catalog), demo_catalog, "sqlite") == sql


async def test_a_running_total_beside_a_group_by_runs_over_the_groups(answer, demo_engine):
    where = "FROM payments WHERE direction = 'deposit' AND status = 'succeeded'"
    months = _rows(
        demo_engine,
        f"SELECT strftime('%Y-%m', created_at) AS m, SUM(amount) {where} GROUP BY m ORDER BY m",
    )
    assert len(months) > 1
    running, expected = 0.0, []
    for month, total in months:
        running += total
        expected.append((month, pytest.approx(total), pytest.approx(running)))
    draft = (
        "SELECT strftime('%Y-%m', created_at) AS month, SUM(amount) AS total, "
        f"SUM(amount) OVER (ORDER BY created_at) AS running {where} GROUP BY month ORDER BY month"
    )
    assert [tuple(r) for r in _rows(demo_engine, draft)] != expected  # one row's amount a month
    outcome = await answer("Successful deposits per month with the running total?", draft)
    assert [tuple(r) for r in outcome.result.rows] == expected


@pytest.mark.parametrize(
    "sql",
    [  # already over the groups; an average of averages is not the average; no GROUP BY
        "SELECT symbol, SUM(SUM(quantity)) OVER (ORDER BY symbol) FROM orders GROUP BY symbol",
        "SELECT symbol, AVG(quantity) OVER (ORDER BY created_at) FROM orders GROUP BY symbol",
        "SELECT symbol, SUM(quantity) OVER (ORDER BY created_at) FROM orders",
        "SELECT side, SUM(quantity) OVER (ORDER BY created_at) FROM orders GROUP BY side, symbol",
    ],
)
def test_a_window_is_left_alone_where_the_groups_give_no_one_reading(demo_catalog, sql):
    assert enforced(sql, Cues(), demo_catalog, "sqlite") == sql


async def test_a_window_ahead_of_now_starts_now(answer, demo_engine):
    where = "FROM kyc_verifications WHERE status = 'approved'"
    expired = _scalar(demo_engine, f"SELECT COUNT(*) {where} AND expires_at < datetime('now')")
    ahead = _rows(
        demo_engine,
        f"SELECT id {where} AND expires_at >= datetime('now') "
        "AND expires_at < datetime('now', '+400 days') ORDER BY id",
    )
    assert expired and ahead  # some approved checks have lapsed already, some lapse soon
    draft = f"SELECT id {where} AND expires_at < datetime('now', '+400 days') ORDER BY id"
    outcome = await answer("Which approved checks expire within the next 400 days?", draft)
    assert [tuple(r) for r in outcome.result.rows] == ahead
    since = await answer("Which approved checks expired before 400 days from now?", draft)
    assert len(since.result.rows) == len(ahead) + expired


def test_a_window_ahead_keeps_a_lower_bound_the_model_wrote(demo_catalog):
    cues = read_cues("Which checks expire in the next 30 days?")
    assert cues.ahead
    bounded = (
        "SELECT id FROM kyc_verifications WHERE expires_at BETWEEN datetime('now') "
        "AND datetime('now', '+30 days')"
    )
    assert enforced(bounded, cues, demo_catalog, "sqlite") == bounded
    dated = "SELECT id FROM kyc_verifications WHERE expires_at <= date('now', '+30 days')"
    assert "expires_at >= CURRENT_TIMESTAMP" in enforced(dated, cues, demo_catalog, "sqlite")


@pytest.mark.parametrize(
    ("question", "per"),
    [
        ("Per account type, which account has the most cash?", "account type"),
        ("What did I pay, per account?", "account"),
        ("How many were sent in each of the last 3 weeks?", "week"),
        ("The monthly average price in 2023?", "month"),
        ("What is the average monthly price of active subscriptions?", None),
        ("List the name of each customer.", None),
        ("How many users were active per month in 2023?", "month"),
    ],
)
def test_what_a_figure_is_asked_for_each_of_is_read(question, per):
    assert read_cues(question).per == per


async def test_the_top_row_per_group_asked_for_is_each_groups(answer, demo_engine):
    richest = _rows(
        demo_engine,
        "SELECT account_type, MAX(cash_balance) FROM trading_accounts GROUP BY account_type",
    )
    assert len(richest) > 1
    draft = (
        "SELECT account_type, cash_balance FROM trading_accounts ORDER BY cash_balance DESC LIMIT 1"
    )
    outcome = await answer("Per account type, which account holds the most cash?", draft)
    assert sorted(map(tuple, outcome.result.rows)) == sorted(richest)


async def test_the_figure_per_group_asked_for_is_each_groups(answer, demo_engine):
    (user_id,) = _rows(
        demo_engine,
        "SELECT user_id FROM positions GROUP BY user_id HAVING COUNT(DISTINCT account_id) > 1 "
        "ORDER BY user_id LIMIT 1",
    )[0]
    mine = f"FROM positions WHERE user_id = {user_id}"
    per_account = _rows(demo_engine, f"SELECT account_id, SUM(quantity) {mine} GROUP BY account_id")
    me = Caller(user_id=user_id, role=Role.CUSTOMER)
    draft = "SELECT SUM(quantity) FROM positions"
    outcome = await answer("How many units do I hold per account?", draft, me)
    assert sorted(map(tuple, outcome.result.rows)) == sorted(per_account)
    overall = await answer("How many units do I hold in all?", draft, me)
    assert overall.result.rows == [[sum(q for _a, q in per_account)]]


async def test_orders_counted_through_their_fills_count_once(answer, demo_engine):
    filled = "FROM orders WHERE status = 'filled' GROUP BY symbol"
    per_symbol = sorted(_rows(demo_engine, f"SELECT symbol, COUNT(*) {filled}"))
    draft = (
        "SELECT t.symbol, COUNT(*) FROM transactions AS t JOIN orders AS o ON t.order_id = o.id "
        "WHERE o.status = 'filled' GROUP BY t.symbol"
    )
    assert sorted(_rows(demo_engine, draft)) != per_symbol  # some orders filled in parts
    outcome = await answer("How many filled orders does each symbol have?", draft)
    assert sorted(map(tuple, outcome.result.rows)) == per_symbol
    fills = await answer("How many fills did each symbol's filled orders get?", draft)
    assert sorted(map(tuple, fills.result.rows)) == sorted(_rows(demo_engine, draft))
    refused = "SELECT symbol, COUNT(*) FROM transactions WHERE status = 'filled' GROUP BY symbol"
    repaired = await answer("How many filled orders does each symbol have?", refused)
    assert sorted(map(tuple, repaired.result.rows)) == per_symbol  # repaired, then counted once


async def test_and_and_or_without_brackets_are_read_as_written(answer, demo_engine):
    asked = (
        "FROM users WHERE (country = 'PL' OR country = 'NL') AND role = 'customer' "
        "AND status = 'locked'"
    )
    expected = _scalar(demo_engine, f"SELECT COUNT(*) {asked}")
    draft = (
        "SELECT COUNT(*) FROM users WHERE country = 'PL' OR country = 'NL' AND status = 'locked'"
    )
    assert expected != _scalar(demo_engine, draft)  # AND first: every Polish user counted
    outcome = await answer("How many customers in Poland or the Netherlands are locked?", draft)
    assert outcome.result.rows == [[expected]]


def _latest_aapl_closes(engine) -> list[float]:
    latest = (
        "SELECT close FROM market_prices WHERE symbol = 'AAPL' ORDER BY price_date DESC LIMIT 5"
    )
    return [c for (c,) in _rows(engine, latest)]


async def test_an_average_over_the_latest_rows_is_taken_over_those_rows(answer, demo_engine):
    closes = _latest_aapl_closes(demo_engine)
    draft = (
        "SELECT AVG(close) FROM market_prices WHERE symbol = 'AAPL' "
        "ORDER BY price_date DESC LIMIT 5"
    )
    everything = _scalar(demo_engine, draft)
    assert everything != pytest.approx(sum(closes) / 5)  # LIMIT after AVG cuts nothing
    outcome = await answer("Average AAPL close over its last five trading days?", draft)
    assert outcome.result.rows == [[pytest.approx(sum(closes) / 5)]]
    unnamed = await answer("Average AAPL close?", draft.replace("LIMIT 5", "LIMIT 100"))
    assert unnamed.result.rows == [[pytest.approx(everything)]]


async def test_the_last_trading_days_are_the_latest_dates_with_prices(answer, demo_engine):
    closes = _latest_aapl_closes(demo_engine)
    draft = (
        "SELECT AVG(close) FROM market_prices WHERE symbol = 'AAPL' "
        "AND price_date >= date('now', '-5 days')"
    )
    calendar = _scalar(demo_engine, draft)
    assert calendar is None or calendar != pytest.approx(sum(closes) / 5)
    outcome = await answer("Average AAPL close over its last five trading days?", draft)
    assert outcome.result.rows == [[pytest.approx(sum(closes) / 5)]]
    days = await answer("Average AAPL close over the last five days?", draft)
    assert days.result.rows == [[calendar]]


async def test_the_latest_row_of_each_group_is_each_groups_latest(answer, demo_engine):
    latest = _rows(
        demo_engine,
        "SELECT m.symbol, m.close FROM market_prices AS m WHERE m.price_date = "
        "(SELECT MAX(p.price_date) FROM market_prices AS p WHERE p.symbol = m.symbol)",
    )
    highest = "SELECT symbol, MAX(close) AS close FROM market_prices GROUP BY symbol"
    assert sorted(latest) != sorted(_rows(demo_engine, highest))
    outcome = await answer("What is the latest close for each symbol?", highest)
    assert sorted(map(tuple, outcome.result.rows)) == sorted(latest)
    every = await answer(
        "Show the most recent close per symbol.", "SELECT symbol, close FROM market_prices"
    )
    assert sorted(map(tuple, every.result.rows)) == sorted(latest)
    most = await answer("What is the highest close for each symbol?", highest)
    assert sorted(map(tuple, most.result.rows)) == sorted(_rows(demo_engine, highest))


async def test_the_earliest_rows_asked_for_are_those_of_the_earliest_date(answer, demo_engine):
    since = "FROM market_prices WHERE price_date >= '2026-01-01'"
    first = _rows(
        demo_engine,
        f"SELECT AVG(close) {since} AND price_date = (SELECT MIN(price_date) {since})",
    )
    draft = f"SELECT AVG(close) {since}"
    assert first != _rows(demo_engine, draft)
    outcome = await answer("The average close on the earliest trading day of 2026?", draft)
    assert list(map(tuple, outcome.result.rows)) == first
    every = await answer("The average close of 2026?", draft)
    assert list(map(tuple, every.result.rows)) == _rows(demo_engine, draft)


async def test_a_figure_per_month_is_one_figure_for_each_month_shown(answer, demo_engine):
    per_month = _rows(
        demo_engine,
        "SELECT strftime('%Y-%m', created_at) AS m, COUNT(*) FROM orders "
        "WHERE created_at >= '2026-01-01' GROUP BY m ORDER BY m",
    )
    assert len(per_month) > 1
    outcome = await answer(
        "How many orders were placed per month since January 2026?",
        "SELECT COUNT(*) FROM orders WHERE created_at >= '2026-01-01'",
    )
    assert list(map(tuple, outcome.result.rows)) == per_month
    unshown = await answer(
        "The monthly average order quantity since January 2026?",
        "SELECT AVG(quantity) FROM orders WHERE created_at >= '2026-01-01' "
        "GROUP BY strftime('%Y-%m', created_at)",
    )
    assert [r[0] for r in unshown.result.rows] == [m for m, _n in per_month]


async def test_the_last_months_but_this_one_are_whole_calendar_months(answer, demo_engine):
    draft = "SELECT COUNT(*) FROM orders WHERE created_at >= DATE('now', '-2 months')"
    whole = _scalar(
        demo_engine,
        "SELECT COUNT(*) FROM orders WHERE created_at >= DATE('now', 'start of month', "
        "'-2 months') AND created_at < DATE('now', 'start of month')",
    )
    assert whole != _scalar(demo_engine, draft)
    asked = "How many orders were placed in the last 2 months excluding the current month?"
    outcome = await answer(asked, draft)
    assert outcome.result.rows == [[whole]]
    rolling = await answer("How many orders were placed in the last 2 months?", draft)
    assert rolling.result.rows == [[_scalar(demo_engine, draft)]]


@pytest.mark.parametrize(
    ("question", "instructions", "which", "months"),
    [
        ("The LUB for each user?", "LUB = the most recent balance of each user", "latest", None),
        ("Oldest order per account?", "", "earliest", None),
        ("Signups in the past three full months?", "", None, 3),
        ("Sales over the last 6 months, not including this month?", "", None, 6),
        ("Sales over the last 6 months?", "", None, None),
    ],
)
def test_extreme_rows_and_whole_months_are_read(question, instructions, which, months):
    cues = read_cues(question, instructions=instructions)
    assert (cues.extreme, cues.whole_months) == (which, months)
