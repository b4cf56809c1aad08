"""schemathesis against the served OpenAPI spec: every operation, with inputs generated from its
schema (valid and invalid), over real HTTP on 127.0.0.1, authenticated as an admin with every
scope, never answers 5xx. The app runs on a private copy of the demo data with a scripted model
(it answers every structured call with something well-formed) and a document library, so a 5xx
can only come from the platform's own code.

One 5xx is the documented answer of a service this server is not given: payments without
STRIPE_API_KEY (503 payments_not_configured; the payment tools are tested on localstripe in
tests/integration/test_payment_tools.py). Examples are few per operation, so the run stays
within about two minutes. Each operation's strategy is driven with Hypothesis directly
(schemathesis's lazy pytest fixture sets `request.node._nodeid`, which pytest 9 no longer has),
and every operation is explored before the test fails, so one run names every 5xx it found."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from langchain_core.messages import BaseMessage
from pydantic import SecretStr
from schemathesis import GenerationMode

from api.main import create_app
from retrieval.convert import Converter
from retrieval.ingest import Ingestor
from retrieval.library import DocumentLibrary
from services.auth import dev_tokens
from services.blob_store import LocalBlobStore
from services.identity import Role
from tests.conftest import private_copy
from tests.integration.ingest_files import RecordingIndex
from tests.integration.live_server import live_server

ADMIN = 1  # the demo data's users 1-3 are admins
UNCONFIGURED = {"payments_not_configured"}
EXAMPLES = 8  # per operation and mode: the whole run stays within about two minutes
PRIVATE = ("var_dir", "database_url", "read_replica_url", "checkpoint_url", "blob_storage_url")


def _well_formed(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
    """A model that always answers in the shape it was asked for."""
    schema = (kwargs.get("response_format") or {}).get("json_schema", {}).get("name")
    if schema == "sql_draft":
        return json.dumps({"sql": "SELECT COUNT(*) AS users FROM users"})
    if schema == "tool_call":
        return json.dumps({"tool": "list_price_alerts", "arguments": {}})
    if schema == "rag_answer":
        return json.dumps({"citations": [], "answer": "The documents do not say."})
    return "A scripted answer."


@pytest.fixture
def served(make_assistant, demo_settings, tmp_path):
    """(base URL, the admin's token) of the platform served on 127.0.0.1."""
    private = private_copy(demo_settings, tmp_path / "var")
    assistant, _ = make_assistant(
        _well_formed,
        **{name: getattr(private, name) for name in PRIVATE},
        rate_limit="1000000/minute",
        rate_limit_chat="1000000/minute",
        stripe_webhook_secret=SecretStr("whsec_fuzz"),
    )
    app = create_app(assistant)
    app.state.documents = DocumentLibrary(
        Ingestor(
            assistant.engine,
            LocalBlobStore(tmp_path / "blobs"),
            RecordingIndex(),
            Converter("rapidocr"),
            max_chars=500,
            overlap_chars=50,
            max_bytes=assistant.settings.max_upload_bytes,
        )
    )
    token = dev_tokens.mint(private.var_dir, ADMIN, Role.ADMIN)
    with live_server(app) as base:
        yield base, token


def _server_error(response) -> str | None:
    """What is wrong with a response: a 5xx that is not a documented unconfigured service."""
    if response.status_code < 500:
        return None
    json_body = response.headers.get("content-type", [""])[0].startswith("application/json")
    code = (response.json().get("error") or {}).get("code") if json_body else None
    return None if code in UNCONFIGURED else f"{response.status_code} {response.text[:300]}"


def _explore(operation, mode: GenerationMode, base: str, headers: dict[str, str]) -> str | None:
    """The first server error `mode`'s examples of one operation find, as a curl command and
    the response; None when there is none."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # nothing written to the work tree
        phases=(Phase.explicit, Phase.generate),  # the first failure, not a shrunk one
        suppress_health_check=list(HealthCheck),
    )
    def probe(case) -> None:
        response = case.call(base_url=base, headers=headers, timeout=30)
        problem = _server_error(response)
        assert problem is None, f"{problem}\n{case.as_curl_command(headers=headers)}"

    try:
        probe()
    except AssertionError as exc:
        return f"{operation.label} ({mode.value}): {exc}"
    except Unsatisfiable:  # no invalid input exists: nothing to send
        assert mode is GenerationMode.NEGATIVE, operation.label
    return None


def test_no_operation_answers_a_server_error(served):
    base, token = served
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    found = [
        _explore(operation, mode, base, headers)
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    assert [problem for problem in found if problem] == []
    assert len(operations) >= 25
