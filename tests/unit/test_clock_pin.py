"""The database's clock is the platform's: a pinned clock pins the SQL too, on any day."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import text

from services import clock
from services.identity import Caller, Role
from sql_guard.guard import check
from sql_guard.policy import platform_policy

POLICY = platform_policy(1000)
ADMIN = Caller(role=Role.ADMIN)


def _run(engine, sql: str) -> list[tuple]:
    verdict = check(sql, policy=POLICY, caller=ADMIN)
    assert verdict.allowed, verdict.reasons
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(verdict.sql))]


def test_the_databases_today_is_the_platforms(demo_engine):
    with time_machine.travel(datetime(2028, 2, 29, 23, 59), tick=False):
        assert _run(demo_engine, "SELECT date('now'), CURRENT_DATE, date('now', '+1 day')") == [
            ("2028-02-29", "2028-02-29", "2028-03-01")
        ]


def test_a_window_back_from_now_counts_from_the_platforms_now(demo_engine):
    since = (clock.utcnow() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    with demo_engine.connect() as conn:
        (expected,) = conn.execute(
            text(f"SELECT COUNT(*) FROM orders WHERE created_at >= '{since}'")
        ).one()
    (counted,) = _run(
        demo_engine, "SELECT COUNT(*) FROM orders WHERE created_at >= datetime('now', '-30 days')"
    )
    assert expected > 0 and counted == (expected,)


def test_a_window_ahead_of_now_starts_at_the_platforms_now(demo_engine):
    now = clock.utcnow()
    ahead = (now + timedelta(days=90)).strftime("%Y-%m-%d %H:%M:%S")
    with demo_engine.connect() as conn:
        (expected,) = conn.execute(
            text(
                "SELECT COUNT(*) FROM kyc_verifications WHERE expires_at >= "
                f"'{now:%Y-%m-%d %H:%M:%S}' AND expires_at < '{ahead}'"
            )
        ).one()
    (counted,) = _run(
        demo_engine,
        "SELECT COUNT(*) FROM kyc_verifications "
        "WHERE expires_at >= datetime('now') AND expires_at < datetime('now', '+90 days')",
    )
    assert counted == (expected,)
