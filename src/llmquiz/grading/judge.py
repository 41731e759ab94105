"""The claim judge: does a clause of the answer support a statement, contradict it, or neither?

A cross-encoder: the clause and the statement (a key point, or a bank misconception's claim)
are read together by the bundled MiniLM with low-rank adapters, and a 3-way head gives the
probabilities of support, contradiction and neither. A bi-encoder compares two mean-pooled
vectors and cannot tell "A is precision-based" from "A is recall-based"; reading both texts
at once can. The adapters and the head (trained by training/train_judge.py on pairs made by
rule from the bank and the seeds, and from written restatements of the bank's key points and
misconceptions) ship in `weights/`, checked by sha256 like the base model. An artifact may
read with the base model's first few layers only (its `layers` setting; the shipped one uses
all six: README, the claim judge).

On CPU it runs on the numpy engine (npbert.py: the adapters merged into the base weights at
load time, no torch import); on cuda on bert.py's torch modules. Import this module only
once a model is needed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmquiz.errors import ModelError
from llmquiz.grading.batching import even_batches
from llmquiz.grading.model import DEFAULT_MODEL_SHA256, file_sha256

if TYPE_CHECKING:
    from llmquiz.grading.bertconfig import BertConfig

ARTIFACT = Path(__file__).resolve().parent / "weights" / "claim-judge.safetensors"
ARTIFACT_SHA256 = "fed071d4c9826b6b1461e6c058ea5f3884c9e283bfc980adc9b327600b74be0c"
BASE_SHA256 = DEFAULT_MODEL_SHA256
MAX_TOKENS = 128  # a sentence (at most 60 words) and a statement; longer pairs are cut, the longer text first
BATCH_SIZE = 16  # measured on 2 cores with npbert.ROWS 384: 8 to 24 alike, 32 about a tenth slower
SUPPORT, CONTRADICT = 0, 1  # columns of judge(): support, contradict, neither


def read_artifact(path: Path, framework: str = "pt") -> tuple[dict[str, Any], dict[str, str]]:
    """The tensors ("pt": torch, "np": numpy) and the settings of a judge artifact."""
    from safetensors import safe_open

    with safe_open(str(path), framework) as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata() or {})  # noqa: SIM118


@cache
def _code_digest(*settings: str) -> str:
    """A digest of the settings and of the source of the modules that read pairs (by path: bert.py
    imports torch)."""
    digest = hashlib.sha256("\0".join(settings).encode())
    here = Path(__file__).resolve().parent
    for name in ("judge.py", "batching.py", "npbert.py", "bert.py", "bertconfig.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def verify_artifact(path: Path = ARTIFACT, expected: str = ARTIFACT_SHA256) -> None:
    """Raise ModelError unless the judge's file exists and has the expected sha256."""
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise ModelError(f"the claim judge's weights are missing: {path}; reinstall llmquiz") from exc
    if actual != expected:
        raise ModelError(
            f"the claim judge's weights fail verification: {path} has sha256 {actual}, "
            f"expected {expected}; reinstall llmquiz"
        )


def _layers(meta: dict[str, str], config: BertConfig) -> int:
    """How many of the base model's layers the judge reads with (an artifact may use the first few)."""
    raw = meta.get("layers", str(config.num_hidden_layers))
    layers = int(raw) if raw.isdigit() else 0
    if not 0 < layers <= config.num_hidden_layers:
        raise ModelError(
            f"the claim judge asks for {raw} layers; the base model has {config.num_hidden_layers}"
        )
    return layers


