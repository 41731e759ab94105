"""The bundled model on llmquiz's own forward pass (numpy or torch) gives what sentence-transformers gives."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmquiz.bank import load_bank
from llmquiz.grading.embedder import (
    TORCH_FROM,
    BundledEmbedder,
    SentenceTransformerEmbedder,
    engine_for_batch,
    make_embedder,
)

from .conftest import QUESTIONS

pytestmark = pytest.mark.slow


def varied_texts() -> list[str]:
    """A few hundred texts: bank sentences, answers, odd characters, empty-ish and over-long ones."""
    bank = load_bank([QUESTIONS])
    texts = [q.question for q in bank.questions[:120]] + [q.answer for q in bank.questions[:80]]
    texts += [m.claim for q in bank.questions[:40] for m in q.misconceptions]
    texts += [
        "x",
        "?",
        "Naïve café — “quotes”, ümlauts and emoji 🙂 in one answer.",
        "CamelCaseWords and snake_case_words and top-k/top-p, 4-bit NF4 (QLoRA).",
        "tab\tseparated\nand new\nlines",
        " ".join(random.Random(7).choice(["token", "attention", "cache", "RoPE"]) for _ in range(400)),
    ]
    return texts


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list:
    return SentenceTransformerEmbedder(None, "cpu", tmp_path_factory.mktemp("reference")).encode(
        varied_texts()
    )


# numpy: the CPU engine, which never imports torch; torch: the engine of --device cuda, run on the CPU here
@pytest.fixture(scope="module", params=["numpy", "torch"])
def both(request: pytest.FixtureRequest, reference: list, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    embedder = BundledEmbedder("cpu", tmp_path_factory.mktemp("fast"), engine=request.param)
    fast = embedder.encode(varied_texts())
    assert embedder.engine == request.param
    return fast, reference


def test_the_bundled_model_takes_the_fast_path(tmp_path: Path) -> None:
    assert isinstance(make_embedder(None, "cpu", tmp_path), BundledEmbedder)
    assert isinstance(make_embedder("all-MiniLM-L6-v2", "cpu", tmp_path), BundledEmbedder)
    assert isinstance(make_embedder(str(tmp_path), "cpu", tmp_path), SentenceTransformerEmbedder)


def test_the_numpy_engine_is_the_default_on_cpu(tmp_path: Path) -> None:
    embedder = BundledEmbedder("cpu", tmp_path)
    embedder.load()
    assert (embedder.engine, embedder.device) == ("numpy", "cpu")


@pytest.mark.parametrize(
    ("answers", "device", "engine"),
    [
        pytest.param(1, "cpu", "auto", id="one-answer"),
        pytest.param(TORCH_FROM - 1, "auto", "auto", id="below-the-batch-size"),
        pytest.param(TORCH_FROM, "auto", "batch", id="a-large-batch"),
        pytest.param(TORCH_FROM, "cuda", "auto", id="cuda-is-torch-anyway"),
    ],
)
def test_a_large_batch_grades_on_torch(answers: int, device: str, engine: str, tmp_path: Path) -> None:
    """Importing torch (2 s) pays for itself over a large batch, never for a few answers."""
    assert engine_for_batch(answers, device) == engine
    if engine == "batch":
        from llmquiz.grading import make_grader

        grader = make_grader(home=tmp_path, device=device, engine=engine)
        grader.load()
        assert grader._embedder.engine == grader._judge._engine == "torch"  # type: ignore[attr-defined]


def test_a_large_batch_without_a_working_torch_grades_on_numpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmquiz.grading import embedder as embedder_module

    monkeypatch.setattr(embedder_module, "_torch_imports", lambda: False)
    embedder = BundledEmbedder("cpu", tmp_path, engine=engine_for_batch(TORCH_FROM, "cpu"))
    embedder.load()
    assert embedder.engine == "numpy"


def test_sentence_vectors_agree(both: tuple[list, list]) -> None:
    fast, reference = both
    assert len(fast) == len(reference) >= 300
    cosines = [float(a.vec @ b.vec) for a, b in zip(fast, reference, strict=True)]
    assert min(cosines) >= 0.9999, min(cosines)


def test_token_vectors_and_offsets_agree(both: tuple[list, list]) -> None:
    fast, reference = both
    for a, b in zip(fast, reference, strict=True):
        assert a.off.tolist() == b.off.tolist(), a.text
        assert a.tok.shape == b.tok.shape
        if len(a.tok):
            cos = (a.norm_tok * b.norm_tok).sum(axis=1)
            assert float(np.min(cos)) >= 0.9999, a.text


def test_the_numpy_engine_encodes_many_texts_as_even_batches_one_per_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmquiz.grading import npbert

    embedder = BundledEmbedder("cpu", tmp_path, engine="numpy")
    embedder.load()
    dealt: list[list[int]] = []
    real = npbert.in_threads

    def spy(forward: Callable[[Any], Any], batches: list[Any]) -> list[Any]:
        dealt.append([len(batch) for batch in batches])
        return real(forward, batches)

    monkeypatch.setattr(npbert, "in_threads", spy)
    monkeypatch.setattr(npbert, "workers", lambda: 2)
    texts = [q.answer for q in load_bank([QUESTIONS]).questions[:20]]
    encoded = embedder.encode(texts)
    # 20 texts as 16 and 4 would keep one core waiting for the other; two of about 10 do not
    assert len(dealt) == 1 and len(dealt[0]) == 2 and sum(dealt[0]) == 20
    assert min(dealt[0]) >= 6
    alone = [embedder.encode([text])[0] for text in texts[:3]]
    for one, many in zip(alone, encoded, strict=False):
        assert one.text == many.text
        assert float(one.vec @ many.vec) > 0.9999
