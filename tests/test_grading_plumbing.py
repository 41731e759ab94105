"""Cache, model verification and thread safety of the semantic grader, with a fake embedder."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from llmquiz.bank import Question
from llmquiz.errors import ModelError
from llmquiz.grading import model as mdl
from llmquiz.grading.encoding import Encoded
from llmquiz.grading.semantic import SemanticGrader
from llmquiz.grading.store import EmbeddingCache

Q1 = Question(
    id="q1",
    topic="t",
    question="What is a KV cache?",
    answer="It stores the keys and values of past tokens. It avoids recomputing attention.",
    key_points=("stores keys and values of past tokens", "avoids recomputing them each step"),
)
Q2 = Question(
    id="q2",
    topic="t",
    question="What is top-p sampling?",
    answer="It samples from the smallest set of tokens whose probability mass exceeds p.",
)


class FakeEmbedder:
    """Bag of hashed words -> 64-d unit vectors; counts what it was asked to encode."""

    model_id = "fake-embedder"
    name = "fake"

    def __init__(self, load_delay: float = 0.0) -> None:
        self.encoded: list[str] = []
        self.loads = 0
        self.load_delay = load_delay
        self.ready = False

    def load(self) -> None:
        time.sleep(self.load_delay)
        self.loads += 1
        self.ready = True

    def encode(self, texts: list[str]) -> list[Encoded]:
        assert self.ready, "encode before load"
        self.encoded.extend(texts)
        out = []
        for text in texts:
            words = list(re.finditer(r"\w+", text.lower()))
            tok = np.zeros((len(words), 64), dtype=np.float32)
            for j, m in enumerate(words):
                tok[j, int(hashlib.md5(m.group().encode()).hexdigest(), 16) % 64] = 1
            vec = tok.sum(axis=0) if len(words) else np.ones(64, dtype=np.float32)
            off = np.array([[m.start(), m.end()] for m in words], dtype=np.int32).reshape(-1, 2)
            out.append(Encoded(text, vec / np.linalg.norm(vec), tok, off))
        return out


def grader(home: Path, embedder: FakeEmbedder | None = None) -> SemanticGrader:
    return SemanticGrader(home=home, embedder=embedder or FakeEmbedder())


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


def cache_files(home: Path) -> list[Path]:
    return sorted((home / "cache" / "embeddings").glob("*"))


def test_second_run_encodes_only_the_answers(tmp_path: Path) -> None:
    first = FakeEmbedder()
    grader(tmp_path, first).grade_many([(Q1, "keys and values"), (Q2, "mass above p")])
    assert Q1.answer in first.encoded and Q2.key_points == ()
    second = FakeEmbedder()
    results = grader(tmp_path, second).grade_many([(Q1, "keys and values"), (Q2, "mass above p")])
    assert Q1.answer not in second.encoded
    assert not set(second.encoded) & {*Q1.key_points, Q2.answer, Q1.question}
    assert all(r.method == "semantic" and r.model == "fake" for r in results)


def test_cache_files_are_private(tmp_path: Path) -> None:
    grader(tmp_path).prepare([Q1])
    files = cache_files(tmp_path)
    assert {f.suffix for f in files} == {".npz", ".json"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache" / "embeddings").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda npz, js: npz.write_bytes(b"garbage"), id="corrupt-npz"),
        pytest.param(lambda npz, js: js.write_text("{not json"), id="corrupt-json"),
        pytest.param(lambda npz, js: write_npz(npz, vecs=np.ones((1, 3))), id="foreign-npz"),
        pytest.param(
            lambda npz, js: js.write_text(json.dumps({**json.loads(js.read_text()), "dim": 5})),
            id="wrong-dim",
        ),
        pytest.param(
            lambda npz, js: js.write_text(json.dumps({**json.loads(js.read_text()), "model": "other"})),
            id="other-model",
        ),
        pytest.param(lambda npz, js: npz.unlink(), id="missing-npz"),
    ],
)
def test_damaged_cache_is_ignored_and_rebuilt(tmp_path: Path, damage) -> None:
    grader(tmp_path).prepare([Q1])
    npz, js = (f for f in sorted(cache_files(tmp_path), key=lambda p: p.suffix != ".npz"))
    expected = grader(tmp_path).grade(Q1, "keys and values of past tokens")
    damage(npz, js)
    again = FakeEmbedder()
    result = grader(tmp_path, again).grade(Q1, "keys and values of past tokens")
    assert Q1.answer in again.encoded  # rebuilt, not trusted
    assert result.score == expected.score
    third = FakeEmbedder()
    grader(tmp_path, third).grade(Q1, "keys")
    assert Q1.answer not in third.encoded  # and the rebuilt cache is good again


def test_cache_round_trip_and_tampered_vectors(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    embedder.load()
    cache = EmbeddingCache(tmp_path, "m")
    cache.put(embedder.encode(["keys and values", "a"]))
    cache.save()
    again = EmbeddingCache(tmp_path, "m").get("keys and values")
    # bank texts keep the tokens of content words only ("and" is a stopword)
    assert again is not None and again.tok.shape == (2, 64) and again.off.tolist() == [[0, 4], [9, 15]]
    assert EmbeddingCache(tmp_path, "other-model").get("a") is None
    npz = next((tmp_path / "embeddings").glob("*.npz"))
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    assert EmbeddingCache(tmp_path, "m").get("a") is None


def test_grade_waits_for_a_background_load(tmp_path: Path) -> None:
    embedder = FakeEmbedder(load_delay=0.5)
    g = grader(tmp_path, embedder)
    loader = threading.Thread(target=g.load)
    loader.start()
    time.sleep(0.05)
    results: list = []
    workers = [
        threading.Thread(target=lambda: results.append(g.grade(Q1, "keys and values"))) for _ in range(4)
    ]
    for w in workers:
        w.start()
    for w in [loader, *workers]:
        w.join(10)
    assert embedder.loads == 1
    assert len(results) == 4 and len({r.score for r in results}) == 1


def test_model_verification_is_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"weights")
    cache = tmp_path / "cache"
    monkeypatch.setattr(mdl, "DEFAULT_MODEL_SHA256", hashlib.sha256(b"weights").hexdigest())
    mdl.verify_bundled(folder, cache)
    memo = cache / mdl.VERIFIED_FILE
    assert stat.S_IMODE(memo.stat().st_mode) == 0o600
    calls = []
    monkeypatch.setattr(mdl, "file_sha256", lambda p: calls.append(p) or "x")
    mdl.verify_bundled(folder, cache)  # remembered: not hashed again
    assert calls == []
    weights.write_bytes(b"tampered")
    os.utime(weights, ns=(1, 1))
    monkeypatch.undo()
    monkeypatch.setattr(mdl, "DEFAULT_MODEL_SHA256", hashlib.sha256(b"weights").hexdigest())
    with pytest.raises(ModelError, match="fail verification"):
        mdl.verify_bundled(folder, cache)


def test_cuda_asked_without_a_gpu_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match="CUDA"):
        mdl.resolve_device("cuda")
    assert mdl.resolve_device("auto") == "cpu"


def test_unknown_model_name_is_a_clear_model_error(tmp_path: Path) -> None:
    from llmquiz.grading import make_grader

    g = make_grader("semantic", model="no-such-org/no-such-model-xyz", device="cpu", home=tmp_path)
    with pytest.raises(ModelError, match="no-such-model-xyz"):
        g.load()


def test_batches_side_by_side_keep_their_order_and_raise_what_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmquiz.grading import npbert

    monkeypatch.setattr(npbert, "workers", lambda: 2)
    assert npbert.in_threads(lambda batch: [x * 10 for x in batch], [[1], [2, 3], [4], []]) == [
        [10],
        [20, 30],
        [40],
        [],
    ]
    assert npbert.in_threads(lambda batch: batch, []) == []

    def fails_on_three(batch: list[int]) -> list[int]:
        if 3 in batch:
            raise ValueError("batch 3")
        return batch

    with pytest.raises(ValueError, match="batch 3"):
        npbert.in_threads(fails_on_three, [[1], [2], [3], [4]])