class ClaimJudge:
    """Loads the base model plus the adapters once (thread-safe); `judge` scores pairs.

    engine: "auto" (numpy on cpu, torch on cuda), or "numpy" / "torch" to choose.
    """

    def __init__(
        self,
        device: str = "cpu",
        artifact: Path = ARTIFACT,
        sha256: str = ARTIFACT_SHA256,
        engine: str = "auto",
    ) -> None:
        self._device = device
        self._artifact = artifact
        self._sha256 = sha256
        self._engine = engine if engine != "auto" else ("numpy" if device == "cpu" else "torch")
        self._lock = threading.Lock()
        self._model: Any = None
        self._head: Any = None
        self._tokenizer: Any = None

    @property
    def reading_stamp(self) -> str:
        """What decides this judge's readings: its artifact, engine and device, and the source of
        the code that reads (the cache of readings, judgecache.py, is kept under it)."""
        return _code_digest(self._sha256, self._engine, self._device)

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from llmquiz.grading.bertconfig import load_tokenizer
            from llmquiz.grading.model import bundled_model_dir

            verify_artifact(self._artifact, self._sha256)
            base = bundled_model_dir()
            state, meta = read_artifact(self._artifact, "np" if self._engine == "numpy" else "pt")
            if meta.get("base_sha256") != BASE_SHA256:
                raise ModelError(f"{self._artifact}: the claim judge was trained for another base model")
            if self._engine == "numpy":
                self._load_numpy(base, state, meta)
            else:
                self._load_torch(base, state, meta)
            self._tokenizer = load_tokenizer(base, MAX_TOKENS)

    def _load_numpy(self, base: Path, state: dict[str, Any], meta: dict[str, str]) -> None:
        from llmquiz.grading import npbert
        from llmquiz.grading.bertconfig import BertConfig

        adapters = {k.removeprefix("bert."): v for k, v in state.items() if k.startswith("bert.")}
        try:
            weights = npbert.with_artifact(
                npbert.read_weights(base / "model.safetensors"), adapters, float(meta["alpha"])
            )
        except (ValueError, KeyError) as exc:
            raise ModelError(
                f"{self._artifact}: the claim judge's adapters do not fit the base model ({exc})"
            ) from exc
        self._head = (state["head.weight"], state["head.bias"])
        config = BertConfig.from_file(base / "config.json")
        self._model = npbert.NumpyBert(replace(config, num_hidden_layers=_layers(meta, config)), weights)

    def _load_torch(self, base: Path, state: dict[str, Any], meta: dict[str, str]) -> None:
        import torch

        from llmquiz.grading.bert import add_adapters, load_bert, merge_adapters

        model = load_bert(base)
        del model.encoder.layer[_layers(meta, model.config) :]
        add_adapters(model, rank=int(meta["rank"]), alpha=float(meta["alpha"]), seed=0)
        adapters = {k.removeprefix("bert."): v for k, v in state.items() if k.startswith("bert.")}
        missing = model.load_state_dict(adapters, strict=False)
        if missing.unexpected_keys or any(".lora_" in k for k in missing.missing_keys):
            raise ModelError(f"{self._artifact}: the claim judge's adapters do not fit the base model")
        merge_adapters(model)
        head = torch.nn.Linear(state["head.weight"].shape[1], state["head.weight"].shape[0])
        head.load_state_dict({"weight": state["head.weight"], "bias": state["head.bias"]})
        self._head = head.eval().to(self._device)
        self._model = model.eval().to(self._device)

    def judge(self, pairs: Sequence[tuple[str, str]]) -> Any:
        """(clause, statement) pairs -> an (n, 3) array of support/contradict/neither probabilities."""
        import numpy as np

        self.load()
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        if not pairs:
            return out
        # batched by token count, not characters: numbers, code and rare words take more tokens
        # per character, and sorting by characters left about a fifth of a batch's tokens padding
        encoded = self._tokenizer.encode_batch(list(pairs))  # padded on the right to the longest
        ids, attention, types = (
            np.array([getattr(e, field) for e in encoded], dtype=np.int64)
            for field in ("ids", "attention_mask", "type_ids")
        )
        lengths = attention.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        side_by_side = 1
        if self._engine == "numpy":
            from llmquiz.grading.npbert import workers

            side_by_side = workers()
        batches = even_batches(order, lengths, BATCH_SIZE, side_by_side)
        inputs = []
        for batch in batches:
            width = int(lengths[batch].max())  # the batch's own longest pair: the rest is padding
            inputs.append((ids[batch, :width], attention[batch, :width], types[batch, :width]))
        if self._engine == "numpy":
            from llmquiz.grading.npbert import in_threads

            probs = in_threads(lambda arrays: self._numpy_probs(*arrays), inputs)
        else:
            probs = [self._torch_probs(*arrays) for arrays in inputs]
        for batch, rows in zip(batches, probs, strict=True):
            out[batch] = rows
        return out

    def _numpy_probs(self, ids: Any, attention: Any, types: Any) -> Any:
        import numpy as np

        from llmquiz.grading.npbert import mean_pool

        weight, bias = self._head
        logits = mean_pool(self._model(ids, attention, types), attention) @ weight.T + bias
        logits -= logits.max(axis=-1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=-1, keepdims=True)

    def _torch_probs(self, ids: Any, attention: Any, types: Any) -> Any:
        import torch

        from llmquiz.grading.bert import mean_pool

        def tensor(a: Any) -> Any:
            return torch.from_numpy(a).to(self._device)

        with torch.inference_mode():
            attention_t = tensor(attention)
            tokens = self._model(tensor(ids), attention_t, tensor(types))
            return torch.softmax(self._head(mean_pool(tokens, attention_t)), dim=-1).float().cpu().numpy()
