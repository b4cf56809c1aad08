"""A scripted model server for tests: Ollama's and OpenAI's wire protocols, replies from a script.

The real client libraries (`ollama` under `ChatOllama`, `openai` under `ChatOpenAI`) talk to it
over real HTTP on 127.0.0.1, so a test exercises exactly what production does, minus the
weights. It speaks:

- Ollama: `POST /api/chat` (NDJSON stream or one JSON body), `GET /api/tags`, `GET /api/version`;
- OpenAI: `POST /v1/chat/completions` (server-sent events ending with `data: [DONE]`, or one JSON
  body) with `usage` and OpenRouter's `usage.cost`, and `GET /v1/models`;
- llama.cpp: `GET /health`.

Each chat request is recorded and answered by the script: a callable from the recorded request
to a `Reply`, or the queue made by `replies(...)`. A `Reply` can also misbehave: wait before
answering (for timeouts), answer with an HTTP error, send a body that is not JSON, or drop the
connection halfway.

>>> with ScriptedModelServer(replies(Reply("hi"))) as server:
...     import httpx
...     httpx.get(f"{server.url}/api/version").json()["version"]
'0.0.0-scripted'
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Protocol = Literal["ollama", "openai"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer, or one scripted failure."""

    text: str = "ok"
    prompt_tokens: int = 11
    completion_tokens: int = 5
    cost_usd: float | None = None  # OpenAI protocol only: sent as `usage.cost` (OpenRouter)
    model: str | None = None  # the model that "answered"; default: the one asked for
    delay_s: float = 0.0  # wait this long before the response starts
    chunk_delay_s: float = 0.0  # streaming: wait this long before each chunk
    status: int = 200  # anything else: an error response with this status
    malformed: bool = False  # a body (or a stream line) that is not JSON
    drop_connection: bool = False  # send the headers and part of the body, then close
    finish_reason: str = "stop"  # OpenAI protocol: "length" is a reply cut at max_tokens


@dataclass(frozen=True)
class RecordedRequest:
    protocol: Protocol
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def stream(self) -> bool:
        # Ollama streams unless told not to; OpenAI only when asked
        default = self.protocol == "ollama"
        return bool(self.body.get("stream", default))

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    def last_user_text(self) -> str:
        users = [m for m in self.body.get("messages", []) if m.get("role") == "user"]
        return str(users[-1].get("content", "")) if users else ""


Script = Callable[[RecordedRequest], Reply]


def replies(*items: Reply | str) -> Script:
    """A script that plays the replies in order, then repeats the last one."""
    queue = [item if isinstance(item, Reply) else Reply(item) for item in items] or [Reply()]
    lock = threading.Lock()

    def play(_request: RecordedRequest) -> Reply:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return play


def _pieces(text: str) -> list[str]:
    """Split a reply into stream chunks at word boundaries, keeping every character."""
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]] if text else [""]


class _Dropped(Exception):
    """Raised inside a response body on purpose: the server then closes the connection."""


def _is_deliberate(exc: BaseException | None) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_deliberate(inner) for inner in exc.exceptions)
    return isinstance(exc, _Dropped)


