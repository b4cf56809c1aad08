"""Document tools: search the firm's documents, read one, add one (staff).

Access is the index's and the library's own: a search only ranks passages the caller may read,
and a document the caller may not read is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from retrieval.chunks import DocumentAccess, Visibility
from retrieval.ingest import IngestRequest
from services.errors import AssistantError
from services.identity import Role
from services.ids import RowId
from services.llm.privacy import Sensitivity
from tools.registry import Preview, ToolContext, ToolInput, ToolKind
from tools.tool_set import TOOLS

EVERYONE = {Role.CUSTOMER, Role.SUPPORT, Role.ADMIN}
STAFF = {Role.SUPPORT, Role.ADMIN}
# another system may search and add documents when its key holds the scope for it
SYSTEMS = EVERYONE | {Role.SERVICE}


class SearchDocumentsInput(ToolInput):
    query: str = Field(min_length=1, max_length=2000, description="What to look for.")
    k: int = Field(5, ge=1, le=20, description="How many passages to return.")


class Passage(BaseModel):
    document_id: int = Field(description="Document the passage comes from.")
    title: str = Field(description="The document's title.")
    section: str | None = Field(None, description="Heading path of the passage.")
    page: int | None = Field(None, description="PDF page, from 1.")
    text: str = Field(description="The passage.")
    score: float = Field(description="Relevance (fused rank score); higher is better.")


class SearchDocumentsOutput(BaseModel):
    passages: list[Passage] = Field(description="Best first; empty when nothing matched.")


@TOOLS.tool(roles=SYSTEMS, sensitivity=Sensitivity.INTERNAL)
def search_documents(ctx: ToolContext, args: SearchDocumentsInput) -> SearchDocumentsOutput:
    """Search the firm's documents (fee schedules, policies, terms, FAQ) for passages about a
    subject; only documents the caller may read are searched."""
    index = ctx.services.need("index")
    hits = index.search(args.query, ctx.caller, k=args.k)
    return SearchDocumentsOutput(
        passages=[
            Passage(
                document_id=h.chunk.document_id,
                title=h.chunk.title,
                section=h.chunk.section,
                page=h.chunk.page,
                text=h.chunk.text,
                score=round(h.score, 6),
            )
            for h in hits
        ]
    )


class GetDocumentInput(ToolInput):
    document_id: RowId = Field(description="The document's id (from a search or a listing).")


class GetDocumentOutput(BaseModel):
    document_id: int = Field(description="The document's id.")
    title: str = Field(description="The document's title.")
    doc_type: str = Field(description="fee_schedule, policy, handbook, terms, faq or other.")
    version: int = Field(description="The version served.")
    text: str = Field(description="The document's text (Markdown).")


@TOOLS.tool(roles=EVERYONE, sensitivity=Sensitivity.INTERNAL)
def get_document(ctx: ToolContext, args: GetDocumentInput) -> GetDocumentOutput:
    """Read one of the firm's documents whole, by id."""
    library = ctx.services.need("documents")
    record = next((r for r in library.visible(ctx.caller) if r.id == args.document_id), None)
    if record is None:
        raise AssistantError("not_found", f"there is no document {args.document_id} you may read")
    text = library.store.version_text(record.id, record.current_version) or ""
    return GetDocumentOutput(
        document_id=record.id,
        title=record.title,
        doc_type=record.doc_type,
        version=record.current_version,
        text=text,
    )


class IngestDocumentInput(ToolInput):
    filename: str = Field(
        min_length=1, max_length=255, description="File name; its extension says how to read it."
    )
    content: str = Field(min_length=1, description="The document's text (Markdown or plain).")
    title: str | None = Field(None, max_length=200, description="Title; default from the text.")
    doc_type: str | None = Field(None, max_length=20, description="fee_schedule, policy, faq...")
    visibility: Visibility = Field(
        Visibility.INTERNAL, description="public (everyone) or internal (staff only)."
    )


class IngestDocumentOutput(BaseModel):
    document_id: int = Field(description="The document's id.")
    version: int = Field(description="Version now served.")
    status: str = Field(description="added, new_version, updated or unchanged.")
    chunks: int = Field(description="Passages indexed.")


@TOOLS.tool(roles=STAFF | {Role.SERVICE}, kind=ToolKind.WRITE, sensitivity=Sensitivity.INTERNAL)
def ingest_document(ctx: ToolContext, args: IngestDocumentInput) -> IngestDocumentOutput:
    """Add a text document to the firm's documents (or a new version of one with the same file
    name), searchable at once."""
    library = ctx.services.need("documents")
    result = library.add(
        args.content.encode(),
        IngestRequest(
            filename=args.filename,
            source=f"upload:{args.filename}",
            title=args.title,
            doc_type=args.doc_type,
            access=DocumentAccess(visibility=args.visibility),
        ),
        ctx.caller,
    )
    return IngestDocumentOutput(
        document_id=result.document_id,
        version=result.version,
        status=result.status.value,
        chunks=result.chunks,
    )


@TOOLS.previewer("ingest_document")
def preview_ingest(ctx: ToolContext, args: IngestDocumentInput) -> Preview:
    library = ctx.services.need("documents")
    existing = library.store.find_source(f"upload:{args.filename}")
    what = "a new version of" if existing else "the new document"
    return Preview(
        summary=f"add {what} {args.filename} ({args.visibility.value}, "
        f"{len(args.content):,} characters) to the firm's documents",
        details={"filename": args.filename, "visibility": args.visibility.value},
    )
