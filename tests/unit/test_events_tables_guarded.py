"""The outbox is platform bookkeeping: the SQL agent never sees it, and the guard lets only
admins query it (its payloads carry customers' ids and amounts)."""

from __future__ import annotations

import pytest

from graphs.build import INTERNAL_TABLES
from services.identity import Role
from sql_guard.policy import platform_policy

EVENT_TABLES = {"outbox_events", "processed_events"}


def test_the_sql_agent_never_sees_the_event_tables():
    assert EVENT_TABLES <= INTERNAL_TABLES


@pytest.mark.parametrize(("role", "allowed"), [(Role.ADMIN, True), (Role.SUPPORT, False)])
def test_only_admins_may_query_the_event_tables(role, allowed):
    policy = platform_policy()
    assert set(policy.tables) >= EVENT_TABLES  # known to the guard, so refused by role
    assert (policy.tables_for(role) >= EVENT_TABLES) is allowed
    assert not EVENT_TABLES & policy.tables_for(Role.CUSTOMER)
