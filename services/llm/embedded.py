"""The embedded model: llama.cpp's OpenAI-compatible server, inside this process.

xllamacpp runs llama.cpp's own HTTP server on a thread of ours, so the rest of the platform
talks to the embedded model exactly as it would to Ollama or any OpenAI-compatible endpoint.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import httpx

log = logging.getLogger(__name__)


class EmbeddedModelError(RuntimeError):
    """The embedded model could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedLlamaServer:
    def __init__(
        self,
        model_file: Path,
        *,
        threads: int,
        context_tokens: int,
        alias: str,
        slots: int = 4,
        slot_dir: Path | None = None,
    ):
        """`slots` prompts stay cached side by side (each with `context_tokens`): the staff
        and the customer SQL prompts' long schema prefixes and the tool list of a request to
        act are not evicted by the short answer-writing prompt.
        `slot_dir` is where processed prompts are saved to disk and restored from."""
        self.model_file = model_file
        self.slots = slots
        self.slot_dir = slot_dir
        self.threads = threads
        self.context_tokens = context_tokens
        self.alias = alias
        self._server = None
        self.base_url = ""

    def start(self, ready_timeout_s: float = 120.0) -> str:
        """Load the weights and wait until the server answers; return its `/v1` base URL."""
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_file)
        params.model_alias = self.alias
        params.hostnames = ["127.0.0.1"]
        params.port = free_port()
        params.n_ctx = self.context_tokens * self.slots
        params.n_parallel = self.slots
        if self.slot_dir is not None:
            self.slot_dir.mkdir(parents=True, exist_ok=True)
            params.slot_save_path = f"{self.slot_dir}/"  # llama.cpp appends the file name as is
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.sampling.temp = 0.0
        params.warmup = False
        params.verbosity = 0
        started = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # the binding raises plain RuntimeError/ValueError
            raise EmbeddedModelError(f"llama.cpp could not load {self.model_file}: {exc}") from exc
        root = str(self._server.listening_address).rstrip("/")
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{root}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise EmbeddedModelError(f"embedded model did not become ready in {ready_timeout_s} s")
        self.base_url = f"{root}/v1"
        log.info(
            "embedded model %s ready at %s in %.1f s",
            self.alias,
            root,
            time.perf_counter() - started,
        )
        return self.base_url

    def slot_action(self, slot: int, action: str, filename: str) -> bool:
        """Save a slot's processed prompt to `slot_dir`, or restore one; False if refused."""
        root = self.base_url.removesuffix("/v1")
        response = httpx.post(
            f"{root}/slots/{slot}",
            params={"action": action},
            json={"filename": filename},
            timeout=120,
        )
        if response.status_code != 200:
            log.warning("slot %s %s failed: %s", action, filename, response.text[:200])
        return response.status_code == 200

    def close(self) -> None:
        self._server = None  # xllamacpp stops the server when the object is released
