"""Which chat model serves a request, and what takes over when it cannot.

The router names a provider ("local" or "cloud") and the routing policy's fallback for it; this
module turns them into a chat model that tries them in order (cloud down → local; local down →
cloud, only for a request cleared for the cloud and only when the policy allows it). A
confidential request never gets a cloud model here, and even if it did, the provider handle
and the model itself would refuse it (`services.llm.privacy`). When every candidate is down the
caller sees `ProviderUnavailable`, which the assistant turns into "local model unavailable".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from langchain_core.runnables import Runnable

from agents.routing.policy import Provider
from services.llm.errors import ProviderUnavailable
from services.llm.privacy import CLOUD_CLEARED, SENSITIVITY_KEY, Sensitivity
from services.llm.providers import ModelTask, ProviderHandle

log = logging.getLogger(__name__)


class ModelSelector:
    def __init__(self, providers: Mapping[str, ProviderHandle]):
        self.providers = dict(providers)

    def plan(
        self, wanted: Provider, fallback: Provider | None, sensitivity: Sensitivity
    ) -> tuple[list[str], list[str]]:
        """The provider roles to try, in order, and why: the policy's choice, then its
        fallback, leaving out what is not configured and, for a request not cleared for the
        cloud, the cloud whatever the router said."""
        reasons: list[str] = []
        order = [wanted] if fallback in (None, wanted) else [wanted, fallback]
        if sensitivity not in CLOUD_CLEARED and "cloud" in order:
            reasons.append(f"a {sensitivity} request stays local")
            order = ["local"]
        missing = [role for role in order if role not in self.providers]
        if missing:
            reasons.append(f"not configured: {', '.join(missing)}")
        return [role for role in order if role in self.providers], reasons

    def choose(
        self,
        wanted: Provider,
        fallback: Provider | None,
        sensitivity: Sensitivity,
        task: ModelTask = ModelTask.GENERAL,
    ) -> Runnable:
        order, reasons = self.plan(wanted, fallback, sensitivity)
        if not order:
            name = "local" if wanted == "local" else "cloud"
            raise ProviderUnavailable(name, "; ".join(reasons) or "no provider is configured")
        # the label rides in the run metadata so each model re-checks it on every call
        models: list[Runnable] = [
            self.providers[role]
            .for_request(sensitivity, task)
            .with_config(metadata={SENSITIVITY_KEY: str(sensitivity)})
            for role in order
        ]
        chat = models[0]
        if len(models) > 1:
            chat = chat.with_fallbacks(models[1:], exceptions_to_handle=(ProviderUnavailable,))
        for reason in reasons:
            log.info("model choice: %s", reason)
        return chat
