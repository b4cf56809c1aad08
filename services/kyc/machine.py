"""The allowed moves of one identity check, as a python-statemachine `StateMachine`.

    not_started → pending (submitted) → in_review → approved | rejected | requires_input
    requires_input → pending (resubmitted)
    approved → expired (expires_at passed)
    expired | rejected → pending (re-verification)

>>> next_status("pending", "begin_review")
'in_review'
>>> next_status("rejected", "approve")
Traceback (most recent call last):
...
services.errors.AssistantError: a check that is rejected cannot be approved
"""

from __future__ import annotations

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from services.errors import AssistantError


class KycFlow(StateMachine):
    not_started = State(initial=True)
    pending = State()
    in_review = State()
    approved = State()
    rejected = State()
    requires_input = State()
    expired = State()

    submit = (
        not_started.to(pending)
        | requires_input.to(pending)
        | expired.to(pending)
        | (rejected.to(pending))
    )
    begin_review = pending.to(in_review)
    approve = in_review.to(approved)
    reject = in_review.to(rejected)
    request_input = in_review.to(requires_input)
    expire = approved.to(expired)


# what a refusal calls each event
VERBS = {
    "submit": "submitted",
    "begin_review": "reviewed",
    "approve": "approved",
    "reject": "rejected",
    "request_input": "sent back for more input",
    "expire": "expired",
}


def next_status(status: str, event: str) -> str:
    """Where `event` takes a check that is `status`, or `kyc_transition_not_allowed`."""
    flow = KycFlow(start_value=status)
    try:
        flow.send(event)
    except TransitionNotAllowed:
        raise AssistantError(
            "kyc_transition_not_allowed",
            f"a check that is {status.replace('_', ' ')} cannot be {VERBS.get(event, event)}",
        ) from None
    return next(iter(flow.configuration)).id
