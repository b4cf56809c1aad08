"""Crash-safe index folders: each save is a new generation, made current by one rename.

An index is several files (the vectors, the chunk metadata) that must agree with each other.
Overwriting them in place can leave a new vector file beside old metadata if the process dies
half way. Instead each save writes a complete `gen-NNNNNN/` folder under a temporary name, syncs
it, renames it into place, then points the `CURRENT` file at it (write a temporary file, rename
over the old one: atomic on POSIX). Readers follow `CURRENT`, so they see the old generation or
the new one, never a mixture. Older generations are deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

CURRENT = "CURRENT"
_GENERATION = re.compile(r"^gen-(\d{6,})$")


def current_generation(root: Path) -> Path | None:
    """The folder `CURRENT` names, or None for a root that was never saved."""
    pointer = Path(root) / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = Path(root) / name
    if not _GENERATION.match(name) or not folder.is_dir():
        raise FileNotFoundError(f"{pointer} names {name!r}, which is not a saved generation")
    return folder


def write_generation(root: Path, write: Callable[[Path], None]) -> Path:
    """Have `write` fill a fresh folder, then make it the current generation."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := _GENERATION.match(p.name))]
    name = f"gen-{max(numbers, default=0) + 1:06d}"
    staging = root / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir()
    try:
        write(staging)
        for path in staging.iterdir():
            _fsync(path)
        _fsync(staging)
        os.rename(staging, root / name)
        pointer = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}.tmp"
        pointer.write_text(name + "\n", encoding="utf-8")
        _fsync(pointer)
        os.replace(pointer, root / CURRENT)
        _fsync(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for path in root.iterdir():  # older generations and leftovers of interrupted saves
        if path.name != name and (_GENERATION.match(path.name) or path.name.endswith(".tmp")):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return root / name


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        with contextlib.suppress(OSError):  # some filesystems refuse fsync on directories
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
