"""`/v1/chat/completions` driven by the official `openai` client, plain and streaming, on the
demo database with a scripted model: the answer, the thread carried on by `X-Thread-Id`, a
client's own earlier messages as the history, and a clear error for a request without a
question."""

from __future__ import annotations

import httpx
import openai
import pytest

from api.main import create_app
from services.auth import dev_tokens
from services.identity import Role
from tests.conftest import scripted_sql

QUESTION = "How many users are there?"
ADMIN = 1  # the demo data's users 1-3 are admins


@pytest.fixture
async def client(make_assistant, demo_engine):
    assistant, model = make_assistant(
        scripted_sql({QUESTION: "SELECT COUNT(*) AS users FROM users"})
    )
    # a development token of an admin, as `trading-assist token` mints it, is the API key
    token = dev_tokens.mint(assistant.settings.var_dir, ADMIN, Role.ADMIN)
    transport = httpx.ASGITransport(app=create_app(assistant))
    http = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")
    yield (
        openai.AsyncOpenAI(base_url="http://127.0.0.1/v1", api_key=token, http_client=http),
        model,
    )
    await http.aclose()


def _users(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one()


async def test_a_plain_completion_answers_with_the_data(client, demo_engine):
    api, _ = client
    done = await api.chat.completions.create(
        model="trading-assist", messages=[{"role": "user", "content": QUESTION}]
    )
    assert done.model == "trading-assist" and done.choices[0].finish_reason == "stop"
    assert str(_users(demo_engine)) in done.choices[0].message.content
    extras = done.model_extra["trading_assist"]
    assert extras["sql"].startswith("SELECT COUNT(*)") and extras["thread_id"]
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens


async def test_a_streamed_completion_ends_with_the_answer_and_done(client, demo_engine):
    api, _ = client
    stream = await api.chat.completions.create(
        model="trading-assist", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    text, finishes = "", []
    async for chunk in stream:
        text += chunk.choices[0].delta.content or ""
        finishes.append(chunk.choices[0].finish_reason)
    assert str(_users(demo_engine)) in text and finishes[-1] == "stop"


async def test_earlier_messages_are_the_history_and_a_thread_continues(client):
    api, model = client
    messages = [
        {"role": "user", "content": "What does the fee schedule say about wires?"},
        {"role": "assistant", "content": "Wires cost $25."},
        {"role": "user", "content": QUESTION},
    ]
    first = await api.chat.completions.create(model="trading-assist", messages=messages)
    thread = first.model_extra["trading_assist"]["thread_id"]
    again = await api.chat.completions.with_raw_response.create(
        model="trading-assist",
        messages=[{"role": "user", "content": QUESTION}],
        extra_headers={"X-Thread-Id": thread},
    )
    assert again.parse().model_extra["trading_assist"]["thread_id"] == thread


async def test_a_request_without_a_question_is_refused_clearly(client):
    api, _ = client
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        await api.chat.completions.create(
            model="trading-assist", messages=[{"role": "assistant", "content": "hi"}]
        )
    assert "the last message must be the user's question" in str(refused.value)
