"""localstripe, a third-party Stripe API server, for the payment tests.

Its pinned dependencies clash with the project's, so it lives in a venv of its own, created once
under the cache folder (`python -m venv` + `pip install localstripe==1.15.10`), and runs as a
subprocess on a free 127.0.0.1 port for the test session. The real `stripe` SDK talks to it
through `STRIPE_API_BASE`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

VERSION = "1.15.10"
API_KEY = "sk_test_localstripe"


def venv_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trading-assist" / "localstripe-venv"


def _installed(python: Path) -> bool:
    if not python.exists():
        return False
    found = subprocess.run(
        [
            str(python),
            "-c",
            f"import importlib.metadata as m; assert m.version('localstripe') == '{VERSION}'",
        ],
        capture_output=True,
    )
    return found.returncode == 0


def ensure_venv() -> Path:
    """The venv's python, creating the venv on first use (into a temporary folder first, so an
    interrupted install is never mistaken for a finished one)."""
    target = venv_dir()
    python = target / "bin" / "python"
    if _installed(python):
        return python
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(building)], check=True)
    subprocess.run(
        [str(building / "bin" / "python"), "-m", "pip", "install", "-q", f"localstripe=={VERSION}"],
        check=True,
    )
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)  # `python -m localstripe` needs no script paths, so a move is safe
    return python


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", name="localstripe")
def localstripe_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running localstripe, fresh for this session."""
    python = ensure_venv()
    port = _free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "server.log").open("w")
    process = subprocess.Popen(
        [str(python), "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/v1/customers", auth=(API_KEY, ""), timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"localstripe did not start; see {log.name}") from None
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)
    log.close()
