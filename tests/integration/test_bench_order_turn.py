"""`trading-assist bench order-turn` times chat turns that end in a confirmed order: each turn
asks, gets a pending `place_order`, says yes and must see the order filled, in both arms."""

from __future__ import annotations

from contextlib import contextmanager

from evals.bench_order_turn import run, scripted_call
from services.llm.scripted import ScriptedChatModel
from tests.conftest import make_settings


@contextmanager
def slow_scripted(settings):
    """Stands in for the local model (whose own test is `bench order-turn` itself): a
    scripted model that takes 50 ms to read the request."""
    import time

    def respond(messages, kwargs):
        time.sleep(0.05)
        return scripted_call(messages, kwargs)

    yield ScriptedChatModel(responder=respond), "slow scripted"


def test_each_turn_places_one_filled_order_and_both_arms_are_timed(tmp_path):
    report = run(make_settings(tmp_path / "var"), slow_scripted, turns=2)
    assert report.correct and report.orders_placed == 6  # 2 timed + 1 warm-up, per arm
    assert report.model == "slow scripted"
    for timing in (report.with_model, report.scripted):
        assert timing.turns == 2
        assert timing.ask_p50_ms > 0 and timing.confirm_p50_ms > 0
        assert timing.total_p50_ms <= timing.total_max_ms
    assert report.with_model.ask_p50_ms >= 50  # the model's time is in the ask, not the yes
    assert report.ratio > 1
