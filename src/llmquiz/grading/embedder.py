"""The embedding model behind the semantic grader; heavy imports happen in `load` only."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

from llmquiz.grading import model as mdl


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (a numpy array, one row per text)."""

    model_id: str  # identifies the vectors in the cache (name + weights identity)
    name: str  # short display name

    def load(self) -> None: ...
    def encode(self, texts: list[str]) -> Any: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (thread-safe)."""

    BATCH_SIZE = 64

    def __init__(self, model: str | None, device: str, cache: Path | None) -> None:
        self._model_arg = model
        self._device = device
        self._cache = cache
        self.name = mdl.display_name(model)
        if mdl.is_default(model):
            self.model_id = f"{mdl.DEFAULT_MODEL_NAME}@{mdl.DEFAULT_MODEL_SHA256[:16]}"
        else:
            assert model is not None
            path = Path(model).expanduser()
            self.model_id = self._local_id(path) if path.exists() else model
        self._model: Any = None
        self.device: str | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _local_id(path: Path) -> str:
        resolved = path.resolve()
        stamp = ""
        for weights in ("model.safetensors", "pytorch_model.bin"):
            try:
                st = (resolved / weights).stat()
            except OSError:
                continue
            stamp = f"|{st.st_size}|{st.st_mtime_ns}"
            break
        return f"{resolved}{stamp}"

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                self._model, self.device = mdl.load_model(self._model_arg, self._device, self._cache)

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        self.load()
        if not texts:
            dim = self._model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.BATCH_SIZE,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
