"""BERT's forward pass in numpy: the bundled model and the claim judge on CPU without torch.

`import torch` alone costs about 2 s and 220 MB before the first grade; numpy, tokenizers
and safetensors together cost about 0.1 s and 30 MB. This module computes what bert.py's
torch modules compute, step for step in float32 (embeddings, self-attention, GELU, the
residual LayerNorms, mean pooling), from the same checkpoint names, so both give the same
vectors to within rounding (tests/test_fast_path.py, tests/test_numpy_judge.py). bert.py
stays for training and for `--device cuda`.

The claim judge's adapters are folded into the weights at load time (`with_artifact`):
every `NAME.lora_a` / `NAME.lora_b` pair found in the artifact, whatever its rank or
layer, becomes `NAME.weight + alpha / rank * lora_b @ lora_a`.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from llmquiz.grading.bertconfig import BertConfig

Weights = dict[str, np.ndarray]
T = TypeVar("T")
R = TypeVar("R")
MAX_WORKERS = 4
_SIDE_BY_SIDE = threading.Lock()  # one in_threads at a time: it owns the cores and the BLAS limit

# Abramowitz & Stegun 7.1.26: erfc(z) ~ t * poly(t) * exp(-z^2), t = 1 / (1 + p z), z >= 0,
# absolute error under 1.5e-7: below float32's resolution of GELU's outputs near 1.
# Here z = |x| / sqrt(2), and the 1/2 of Phi(-|x|) = erfc(z) / 2 is folded into the coefficients.
_P = np.float32(0.3275911 / math.sqrt(2))
_HALF_A = tuple(
    np.float32(a / 2) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)
# the feed-forward block works on this many tokens at a time, so that GELU's arrays stay in cache
# while the products stay large enough for BLAS's full speed (`benchmarks/bench_judge.py --rows`)
ROWS = 384


def gelu_(x: np.ndarray, t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, x * Phi(x), as torch's default F.gelu, in place; t, e: scratch of x's shape.

    numpy has no erf of its own; every step writes into x, t or e, so that a block of rows is
    computed in cache instead of in a dozen temporary arrays.
    """
    np.abs(x, out=t)
    t *= _P
    t += 1
    np.reciprocal(t, out=t)
    np.square(x, out=e)
    e *= np.float32(-0.5)
    np.exp(e, out=e)  # exp(-z^2)
    e *= t  # t exp(-z^2)
    a1, a2, a3, a4, a5 = _HALF_A
    poly = np.multiply(t, a5)
    for a in (a4, a3, a2):  # Horner's rule
        poly += a
        poly *= t
    poly += a1
    poly *= e  # Phi(-|x|) = erfc(z) / 2
    np.subtract(np.float32(0.5), poly, out=poly)
    np.copysign(poly, x, out=poly)
    poly += np.float32(0.5)  # Phi(x)
    x *= poly
    return x


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU of a copy of x."""
    out = np.array(x, dtype=np.float32)
    return gelu_(out, np.empty_like(out), np.empty_like(out))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = np.mean(centred * centred, axis=-1, keepdims=True)  # biased, as torch's
    centred *= 1 / np.sqrt(variance + np.float32(eps))
    centred *= weight
    centred += bias
    return centred


def mean_pool(tokens: np.ndarray, attention: np.ndarray) -> np.ndarray:
    """Mean of the real tokens' vectors (special tokens included, as sentence-transformers does)."""
    weights = attention[..., None].astype(tokens.dtype)
    return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


@lru_cache(maxsize=2)
def read_weights(path: Path) -> Weights:
    """A checkpoint's tensors as float32 arrays, read once per process and shared, read-only.

    The embedder and the claim judge share the base model's arrays: the judge replaces only
    the weights its adapters change.
    """
    from safetensors.numpy import load_file

    out = {}
    for name, array in load_file(str(path)).items():
        if name.startswith("pooler.") or name == "embeddings.position_ids":
            continue
        array = np.ascontiguousarray(array, dtype=np.float32)
        array.setflags(write=False)
        out[name] = array
    return out


