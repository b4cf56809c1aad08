"""Secrets an install makes for itself under VAR_DIR (the development token key, the chat UI's
session key): readable by their owner only from the first byte, complete before anyone can
read them, and never replaced. When two processes race to make one, the first one linked into
place wins and both use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes, after writing `make()` to it (mode 0600) if it did not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(make())
            os.link(temporary, path)  # atomic, and refuses to replace what another made first
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_bytes()
