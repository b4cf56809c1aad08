"""Topic patterns as RabbitMQ reads them (`*` one word, `#` zero or more), checked on generated
topics, so the in-process and Service Bus filters route like the broker does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.events.bus.base import topic_matches

words = st.lists(st.from_regex(r"[a-z0-9_]{1,6}", fullmatch=True), min_size=1, max_size=6)


@given(words)
def test_a_topic_matches_itself_and_hash_matches_everything(topic):
    joined = ".".join(topic)
    assert topic_matches(joined, joined)
    assert topic_matches("#", joined)


@given(words, st.data())
def test_star_stands_for_exactly_one_word(topic, data):
    at = data.draw(st.integers(0, len(topic) - 1))
    pattern = [*topic[:at], "*", *topic[at + 1 :]]
    assert topic_matches(".".join(pattern), ".".join(topic))
    longer = [*topic[:at], "*", "*", *topic[at + 1 :]]
    assert not topic_matches(".".join(longer), ".".join(topic))


@given(words, st.data())
def test_hash_stands_for_any_run_of_words_even_none(topic, data):
    start = data.draw(st.integers(0, len(topic)))
    end = data.draw(st.integers(start, len(topic)))
    pattern = [*topic[:start], "#", *topic[end:]]
    assert topic_matches(".".join(pattern), ".".join(topic))


@given(words, st.data())
def test_a_different_word_does_not_match(topic, data):
    at = data.draw(st.integers(0, len(topic) - 1))
    pattern = [*topic[:at], topic[at] + "x", *topic[at + 1 :]]
    assert not topic_matches(".".join(pattern), ".".join(topic))
    assert not topic_matches(".".join([*topic, "extra"]), ".".join(topic))
