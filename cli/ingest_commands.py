"""`trading-assist ingest PATH...`: add files and folders to the document library.

Each file is its own document, identified by its resolved path: ingesting it again is a no-op
when its bytes are unchanged and a new version when they changed. One bad file does not stop
the others; the summary says what happened to each, and the exit code is 1 if any failed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from retrieval.chunks import Visibility
from retrieval.convert import FILE_TYPES
from services.documents import DocumentError

STATUS_STYLE = {
    "added": "green",
    "new_version": "cyan",
    "updated": "cyan",
    "unchanged": "dim",
    "failed": "red",
}


def collect_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Files named directly, and the supported files inside folders (hidden ones left out);
    second, the files in folders skipped for their type. A file named directly is always
    tried, so an unsupported one fails with its reason instead of vanishing."""
    files: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
            continue
        for found in sorted(path.rglob("*")):
            parts = found.relative_to(path).parts
            if not found.is_file() or any(p.startswith(".") for p in parts):
                continue
            (files if found.suffix.lower() in FILE_TYPES else skipped).append(found)
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, skipped


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(exists=True, help="Files, or folders to search recursively."),
    ],
    visibility: Annotated[
        Visibility | None,
        typer.Option(help="Who may read: default kept, internal for a new document."),
    ] = None,
    roles: Annotated[
        str | None, typer.Option(help="Restricted to these roles, e.g. support,admin.")
    ] = None,
    user_ids: Annotated[
        str | None, typer.Option(help="Restricted to these user ids, e.g. 12,40.")
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Title (one file only); default its first heading.")
    ] = None,
    doc_type: Annotated[
        str | None, typer.Option(help="Type, e.g. policy or faq; default kept, else other.")
    ] = None,
) -> None:
    """Read PDF, DOCX, HTML, Markdown, text and image files into the document library."""
    from cli.main import _settings
    from retrieval.factory import open_document_index
    from retrieval.ingest import parse_access
    from retrieval.library import DocumentLibrary
    from services.db.engines import make_engine
    from services.db.migrate import upgrade
    from services.identity import Caller, Role

    console = Console(stderr=True, soft_wrap=True)
    files, skipped = collect_files(paths)
    if title and len(files) != 1:
        console.print("[red]error:[/red] --title names one document; give exactly one file")
        raise typer.Exit(2)
    try:
        access = parse_access(visibility.value if visibility else None, roles, user_ids)
    except DocumentError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    if not files:
        console.print("nothing to ingest: no supported files found")
        raise typer.Exit(1)

    settings = _settings()
    engine = make_engine(settings.database_url)
    rows: list[tuple[str, str, str, str, str, str, str]] = []
    try:
        upgrade(engine)
        with console.status("opening the document index"):
            library = DocumentLibrary.from_settings(settings, engine, open_document_index(settings))
        operator = Caller(user_id=None, role=Role.ADMIN)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("ingesting", total=len(files))
            for path in files:
                progress.update(task, description=path.name)
                rows.append(_ingest_one(library, path, access, title, doc_type, operator))
                progress.advance(task)
    finally:
        engine.dispose()
    _summary(rows, skipped)
    if any(row[1] == "failed" for row in rows):
        raise typer.Exit(1)


def _ingest_one(library, path: Path, access, title, doc_type, operator) -> tuple[str, ...]:
    from retrieval.ingest import IngestRequest

    request = IngestRequest(
        filename=path.name, source=str(path), title=title, doc_type=doc_type, access=access
    )
    try:
        result = library.add(path.read_bytes(), request, operator)
    except DocumentError as exc:
        return (str(path), "failed", "", "", "", "", exc.message)
    except OSError as exc:
        return (str(path), "failed", "", "", "", "", f"cannot read the file: {exc.strerror}")
    return (
        str(path),
        result.status.value,
        str(result.document_id),
        str(result.version),
        str(result.chunks),
        f"{result.seconds:.2f}",
        "",
    )


def _summary(rows: list[tuple[str, ...]], skipped: list[Path]) -> None:
    out = Console()
    table = Table("file", "status", "document", "version", "chunks", "seconds", "reason")
    for file, status, *rest in rows:
        style = STATUS_STYLE.get(status, "")
        table.add_row(file, f"[{style}]{status.replace('_', ' ')}[/{style}]", *rest)
    out.print(table)
    counts = Counter(row[1] for row in rows)
    line = ", ".join(
        f"{counts[status]} {status.replace('_', ' ')}" for status in STATUS_STYLE if counts[status]
    )
    if skipped:
        line += f"; {len(skipped)} skipped (unsupported type)"
    out.print(line)