def with_artifact(base: Weights, tensors: Weights, alpha: float) -> Weights:
    """The base weights with an adapter artifact's tensors (names without their `bert.` prefix).

    Each `NAME.lora_a` (rank x in) and `NAME.lora_b` (out x rank) pair is merged into
    `NAME.weight`, scaled by alpha / rank; any other tensor replaces the base tensor of the same
    name. Raises ValueError when a tensor names nothing in the base or has the wrong shape.
    """
    out = dict(base)
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for name, value in tensors.items():
        stem, _, part = name.rpartition(".")
        if part in ("lora_a", "lora_b"):
            pairs.setdefault(stem, {})[part] = np.asarray(value, dtype=np.float32)
        elif name in base and base[name].shape == value.shape:
            out[name] = np.asarray(value, dtype=np.float32)
        else:
            raise ValueError(f"{name}: no such tensor of shape {tuple(value.shape)} in the base model")
    for stem, pair in pairs.items():
        target = f"{stem}.weight"
        weight = base.get(target)
        a, b = pair.get("lora_a"), pair.get("lora_b")
        if a is None or b is None or weight is None or a.ndim != 2 or b.ndim != 2:
            raise ValueError(f"{stem}: an adapter needs lora_a and lora_b for a weight of the base model")
        if b.shape[1] != a.shape[0] or (b.shape[0], a.shape[1]) != weight.shape:
            raise ValueError(f"{stem}: adapter shapes {a.shape}, {b.shape} do not fit {weight.shape}")
        out[target] = weight + np.float32(alpha / a.shape[0]) * (b @ a)
    return out


def _joined_qkv(weights: Weights, p: str) -> tuple[np.ndarray, np.ndarray]:
    """A layer's query, key and value weights (and biases) stacked into one (3 x hidden, hidden)."""
    names = [f"{p}{part}" for part in ("query", "key", "value")]
    return (
        np.concatenate([weights[f"{name}.weight"] for name in names]),
        np.concatenate([weights[f"{name}.bias"] for name in names]),
    )


