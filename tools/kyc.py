"""KYC tools: start (or resubmit) your identity check with a document, see its status, and
(staff) the review queue and decisions.

The document goes through the platform's ingestion (OCR included) as a restricted document only
its owner and staff can read; its labelled fields are checked against the profile before
anything is stored, so a mismatching document leaves nothing behind.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from retrieval.chunks import DocumentAccess, Visibility
from retrieval.ingest import IngestRequest
from services.errors import AssistantError
from services.identity import Caller, Role
from services.ids import RowId
from services.kyc.documents import extract_fields
from services.kyc.service import KycOut, KycService
from tools.registry import Preview, ToolContext, ToolInput, ToolKind
from tools.tool_set import TOOLS

CUSTOMER = {Role.CUSTOMER}
EVERYONE = {Role.CUSTOMER, Role.SUPPORT, Role.ADMIN}
STAFF = {Role.SUPPORT, Role.ADMIN}


class DocumentType(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    DRIVING_LICENCE = "driving_licence"
    PROOF_OF_ADDRESS = "proof_of_address"


def _kyc(ctx: ToolContext) -> KycService:
    return ctx.services.need("kyc")


class StartKycInput(ToolInput):
    document_type: DocumentType = Field(
        description="passport, national_id, driving_licence or proof_of_address."
    )
    filename: str = Field(
        min_length=1, max_length=255, description="File name; its extension says how to read it."
    )
    content: str = Field(min_length=1, description="The document's text as uploaded.")


def submit_document(
    services: Any, caller: Caller, document_type: DocumentType, filename: str, data: bytes
) -> KycOut:
    """Read the document (OCR for scans), check an identity document's fields against the
    profile (a mismatch is refused before anything is stored), keep it as a restricted
    document of its owner, then submit the check."""
    kyc: KycService = services.need("kyc")
    library = services.need("documents")
    if document_type is not DocumentType.PROOF_OF_ADDRESS:
        text = library.ingestor.converter.convert(data, filename).text
        kyc.check_document(caller, extract_fields(text))
    result = library.ingestor.ingest(
        data,
        IngestRequest(
            filename=filename,
            source=f"kyc:{caller.user_id}:{document_type.value}:{filename}",
            title=f"KYC {document_type.value} of user {caller.user_id}",
            doc_type="kyc",
            access=DocumentAccess(
                visibility=Visibility.RESTRICTED,
                roles=frozenset({Role.SUPPORT, Role.ADMIN}),
                user_ids=frozenset({caller.user_id}),
            ),
        ),
        caller,
    )
    return kyc.submit(caller, document_type.value, result.document_id)


@TOOLS.tool(roles=CUSTOMER, kind=ToolKind.WRITE)
def start_kyc(ctx: ToolContext, args: StartKycInput) -> KycOut:
    """Start or resubmit your identity check with a document; its name, date of birth and
    number are checked against your profile first."""
    return submit_document(
        ctx.services, ctx.caller, args.document_type, args.filename, args.content.encode()
    )


@TOOLS.previewer("start_kyc")
def preview_start_kyc(ctx: ToolContext, args: StartKycInput) -> Preview:
    current = _kyc(ctx).status(ctx.caller)
    return Preview(
        summary=f"send your {args.document_type.value.replace('_', ' ')} ({args.filename}) for "
        f"your identity check; it is kept so only you and our staff can read it",
        details={"document_type": args.document_type.value, "current_status": current.status},
    )


class KycStatusInput(ToolInput):
    customer_id: RowId | None = Field(
        None, description="Staff only: the customer whose check to show."
    )


@TOOLS.tool(roles=EVERYONE)
def kyc_status(ctx: ToolContext, args: KycStatusInput) -> KycOut:
    """Where an identity check stands: yours, or (staff) a customer's."""
    if ctx.caller.role is Role.CUSTOMER and args.customer_id not in (None, ctx.caller.user_id):
        raise AssistantError("tool_forbidden", "you can only see your own identity check")
    return _kyc(ctx).status(ctx.caller, args.customer_id)


class ReviewQueueInput(ToolInput):
    limit: int = Field(50, ge=1, le=200, description="How many open cases, oldest first.")


class ReviewQueueOutput(BaseModel):
    cases: list[KycOut] = Field(description="Open cases (pending or in review), oldest first.")


@TOOLS.tool(roles=STAFF)
def kyc_review_queue(ctx: ToolContext, args: ReviewQueueInput) -> ReviewQueueOutput:
    """The identity checks waiting for a reviewer, oldest first."""
    return ReviewQueueOutput(cases=_kyc(ctx).review_queue(ctx.caller, args.limit))


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INPUT = "request_input"


class ReviewKycInput(ToolInput):
    customer_id: RowId = Field(description="The customer whose check to decide.")
    decision: ReviewDecision = Field(description="approve, reject or request_input.")
    reason: str | None = Field(
        None,
        max_length=300,
        description="Why (reject), or what is needed (request_input); told to the customer.",
    )


@TOOLS.tool(roles=STAFF, kind=ToolKind.WRITE)
def review_kyc(ctx: ToolContext, args: ReviewKycInput) -> KycOut:
    """Approve, reject or ask for more input on a customer's identity check; the customer is
    notified."""
    return _kyc(ctx).review(ctx.caller, args.customer_id, args.decision.value, args.reason)


@TOOLS.previewer("review_kyc")
def preview_review(ctx: ToolContext, args: ReviewKycInput) -> Preview:
    current = _kyc(ctx).status(ctx.caller, args.customer_id)
    problems = []
    if current.status not in ("pending", "in_review"):
        problems.append(f"the check is {current.status.replace('_', ' ')}, not open for review")
    if args.decision is not ReviewDecision.APPROVE and not args.reason:
        problems.append("say why (reason)")
    return Preview(
        summary=f"{args.decision.value.replace('_', ' ')} the identity check of customer "
        f"{args.customer_id}" + (f": {args.reason}" if args.reason else ""),
        details={"customer_id": args.customer_id, "decision": args.decision.value},
        problems=problems,
    )