class _DropFilter(logging.Filter):
    """Keeps uvicorn from reporting the connections this server drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_deliberate(record.exc_info[1]))


def _quiet_deliberate_drops() -> None:
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFilter) for f in server_log.filters):
        server_log.addFilter(_DropFilter())


@dataclass
class ScriptedModelServer:
    """Runs the scripted app with uvicorn on a thread; use as a context manager."""

    script: Script = field(default_factory=replies)
    models: Sequence[str] = ("scripted-model",)  # listed by /api/tags and /v1/models
    healthy: bool = True  # False: every health and listing endpoint answers 503
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifetime --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server root: Ollama's base URL; OpenAI's is `url + "/v1"`."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ScriptedModelServer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            lifespan="off",
            log_config=None,  # leave the process's logging alone
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        _quiet_deliberate_drops()
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the scripted model server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what happened ----------------------------------------------------------------------

    def play(self, *items: Reply | str) -> None:
        """Replace the script with a queue of replies."""
        self.script = replies(*items)

    def recorded(self, protocol: Protocol | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if protocol is None or r.protocol == protocol]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- the app ----------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/chat", self._ollama_chat, methods=["POST"]),
                Route("/api/tags", self._ollama_tags, methods=["GET"]),
                Route("/api/version", self._ollama_version, methods=["GET"]),
                Route("/v1/chat/completions", self._openai_chat, methods=["POST"]),
                Route("/v1/models", self._openai_models, methods=["GET"]),
                Route("/health", self._health, methods=["GET"]),
            ]
        )

    async def _record(self, request: Request, protocol: Protocol) -> RecordedRequest:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {"_raw": raw.decode(errors="replace")}
        recorded = RecordedRequest(protocol, request.url.path, dict(request.headers), body)
        with self._lock:
            self.requests.append(recorded)
        return recorded

    async def _misbehave(self, reply: Reply) -> Response | None:
        """Apply the reply's delay; return the failure response it asks for, if any."""
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.drop_connection:
            return StreamingResponse(_dropping_body(), media_type="application/json")
        if reply.status != 200:
            return JSONResponse({"error": f"scripted failure {reply.status}"}, reply.status)
        return None

    def _unhealthy(self) -> Response | None:
        if self.healthy:
            return None
        return JSONResponse({"error": "scripted: unhealthy"}, 503)

    async def _health(self, _request: Request) -> Response:
        return self._unhealthy() or JSONResponse({"status": "ok"})

    # Ollama ---------------------------------------------------------------------------------

    async def _ollama_version(self, _request: Request) -> Response:
        return self._unhealthy() or JSONResponse({"version": "0.0.0-scripted"})

    async def _ollama_tags(self, _request: Request) -> Response:
        listing = [
            {
                "name": name,
                "model": name,
                "modified_at": "2026-01-01T00:00:00Z",
                "size": 1,
                "digest": "0" * 64,
                "details": {"format": "gguf", "family": "scripted"},
            }
            for name in self.models
        ]
        return self._unhealthy() or JSONResponse({"models": listing})

    async def _ollama_chat(self, request: Request) -> Response:
        recorded = await self._record(request, "ollama")
        reply = self.script(recorded)
        if failure := await self._misbehave(reply):
            return failure
        model = reply.model or recorded.model
        done = {
            "model": model,
            "created_at": "2026-01-01T00:00:00Z",
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "load_duration": 1000,
            "prompt_eval_count": reply.prompt_tokens,
            "prompt_eval_duration": 1000,
            "eval_count": reply.completion_tokens,
            "eval_duration": 1000,
        }
        if not recorded.stream:
            if reply.malformed:
                return Response('{"model": "' + model + '", "message": {', media_type=_JSON)
            message = {"role": "assistant", "content": reply.text}
            return JSONResponse({**done, "message": message})

        async def lines() -> AsyncIterator[bytes]:
            for piece in _pieces(reply.text):
                if reply.chunk_delay_s:
                    await asyncio.sleep(reply.chunk_delay_s)
                line = {
                    "model": model,
                    "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
                yield (json.dumps(line) + "\n").encode()
            if reply.malformed:
                yield b'{"model": "broken", "message": \n'
                return
            last = {**done, "message": {"role": "assistant", "content": ""}}
            yield (json.dumps(last) + "\n").encode()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    # OpenAI -------------------------------------------------------------------------------

    async def _openai_models(self, _request: Request) -> Response:
        listing = [
            {"id": name, "object": "model", "created": 0, "owned_by": "scripted"}
            for name in self.models
        ]
        return self._unhealthy() or JSONResponse({"object": "list", "data": listing})

    async def _openai_chat(self, request: Request) -> Response:
        recorded = await self._record(request, "openai")
        reply = self.script(recorded)
        if failure := await self._misbehave(reply):
            return failure
        model = reply.model or recorded.model
        usage: dict[str, Any] = {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        }
        if reply.cost_usd is not None:
            usage["cost"] = reply.cost_usd
        head = {"id": "chatcmpl-scripted", "created": 1_767_225_600, "model": model}
        if not recorded.stream:
            if reply.malformed:
                return Response('{"id": "chatcmpl-scripted", "choices": [', media_type=_JSON)
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": reply.finish_reason,
            }
            body = {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
            return JSONResponse(body)

        include_usage = bool((recorded.body.get("stream_options") or {}).get("include_usage"))

        def event(payload: dict[str, Any]) -> bytes:
            return f"data: {json.dumps(payload)}\n\n".encode()

        def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return event({**head, "object": "chat.completion.chunk", "choices": [choice]})

        async def events() -> AsyncIterator[bytes]:
            yield chunk({"role": "assistant", "content": ""}, None)
            for piece in _pieces(reply.text):
                if reply.chunk_delay_s:
                    await asyncio.sleep(reply.chunk_delay_s)
                yield chunk({"content": piece}, None)
            if reply.malformed:
                yield b'data: {"id": "chatcmpl-scripted", "choices": [\n\n'
                return
            yield chunk({}, reply.finish_reason)
            if include_usage:
                yield event(
                    {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
                )
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")


_JSON = "application/json"


async def _dropping_body() -> AsyncIterator[bytes]:
    yield b'{"partial": '
    raise _Dropped("scripted: connection dropped")
