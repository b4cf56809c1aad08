"""Typed failures of the provider layer; callers map them to what the user sees."""

from __future__ import annotations


class ProviderUnavailable(RuntimeError):
    """A provider could not answer: its breaker is open, or every attempt failed.

    `reason` is short and safe to show (no prompt text, no credentials); the last underlying
    error, if any, is the exception's `__cause__`.
    """

    def __init__(self, provider: str, reason: str, *, retry_after_s: float = 0.0):
        super().__init__(f"{provider} is unavailable: {reason}")
        self.provider = provider
        self.reason = reason
        self.retry_after_s = retry_after_s


class PrivacyViolation(PermissionError):
    """A request labelled confidential was about to reach a cloud provider; it did not."""

    def __init__(self, provider: str, sensitivity: str):
        super().__init__(
            f"refused: a {sensitivity} request may only use a local model, not {provider}"
        )
        self.provider = provider
        self.sensitivity = sensitivity


def is_cut_off(exc: BaseException) -> bool:
    """Whether a call failed because the reply reached its token limit before it was whole.
    OpenAI's client raises for that when a JSON schema was asked for (the half-written JSON
    cannot be parsed); it says nothing about the provider, only about this reply.

    >>> is_cut_off(ValueError("no"))
    False
    """
    import openai

    return isinstance(exc, openai.LengthFinishReasonError)
