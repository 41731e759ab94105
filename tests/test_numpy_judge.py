"""The claim judge on the numpy engine gives the torch engine's probabilities, for any adapter layout."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from llmquiz.bank import load_bank
from llmquiz.errors import ModelError
from llmquiz.grading import batching, judge, npbert
from llmquiz.grading.model import bundled_model_dir
from training.artifact import save_artifact

from .conftest import QUESTIONS

pytestmark = pytest.mark.slow


def varied_pairs() -> list[tuple[str, str]]:
    """(clause, statement) pairs as grading makes them: answers and claims against key points."""
    free = [q for q in load_bank([QUESTIONS]).questions if q.kind == "free"]
    pairs = []
    for i, q in enumerate(free[:60]):
        other = free[(i + 7) % len(free)]
        for point in q.key_points[:2]:
            pairs += [(q.answer, point), (other.answer, point)]
        pairs += [(m.claim, q.key_points[0] if q.key_points else q.answer) for m in q.misconceptions[:1]]
    pairs += [("", "x"), ("RAG " * 300, "retrieval at query time"), ("Naïve café 🙂", "unicode")]
    return pairs


def both_engines(artifact: Path, sha256: str, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    on = {e: judge.ClaimJudge("cpu", artifact, sha256, engine=e).judge(pairs) for e in ("numpy", "torch")}
    return on["numpy"], on["torch"]


def test_the_shipped_judge_agrees_on_both_engines() -> None:
    pairs = varied_pairs()
    assert len(pairs) >= 200
    numpy_probs, torch_probs = both_engines(judge.ARTIFACT, judge.ARTIFACT_SHA256, pairs)
    assert numpy_probs.shape == (len(pairs), 3)
    np.testing.assert_allclose(numpy_probs.sum(axis=1), 1, atol=1e-5)
    assert float(np.abs(numpy_probs - torch_probs).max()) <= 1e-4


def random_artifact(path: Path, rank: int, layers: int | None = None) -> str:
    """A judge artifact with non-zero random adapters on the first `layers` layers (all: None)."""
    import torch

    from llmquiz.grading.bert import add_adapters, load_bert
    from training.artifact import adapter_state

    bert = load_bert(bundled_model_dir())
    if layers is not None:
        del bert.encoder.layer[layers:]
    add_adapters(bert, rank=rank, alpha=5.0, seed=1)
    generator = torch.Generator().manual_seed(2)
    state = {}
    for name, value in adapter_state(bert).items():
        state[f"bert.{name}"] = torch.randn(value.shape, generator=generator) * 0.02
    state["head.weight"] = torch.randn((3, 384), generator=generator)
    state["head.bias"] = torch.randn((3,), generator=generator)
    meta = {"base_sha256": judge.BASE_SHA256, "rank": str(rank), "alpha": "5.0"}
    if layers is not None:
        meta["layers"] = str(layers)
    return save_artifact(path, state, meta)


@pytest.mark.parametrize(
    ("rank", "layers"),
    [pytest.param(3, None, id="rank-3-all-layers"), pytest.param(3, 4, id="rank-3-first-4-layers")],
)
def test_an_artifact_of_another_rank_or_depth_loads_unchanged(
    tmp_path: Path, rank: int, layers: int | None
) -> None:
    """A retrained judge with non-zero updates everywhere: both engines agree."""
    artifact = tmp_path / "judge.safetensors"
    digest = random_artifact(artifact, rank, layers)
    numpy_probs, torch_probs = both_engines(artifact, digest, varied_pairs()[:48])
    assert float(np.abs(numpy_probs - torch_probs).max()) <= 1e-4
    assert float(numpy_probs.std(axis=0).min()) > 1e-3  # the random head really separates the pairs


def test_a_judge_asking_for_more_layers_than_the_base_has_is_a_model_error(tmp_path: Path) -> None:
    artifact = tmp_path / "judge.safetensors"
    random_artifact(artifact, 2)
    state, meta = judge.read_artifact(artifact)
    deeper = tmp_path / "deeper.safetensors"
    digest = save_artifact(deeper, state, {**meta, "layers": "7"})
    for engine in ("numpy", "torch"):
        with pytest.raises(ModelError, match="7 layers"):
            judge.ClaimJudge("cpu", deeper, digest, engine=engine).load()


def test_adapters_on_any_layer_are_merged_into_the_weight_they_name() -> None:
    base = npbert.read_weights(bundled_model_dir() / "model.safetensors")
    name = "encoder.layer.2.intermediate.dense"
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 384)).astype(np.float32)
    b = rng.standard_normal((1536, 5)).astype(np.float32)
    merged = npbert.with_artifact(base, {f"{name}.lora_a": a, f"{name}.lora_b": b}, alpha=10.0)
    np.testing.assert_allclose(merged[f"{name}.weight"], base[f"{name}.weight"] + 2.0 * (b @ a), rtol=1e-6)
    unchanged = [k for k in base if k != f"{name}.weight"]
    assert all(merged[k] is base[k] for k in unchanged)  # shared with the embedder, not copied


@pytest.mark.parametrize(
    "tensors",
    [
        pytest.param({"encoder.layer.9.attention.self.query.lora_a": np.zeros((2, 384))}, id="no-such-layer"),
        pytest.param(
            {"encoder.layer.0.attention.self.query.lora_a": np.zeros((2, 384))}, id="lora-b-missing"
        ),
        pytest.param(
            {
                "encoder.layer.0.attention.self.query.lora_a": np.zeros((2, 384)),
                "encoder.layer.0.attention.self.query.lora_b": np.zeros((384, 3)),
            },
            id="ranks-differ",
        ),
        pytest.param({"embeddings.LayerNorm.weight": np.zeros(7)}, id="wrong-shape"),
    ],
)
def test_adapters_that_do_not_fit_are_refused(tensors: dict[str, np.ndarray]) -> None:
    base = npbert.read_weights(bundled_model_dir() / "model.safetensors")
    with pytest.raises(ValueError, match=r"^(encoder|embeddings)\."):
        npbert.with_artifact(base, tensors, alpha=1.0)


def test_a_judge_whose_adapters_do_not_fit_is_a_model_error(tmp_path: Path) -> None:
    import torch

    state = {
        "bert.encoder.layer.0.attention.self.query.lora_a": torch.zeros((2, 100)),
        "bert.encoder.layer.0.attention.self.query.lora_b": torch.zeros((384, 2)),
        "head.weight": torch.zeros((3, 384)),
        "head.bias": torch.zeros(3),
    }
    artifact = tmp_path / "judge.safetensors"
    meta = {"base_sha256": judge.BASE_SHA256, "rank": "2", "alpha": "4"}
    digest = save_artifact(artifact, state, meta)
    with pytest.raises(ModelError, match="do not fit"):
        judge.ClaimJudge("cpu", artifact, digest, engine="numpy").load()


@pytest.mark.parametrize(
    "count",
    [pytest.param(n, id=f"{n}-pairs") for n in (1, 5, 11, 12, 16, 17, 20, 28, 40, 100, 333)],
)
def test_batches_keep_every_pair_once_in_length_order(count: int) -> None:
    lengths = np.random.default_rng(count).integers(8, 128, count)
    order = np.argsort(lengths, kind="stable")
    batches = batching.even_batches(order, lengths, 16, side_by_side=2)
    assert np.concatenate(batches).tolist() == order.tolist()
    assert all(0 < len(b) <= 16 for b in batches)
    if count > 16:  # more than one batch: as many as the cores can take side by side, or fewer
        at_most_16 = math.ceil(count / 16)
        assert len(batches) <= math.ceil(at_most_16 / 2) * 2
        padded = [len(b) * int(lengths[b].max()) for b in batches]
        naive = [order[i : i + 16] for i in range(0, count, 16)]
        assert max(padded) <= max(len(b) * int(lengths[b].max()) for b in naive)
    else:  # one answer's pairs: one batch, or two side by side when there are enough of them
        assert len(batches) == (2 if count >= batching.SPLIT_FROM else 1)


def test_no_texts_make_no_batches() -> None:
    empty = np.array([], dtype=np.int64)
    assert batching.even_batches(empty, empty, 16, side_by_side=2) == []
