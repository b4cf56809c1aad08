"""Privacy below the router: confidential requests never get a cloud model."""

from __future__ import annotations

import pytest

from services.llm.errors import PrivacyViolation
from services.llm.privacy import PrivacyRefusal, Sensitivity
from services.llm.providers import build_providers
from tests.integration.providers.helpers import (
    CLOUD_MODEL,
    collect,
)

# -- privacy below the router -------------------------------------------------------------------


async def test_confidential_request_never_gets_a_cloud_model(provider, server, audits, metrics):
    cloud = provider("openrouter")
    with pytest.raises(PrivacyViolation) as caught:
        cloud.for_request(Sensitivity.CONFIDENTIAL)
    assert caught.value.provider == "openrouter"
    [refusal] = audits
    assert (refusal.provider, refusal.model) == ("openrouter", CLOUD_MODEL)
    assert (refusal.sensitivity, refusal.where) == ("confidential", "handle")
    assert metrics.snapshot().providers["openrouter"].privacy_refusals == 1
    assert server.recorded() == []
    # a local provider takes it
    local = provider("ollama").for_request(Sensitivity.CONFIDENTIAL)
    assert (await local.ainvoke("my balance?")).content == "ok"


@pytest.mark.parametrize("label", ["secret", "", None])
def test_unknown_or_missing_labels_fail_closed(provider, audits, label):
    with pytest.raises(PrivacyViolation):
        provider("openrouter").for_request(label)  # type: ignore[arg-type]
    assert len(audits) == 1


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_cloud_model_refuses_a_confidential_run_at_call_time(
    provider, server, audits, streamed
):
    chat = provider("openrouter").for_request(Sensitivity.PUBLIC)  # handed out for a public one
    config = {"metadata": {"sensitivity": "confidential"}}  # then misused by a buggy router
    with pytest.raises(PrivacyViolation):
        if streamed:
            await collect(chat, config=config)
        else:
            await chat.ainvoke("my balance?", config=config)
    assert [(a.sensitivity, a.where) for a in audits] == [("confidential", "call")]
    assert server.recorded() == []
    # the same model serves a run labelled public
    assert (await chat.ainvoke("hi", config={"metadata": {"sensitivity": "public"}})).content


def test_a_failing_audit_hook_does_not_let_the_request_through(settings):
    def broken_hook(_refusal: PrivacyRefusal) -> None:
        raise RuntimeError("audit database down")

    cloud = build_providers(settings, audit=broken_hook)["cloud"]
    with pytest.raises(PrivacyViolation):
        cloud.for_request(Sensitivity.CONFIDENTIAL)
