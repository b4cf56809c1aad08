"""A real uvicorn server on 127.0.0.1 in a thread of the test process, for what only a real
server shows: the lifespan (warm-up), bytes arriving on a socket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import FastAPI

from cli.thread_server import free_port, serve_in_thread

__all__ = ["free_port", "get", "live_server"]


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    with serve_in_thread(app) as base:
        yield base


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, timeout=10, **kwargs)
