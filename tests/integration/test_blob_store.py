"""The blob stores against the same contract: a local folder, and Azure Blob Storage as azurite
(the real emulator, installed by `make azurite`) serves it on a free 127.0.0.1 port."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from retrieval.convert import Converter
from retrieval.ingest import Ingestor, IngestRequest
from retrieval.library import DocumentLibrary
from services.blob_store import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    AzureBlobStore,
    BlobError,
    BlobNotFound,
    LocalBlobStore,
    open_blob_store,
)
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.identity import Caller, Role
from tests.integration.ingest_files import RecordingIndex, markdown_bytes

AZURITE = Path(__file__).resolve().parents[2] / "infra/azurite/node_modules/.bin/azurite-blob"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def azurite() -> str:
    """azurite's blob endpoint, e.g. http://127.0.0.1:PORT/devstoreaccount1."""
    assert AZURITE.exists(), "azurite is not installed: run `make azurite`"
    port = _free_port()
    process = subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost=127.0.0.1",
            f"--blobPort={port}",
            "--inMemoryPersistence",
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"azurite did not start: {process.stderr.read().decode()[-500:]}"
                    ) from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _connection_string(endpoint: str, container: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint};Container={container}"
    )


@pytest.fixture(params=["folder", "azure-url", "azure-connection-string"])
def store(request, tmp_path, azurite):
    name = request.node.name.split("[")[0].replace("_", "-")[:40]  # a fresh container each
    if request.param == "folder":
        return open_blob_store(f"file://{tmp_path / 'blobs'}")
    if request.param == "azure-url":
        return open_blob_store(f"{azurite}/{name}")
    return open_blob_store(_connection_string(azurite, f"{name}-cs"))


def test_put_get_list_delete(store):
    store.put("documents/ab/1.pdf", b"%PDF first", "application/pdf")
    store.put("documents/ab/2.pdf", b"%PDF second")
    store.put("documents/cd/1.txt", b"other")
    store.put("documents/ab/1.pdf", b"%PDF replaced")  # overwriting is allowed

    assert store.get("documents/ab/1.pdf") == b"%PDF replaced"
    assert store.list("documents/ab/") == ["documents/ab/1.pdf", "documents/ab/2.pdf"]
    assert store.exists("documents/cd/1.txt") and not store.exists("documents/cd/2.txt")

    store.delete("documents/ab/1.pdf")
    store.delete("documents/ab/1.pdf")  # deleting twice is not an error
    assert store.list() == ["documents/ab/2.pdf", "documents/cd/1.txt"]
    with pytest.raises(BlobNotFound, match="documents/ab/1.pdf"):
        store.get("documents/ab/1.pdf")


@pytest.mark.parametrize("key", ["../escape.txt", "/etc/passwd", "a//b", "a/./b", "", "a\\b"])
def test_keys_cannot_escape_the_store(store, key):
    with pytest.raises(BlobError, match="invalid blob key"):
        store.put(key, b"x")


def test_the_url_picks_the_store(azurite, tmp_path):
    assert isinstance(open_blob_store(f"file://{tmp_path}"), LocalBlobStore)
    azure = open_blob_store(f"{azurite}/picked")
    assert isinstance(azure, AzureBlobStore) and azure.description.endswith("/picked")
    assert AZURITE_KEY not in open_blob_store(_connection_string(azurite, "xyz")).description
    with pytest.raises(BlobError, match="not file://PATH"):
        open_blob_store("ftp://example/blobs")
    with pytest.raises(BlobError, match="names one container"):
        open_blob_store(f"{azurite}/a/b")


def test_ingestion_keeps_and_deletes_its_files_in_azure(azurite, tmp_path):
    blobs = open_blob_store(f"{azurite}/ingest")
    engine = make_engine(f"sqlite:///{tmp_path / 'docs.db'}")
    upgrade(engine)
    library = DocumentLibrary(
        Ingestor(
            engine,
            blobs,
            RecordingIndex(),
            Converter("rapidocr"),
            max_chars=500,
            overlap_chars=0,
            max_bytes=10**6,
        )
    )
    admin = Caller(role=Role.ADMIN)
    data = markdown_bytes()
    try:
        added = library.add(data, IngestRequest(filename="g.md", source="t:g.md"), admin)
        [key] = blobs.list("documents/")
        assert blobs.get(key) == data
        library.delete(added.document_id, admin)
        assert blobs.list("documents/") == []
    finally:
        engine.dispose()