class NumpyBert:
    """BERT without its pooler, in numpy: token ids in, the last layer's token vectors out."""

    def __init__(self, config: BertConfig, weights: Weights) -> None:
        self.config = config
        needed = ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.weight"]
        for i in range(config.num_hidden_layers):
            own = f"encoder.layer.{i}."
            needed += [
                f"{own}attention.self.{part}.{kind}"
                for part in ("query", "key", "value")
                for kind in ("weight", "bias")
            ]
            needed.append(f"{own}output.LayerNorm.bias")
        missing = [name for name in needed if name not in weights]
        if missing:
            raise ValueError(f"not a BERT checkpoint: {', '.join(missing)} missing")
        # query, key and value as one product: one pass over the tokens instead of three; the
        # separate arrays are let go (a judge's, merged with its adapters, are its own alone)
        self._qkv = [
            _joined_qkv(weights, f"encoder.layer.{i}.attention.self.")
            for i in range(config.num_hidden_layers)
        ]
        self._w = {name: array for name, array in weights.items() if ".attention.self." not in name}

    def __call__(self, ids: np.ndarray, attention: np.ndarray, types: np.ndarray | None = None) -> np.ndarray:
        c, w = self.config, self._w
        b, t = ids.shape
        if types is None:
            types = np.zeros_like(ids)
        x = w["embeddings.word_embeddings.weight"][ids]
        x += w["embeddings.position_embeddings.weight"][:t]
        x += w["embeddings.token_type_embeddings.weight"][types]
        x = self._norm(x.reshape(b * t, c.hidden_size), "embeddings.LayerNorm")
        # added to the attention scores: padding tokens get no weight as keys
        mask = np.where(attention.astype(bool), 0, np.finfo(np.float32).min).astype(np.float32)
        mask = mask[:, None, None, :]
        for i in range(c.num_hidden_layers):
            x = self._layer(x, mask, b, t, i)
        return x.reshape(b, t, c.hidden_size)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        y = x @ self._w[f"{name}.weight"].T
        y += self._w[f"{name}.bias"]
        return y

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return layer_norm(x, self._w[f"{name}.weight"], self._w[f"{name}.bias"], self.config.layer_norm_eps)

    def _layer(self, x: np.ndarray, mask: np.ndarray, b: int, t: int, i: int) -> np.ndarray:
        p = f"encoder.layer.{i}."
        attended = self._linear(self._attention(x, mask, b, t, i), f"{p}attention.output.dense")
        attended = self._norm(attended + x, f"{p}attention.output.LayerNorm")
        return self._norm(self._feed_forward(attended, p) + attended, f"{p}output.LayerNorm")

    def _feed_forward(self, x: np.ndarray, p: str) -> np.ndarray:
        """output.dense(gelu(intermediate.dense(x))), ROWS tokens at a time."""
        w_in, b_in = self._w[f"{p}intermediate.dense.weight"], self._w[f"{p}intermediate.dense.bias"]
        w_out, b_out = self._w[f"{p}output.dense.weight"], self._w[f"{p}output.dense.bias"]
        out = np.empty((len(x), w_out.shape[0]), dtype=np.float32)
        inner = np.empty((min(ROWS, len(x)), w_in.shape[0]), dtype=np.float32)
        t, e = np.empty_like(inner), np.empty_like(inner)
        for start in range(0, len(x), ROWS):
            rows = x[start : start + ROWS]
            h, n = inner[: len(rows)], len(rows)
            np.matmul(rows, w_in.T, out=h)
            h += b_in
            gelu_(h, t[:n], e[:n])
            block = out[start : start + n]
            np.matmul(h, w_out.T, out=block)
            block += b_out
        return out

    def _attention(self, x: np.ndarray, mask: np.ndarray, b: int, t: int, i: int) -> np.ndarray:
        d, heads = self.config.hidden_size, self.config.num_attention_heads
        weight, bias = self._qkv[i]
        joined = x @ weight.T
        joined += bias
        joined = joined.reshape(b, t, 3, heads, d // heads)
        # each (b, heads, t, d / heads)
        q, k, v = (joined[:, :, part].transpose(0, 2, 1, 3) for part in range(3))
        scores = q @ k.transpose(0, 1, 3, 2)
        scores *= np.float32(1 / math.sqrt(d // heads))
        scores += mask
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        return (scores @ v).transpose(0, 2, 1, 3).reshape(b * t, d)


def workers() -> int:
    """CPUs this process may use, at most MAX_WORKERS."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, available))


def in_threads(forward: Callable[[T], R], batches: Sequence[T]) -> list[R]:
    """forward over the batches, one batch per core, each with a single BLAS thread.

    OpenBLAS spreads one product over the cores, but GELU, softmax and LayerNorm run on one
    core, and the products of a small batch are too small to split well: two batches side by
    side, one thread each, judged the dev set's pairs in 7.0 s where one batch at a time took
    10.1 s on 2 cores. numpy releases the GIL inside its loops and products, so threads suffice.
    """
    count = min(workers(), len(batches))
    if count <= 1:
        return [forward(batch) for batch in batches]
    from threadpoolctl import threadpool_limits

    results: list[R | None] = [None] * len(batches)
    failures: list[BaseException] = []

    def work(first: int) -> None:
        try:
            for i in range(first, len(batches), count):  # batches are length-sorted: deal them out
                results[i] = forward(batches[i])
        except BaseException as exc:  # raised again in the caller's thread
            failures.append(exc)

    # the BLAS limit is process-wide and not safe to set from two threads at once; daemon
    # threads, so that quitting never waits for a background load's remaining batches
    with _SIDE_BY_SIDE, threadpool_limits(limits=1, user_api="blas"):
        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    return results  # type: ignore[return-value]


def load_numpy_bert(model_dir: Path) -> NumpyBert:
    """The BERT of a sentence-transformers folder (config.json + model.safetensors), in numpy."""
    return NumpyBert(
        BertConfig.from_file(model_dir / "config.json"), read_weights(model_dir / "model.safetensors")
    )
