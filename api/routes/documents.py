"""The document library over HTTP: upload (staff), list (what the caller may read), delete
(admins). Thin: the rules live in `retrieval.library`; blocking work runs in a thread."""

from __future__ import annotations

import asyncio
from pathlib import PureWindowsPath
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile

from api.deps import DocumentReader, DocumentsDep, DocumentWriter
from retrieval.chunks import Visibility
from retrieval.ingest import IngestRequest, IngestResult, IngestStatus, parse_access
from retrieval.library import Deleted, DocumentInfo
from services.documents import DocumentError
from services.ids import RowId

router = APIRouter(prefix="/v1/documents", tags=["documents"])

READ_CHUNK = 1024 * 1024


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes, refusing as soon as they pass `limit`."""
    parts, size = [], 0
    while chunk := await upload.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise DocumentError(
                "file_too_large",
                f"{upload.filename} is larger than the upload limit of {limit:,} bytes "
                "(MAX_UPLOAD_BYTES)",
            )
        parts.append(chunk)
    return b"".join(parts)


@router.post(
    "",
    response_model=IngestResult,
    status_code=201,
    summary="Add a document, or a new version of one uploaded before (staff)",
    responses={200: {"description": "Known file: unchanged, or new access rules applied"}},
)
async def upload(
    response: Response,
    caller: DocumentWriter,
    library: DocumentsDep,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML, Markdown, text or image.")],
    title: Annotated[str | None, Form(max_length=200)] = None,
    doc_type: Annotated[str | None, Form(max_length=20, description="e.g. policy, faq.")] = None,
    visibility: Annotated[Visibility | None, Form(description="Default: internal.")] = None,
    roles: Annotated[str | None, Form(description="Restricted: e.g. support,admin.")] = None,
    user_ids: Annotated[str | None, Form(description="Restricted: e.g. 12,40.")] = None,
) -> IngestResult:
    """A file uploaded again under the same name is a new version of that document (or
    nothing at all when its bytes have not changed)."""
    library.check_can_add(caller)  # before reading a byte of a customer's upload
    filename = PureWindowsPath(file.filename or "").name  # no folders, whichever separator
    if not filename:
        raise DocumentError("unsupported_type", "the upload has no file name")
    data = await _read_limited(file, library.ingestor.max_bytes)
    request = IngestRequest(
        filename=filename,
        source=f"upload:{filename}",
        title=title,
        doc_type=doc_type,
        access=parse_access(visibility, roles, user_ids),
    )
    result = await asyncio.to_thread(library.add, data, request, caller)
    if result.status is not IngestStatus.ADDED:
        response.status_code = 200
    return result


@router.get("", response_model=list[DocumentInfo], summary="The documents you may read")
async def list_documents(caller: DocumentReader, library: DocumentsDep) -> list[DocumentInfo]:
    records = await asyncio.to_thread(library.visible, caller)
    return [DocumentInfo.of(record, caller) for record in records]


@router.delete(
    "/{document_id}",
    response_model=Deleted,
    summary="Delete a document with its versions, passages and files (admins)",
)
async def delete_document(
    document_id: RowId, caller: DocumentWriter, library: DocumentsDep
) -> Deleted:
    return await asyncio.to_thread(library.delete, document_id, caller)
