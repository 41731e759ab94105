"""The embedding model behind the semantic grader; heavy imports happen in `load` only."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

from llmquiz.grading import model as mdl


class Embedder(Protocol):
    """Turns texts into `Encoded` objects (sentence vector + token vectors + offsets)."""

    model_id: str  # identifies the vectors in the cache (name + weights identity)
    name: str  # short display name

    def load(self) -> None: ...
    def encode(self, texts: list[str]) -> list[Any]: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (thread-safe)."""

    BATCH_SIZE = 16  # small batches of length-sorted texts: fastest on CPU (measured 8-64)

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
        self._offsets = True
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

    @property
    def model(self) -> Any:
        """The loaded SentenceTransformer (loads it first)."""
        self.load()
        return self._model

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                model, self.device = mdl.load_model(self._model_arg, self._device, self._cache)
                tokenizer = getattr(model, "tokenizer", None)
                self._offsets = bool(getattr(tokenizer, "is_fast", False))
                self._model = model
                # the first forward pass sets up kernels: pay for it here, not after Enter
                self._encode_batch(["warm-up: the model is ready."])

    def encode(self, texts: list[str]) -> list[Any]:
        """Encode texts (sorted by length into batches); one `Encoded` per text, in order."""
        self.load()
        out: list[Any] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.BATCH_SIZE):
            batch = order[start : start + self.BATCH_SIZE]
            for i, enc in zip(batch, self._encode_batch([texts[i] for i in batch]), strict=True):
                out[i] = enc
        return out

    def _encode_batch(self, texts: list[str]) -> list[Any]:
        import numpy as np
        import torch

        from llmquiz.grading.encoding import Encoded, unit

        model = self._model
        if not self._offsets:
            vecs = model.encode(texts, convert_to_numpy=True, show_progress_bar=False)
            empty_tok = np.zeros((0, vecs.shape[1]), dtype=np.float32)
            empty_off = np.zeros((0, 2), dtype=np.int32)
            return [
                Encoded(t, unit(np.asarray(v, dtype=np.float32)), empty_tok, empty_off)
                for t, v in zip(texts, vecs, strict=True)
            ]
        features = model.tokenizer(
            texts,
            padding=True,
            truncation="longest_first",
            max_length=model.max_seq_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            return_tensors="pt",
        )
        offsets = features.pop("offset_mapping").numpy().astype(np.int32)
        special = features.pop("special_tokens_mask").numpy().astype(bool)
        features = {k: v.to(model.device) for k, v in features.items()}
        with torch.inference_mode():
            output = model.forward(features)
        sentence = output["sentence_embedding"].float().cpu().numpy()
        tokens = output["token_embeddings"].float().cpu().numpy()
        mask = features["attention_mask"].cpu().numpy().astype(bool) & ~special
        return [
            Encoded(
                text,
                unit(sentence[i]),
                np.ascontiguousarray(tokens[i][mask[i]]),
                offsets[i][mask[i]],
            )
            for i, text in enumerate(texts)
        ]
