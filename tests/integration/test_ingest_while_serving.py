"""A document ingested into a running server is what the next question is answered from (issue
18): a real server process with the real embedder and document index, a scripted model; the
route and the citation are the platform's own."""

from __future__ import annotations

import re

import httpx

from tests.conftest import copy_var_dir
from tests.integration.live_server import free_port
from tests.integration.test_evidence_routing import VAULT_NOTICE, VAULT_QUESTION
from tests.integration.test_rate_limits import _start


def test_a_document_ingested_into_a_running_server_answers_the_next_question(
    demo_settings, tmp_path
):
    var_dir = copy_var_dir(demo_settings.var_dir, tmp_path / "var")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(port, {"VAR_DIR": str(var_dir)}, "--documents")
    try:
        with httpx.Client(base_url=base, timeout=120) as client:  # local mode: the operator
            before = client.post("/v1/chat", json={"message": VAULT_QUESTION}).json()
            added = client.post(
                "/v1/documents",
                files={"file": ("vault.md", VAULT_NOTICE)},
                data={"visibility": "public"},
            )
            after = client.post("/v1/chat", json={"message": VAULT_QUESTION}).json()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert added.status_code == 201, added.text
    assert before.get("route") != "document", before  # nothing held it yet
    assert after.get("route") == "document", after
    assert [c["title"] for c in after["citations"]][:1] == ["Bullion vault notice"]
    assert re.search(r"\[\d+\]", after["answer"])  # the answer cites its passage
