"""Rating answers, and the staff review that decides which confirmations teach the SQL agent."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import AssistantDep, ChatCaller, StaffCaller
from graphs.feedback import FeedbackReceipt
from services.ids import RowId
from services.sql_examples import ExampleReview

router = APIRouter(prefix="/v1/chat/feedback", tags=["chat"])


class Feedback(BaseModel):
    answer_id: RowId = Field(description="The answer_id of the answer being rated.")
    helpful: bool = Field(description="Did the answer answer the question?")


class ReviewDecision(BaseModel):
    approve: bool = Field(description="True makes the pair a verified example; false rejects it.")
    reason: str | None = Field(
        None, max_length=2000, description="Why it is rejected (required to reject)."
    )


@router.post("", response_model=FeedbackReceipt, summary="Say whether an answer was right")
async def feedback(body: Feedback, assistant: AssistantDep, caller: ChatCaller) -> FeedbackReceipt:
    """Staff confirming an answer make its question and SQL a verified example; a customer's
    confirmation waits for staff review."""
    return await assistant.feedback.confirm(body.answer_id, caller, body.helpful)


@router.get(
    "/reviews", response_model=list[ExampleReview], summary="Confirmations waiting for review"
)
async def reviews(assistant: AssistantDep, caller: StaffCaller) -> list[ExampleReview]:
    return await assistant.feedback.reviews(caller)


@router.post(
    "/reviews/{review_id}", response_model=ExampleReview, summary="Approve or reject a confirmation"
)
async def decide(
    review_id: RowId, body: ReviewDecision, assistant: AssistantDep, caller: StaffCaller
) -> ExampleReview:
    """An approved pair is reused for similar questions at once."""
    return await assistant.feedback.decide(
        review_id, caller, approve=body.approve, reason=body.reason
    )
