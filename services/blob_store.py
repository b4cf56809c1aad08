"""Where original files are kept: a local folder by default, Azure Blob Storage when configured.

`BLOB_STORAGE_URL` picks the store:

- `file://PATH`: a folder on this machine (default `file://<VAR_DIR>/blobs`).
- an Azure container URL: `https://ACCOUNT.blob.core.windows.net/CONTAINER`, optionally with a
  SAS token as its query string; or the emulator's `http://127.0.0.1:10000/devstoreaccount1/CONTAINER`
  (azurite; its account key is the public well-known one). Without a SAS token, a real account is
  reached with `DefaultAzureCredential` (managed identity, az login), which needs `azure-identity`.
- an Azure connection string (`DefaultEndpointsProtocol=...;AccountName=...;AccountKey=...` or
  `UseDevelopmentStorage=true`), with an optional `;Container=NAME` (default `documents`).

Keys are relative paths such as `documents/ab12/3f9c.pdf`; both stores refuse anything that could
escape their root, so a key is never a way to reach another file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key; it protects nothing outside the emulator.
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEFAULT_CONTAINER = "documents"
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class BlobError(RuntimeError):
    """A blob could not be read or written; the message names the key and the store."""


class BlobNotFound(BlobError):
    pass


class BlobStore(Protocol):
    description: str  # where the blobs go, for `doctor` and logs (no secrets)

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def get(self, key: str) -> bytes:
        """The blob's bytes; `BlobNotFound` when there is none."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing blob is not an error (deleting twice is safe)."""

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with `prefix`, sorted."""


def check_key(key: str) -> str:
    """A key is a relative path of plain segments; anything else is refused.

    >>> check_key("documents/ab12/3f9c.pdf")
    'documents/ab12/3f9c.pdf'
    >>> check_key("../etc/passwd")
    Traceback (most recent call last):
    ...
    services.blob_store.BlobError: invalid blob key '../etc/passwd'
    """
    if not _KEY.fullmatch(key):
        raise BlobError(f"invalid blob key {key!r}")
    return key


class LocalBlobStore:
    """Blobs as files under one folder; writes go to a temporary file first, then are renamed,
    so a reader never sees half a blob."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.description = f"folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {key!r} in {self.description}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        for parent in path.parents:  # drop folders the deletion left empty, up to the root
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.exists():
            return []
        keys = (
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        return sorted(k for k in keys if k.startswith(prefix))


class AzureBlobStore:
    """Blobs in one Azure Storage container (or azurite's), through the official SDK."""

    def __init__(self, container_client, description: str):
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        self.container = container_client
        self.description = description
        try:
            self.container.create_container()
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            if exc.status_code != 403:  # a SAS without create rights: the container exists
                raise BlobError(f"cannot reach {description}: {exc.reason}") from exc

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        from azure.storage.blob import ContentSettings

        settings = ContentSettings(content_type=content_type) if content_type else None
        self.container.upload_blob(check_key(key), data, overwrite=True, content_settings=settings)

    def get(self, key: str) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.container.download_blob(check_key(key)).readall()
        except ResourceNotFoundError:
            raise BlobNotFound(f"no blob {key!r} in {self.description}") from None

    def exists(self, key: str) -> bool:
        return self.container.get_blob_client(check_key(key)).exists()

    def delete(self, key: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        with contextlib.suppress(ResourceNotFoundError):
            self.container.delete_blob(check_key(key))

    def list(self, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.container.list_blobs(name_starts_with=prefix or None))


def is_connection_string(value: str) -> bool:
    """
    >>> is_connection_string("UseDevelopmentStorage=true"), is_connection_string("file:///tmp")
    (True, False)
    """
    return (
        "=" in value
        and "://" not in value.split("=", 1)[0]
        and ("AccountName=" in value or "UseDevelopmentStorage=" in value)
    )


def open_blob_store(url: str) -> BlobStore:
    """The store `BLOB_STORAGE_URL` names (see the module docstring for the forms)."""
    if url.startswith("file://"):
        return LocalBlobStore(Path(url.removeprefix("file://")))
    if is_connection_string(url):
        return _from_connection_string(url)
    if url.startswith(("https://", "http://")):
        return _from_container_url(url)
    raise BlobError(
        f"BLOB_STORAGE_URL {url.split('?')[0]!r} is not file://PATH, an Azure container URL or "
        "an Azure connection string"
    )


def _from_connection_string(conn: str) -> AzureBlobStore:
    from azure.storage.blob import ContainerClient

    parts = [p for p in conn.strip().rstrip(";").split(";") if p]
    container = DEFAULT_CONTAINER
    kept = []
    for part in parts:
        name, _, value = part.partition("=")
        if name.strip().lower() == "container":
            container = value.strip()
        else:
            kept.append(part)
    client = ContainerClient.from_connection_string(";".join(kept), container_name=container)
    return AzureBlobStore(client, f"azure container {container} at {client.url.split('?')[0]}")


def _from_container_url(url: str) -> AzureBlobStore:
    from azure.storage.blob import ContainerClient

    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    emulator = bool(path) and path[0] == AZURITE_ACCOUNT
    if len(path) != (2 if emulator else 1):
        raise BlobError(
            "an Azure blob URL names one container: https://ACCOUNT.blob.core.windows.net/"
            f"CONTAINER or http://HOST:PORT/{AZURITE_ACCOUNT}/CONTAINER"
        )
    public = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if parts.query:  # a SAS token travels in the URL itself
        client = ContainerClient.from_container_url(url)
    elif emulator:
        client = ContainerClient.from_container_url(
            public, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
        )
    else:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError:
            raise BlobError(
                "BLOB_STORAGE_URL has no SAS token; install azure-identity for managed identity, "
                "or use a SAS URL or a connection string"
            ) from None
        client = ContainerClient.from_container_url(public, credential=DefaultAzureCredential())
    return AzureBlobStore(client, f"azure container {public}")
