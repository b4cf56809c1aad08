"""The document endpoints through httpx on the demo database: upload (staff), list (by access),
delete (admins), and the errors a person gets for bad uploads."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from api.main import create_app
from retrieval.convert import Converter
from retrieval.ingest import Ingestor
from retrieval.library import DocumentLibrary
from services.blob_store import LocalBlobStore
from services.llm.scripted import replies
from tests.integration.ingest_files import FACT, RecordingIndex, markdown_bytes, pdf_bytes

LIMIT = 60_000


@pytest.fixture(scope="module")
def converter() -> Converter:
    return Converter("rapidocr")


@pytest.fixture
def library(make_assistant, converter, tmp_path):
    assistant, _ = make_assistant(replies("unused"))
    library = DocumentLibrary(
        Ingestor(
            assistant.engine,
            LocalBlobStore(tmp_path / "blobs"),
            RecordingIndex(),
            converter,
            max_chars=500,
            overlap_chars=50,
            max_bytes=LIMIT,
        )
    )
    before = {d.id for d in library.store.all()}
    yield assistant, library
    for document in library.store.all():  # the demo database is shared: leave it as found
        if document.id not in before:
            library.remove(document.id)


@pytest.fixture
async def client(library):
    assistant, documents = library
    app = create_app(assistant)
    app.state.documents = documents  # the composition root's hook: this library, this index
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(scope="module")
def users(demo_engine) -> dict[str, str]:
    with demo_engine.connect() as conn:
        rows = conn.execute(text("SELECT role, MIN(id) FROM users GROUP BY role")).all()
    return {role: str(user_id) for role, user_id in rows}


def as_user(users, role: str) -> dict[str, str]:
    return {"X-User-Id": users[role]}


async def upload(client, name: str, data: bytes, headers=None, **form):
    return await client.post(
        "/v1/documents", files={"file": (name, data)}, data=form, headers=headers or {}
    )


async def titles(client, headers) -> set[str]:
    response = await client.get("/v1/documents", headers=headers)
    assert response.status_code == 200
    return {d["title"] for d in response.json()}


async def test_staff_upload_then_versions(client, users, library):
    _, documents = library
    support = as_user(users, "support")
    first = await upload(client, "guide.pdf", pdf_bytes(), support, visibility="public")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["status"], body["version"], body["pages"]) == ("added", 1, 2)
    assert any(FACT in c.text for c in documents.index.documents[body["document_id"]])

    again = await upload(client, "guide.pdf", pdf_bytes(), support)
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")
    changed = await upload(client, "guide.pdf", pdf_bytes("Card withdrawals cost 4 percent"))
    assert changed.status_code == 200
    assert (changed.json()["status"], changed.json()["version"]) == ("new_version", 2)
    assert changed.json()["document_id"] == body["document_id"]


async def test_listing_shows_what_each_caller_may_read(client, users):
    admin_only = await upload(
        client, "board.md", markdown_bytes(), as_user(users, "admin"), title="Board", roles="admin"
    )
    assert admin_only.status_code == 201 and admin_only.json()["status"] == "added"

    customer = await titles(client, as_user(users, "customer"))
    support = await titles(client, as_user(users, "support"))
    admin = await titles(client, as_user(users, "admin"))
    assert "Fee Schedule" in customer and "Anti-Money Laundering Policy" not in customer
    assert "Anti-Money Laundering Policy" in support and "Board" not in support
    assert "Board" in admin and "Board" not in customer

    listed = (await client.get("/v1/documents", headers=as_user(users, "customer"))).json()
    assert all(d["source"] is None and d["user_ids"] == [] for d in listed)


async def test_customers_cannot_upload(client, users, library):
    _, documents = library
    before = len(documents.store.all())
    response = await upload(client, "mine.md", markdown_bytes(), as_user(users, "customer"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert len(documents.store.all()) == before


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("big.txt", b"y" * (LIMIT + 1), 413, "file_too_large"),
        ("sheet.xlsx", b"PK\x03\x04", 415, "unsupported_type"),
        ("broken.pdf", b"%PDF-1.4 not really", 422, "corrupt_file"),
        ("empty.md", b"", 422, "empty_file"),
    ],
)
async def test_bad_uploads_get_a_clear_error(client, users, library, name, data, status, code):
    _, documents = library
    before = len(documents.store.all())
    response = await upload(client, name, data, as_user(users, "support"))
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert len(documents.store.all()) == before and documents.blobs.list() == []


async def test_only_admins_delete(client, users, library):
    _, documents = library
    added = (await upload(client, "gone.md", markdown_bytes(), visibility="public")).json()
    path = f"/v1/documents/{added['document_id']}"

    refused = await client.delete(path, headers=as_user(users, "support"))
    assert refused.status_code == 403

    deleted = await client.delete(path, headers=as_user(users, "admin"))
    assert deleted.status_code == 200
    assert deleted.json()["chunks"] >= 1 and deleted.json()["blobs"] == 1
    assert added["document_id"] not in documents.index.documents
    assert "Fee Guide" not in await titles(client, as_user(users, "admin"))
    assert (await client.delete(path)).status_code == 404


async def test_the_endpoints_are_documented(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"post", "get"} <= paths["/v1/documents"].keys()
    assert "delete" in paths["/v1/documents/{document_id}"]
