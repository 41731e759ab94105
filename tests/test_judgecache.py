"""The claim judge's kept readings: a shortcut that never changes a grade."""

from __future__ import annotations

import random
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import numpy as np
import pytest

import llmquiz.grading.judgecache as judgecache
from llmquiz.bank import load_bank
from llmquiz.grading import make_grader
from llmquiz.grading.judgecache import JudgementCache
from llmquiz.paths import shipped_bank_dir

SHA = "ab" * 32
PAIRS = [
    ("The cache keeps keys and values.", "it stores the keys and values of previous tokens"),
    ("Nothing is stored at all.", "it stores the keys and values of previous tokens"),
    ("Top-p keeps the smallest set above p.", "top-p sampling keeps a probability mass"),
]


class CountingJudge:
    """Rows made from the texts' lengths (so each pair has its own), and what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.asked.extend(pairs)
        raw = np.array([[len(a), len(b), 7.0] for a, b in pairs], dtype=np.float32)
        return raw / raw.sum(axis=1, keepdims=True)


def kept_file(folder: Path) -> Path:
    path = JudgementCache(folder, SHA).path
    assert path is not None
    return path


def test_pairs_read_once_are_not_read_again(tmp_path: Path) -> None:
    judge = CountingJudge()
    cache = JudgementCache(tmp_path, SHA)
    first = cache.judged([*PAIRS, PAIRS[0]], judge)
    assert judge.asked == PAIRS  # a pair asked twice in one call is read once
    np.testing.assert_array_equal(first[3], first[0])
    again = CountingJudge()
    np.testing.assert_array_equal(cache.judged(PAIRS[::-1], again), first[:3][::-1])
    assert again.asked == []


def test_a_later_run_reads_the_kept_file_and_asks_only_for_new_pairs(tmp_path: Path) -> None:
    rows = JudgementCache(tmp_path, SHA).judged(PAIRS[:2], CountingJudge())
    judge = CountingJudge()
    later = JudgementCache(tmp_path, SHA).judged(PAIRS, judge)
    assert judge.asked == [PAIRS[2]]
    np.testing.assert_array_equal(later[:2], rows)
    assert stat.S_IMODE(kept_file(tmp_path).stat().st_mode) == 0o600
    assert stat.S_IMODE(kept_file(tmp_path).parent.stat().st_mode) == 0o700


def test_another_artifact_reads_every_pair_again(tmp_path: Path) -> None:
    JudgementCache(tmp_path, SHA).judged(PAIRS, CountingJudge())
    judge = CountingJudge()
    JudgementCache(tmp_path, "cd" * 32).judged(PAIRS, judge)
    assert judge.asked == PAIRS


def _nan_rows(path: Path) -> None:
    raw = msgspec.msgpack.decode(path.read_bytes())
    raw[2] = np.full((3, 3), np.nan, dtype="<f4").tobytes()
    path.write_bytes(msgspec.msgpack.encode(raw))


def _other_artifact(path: Path) -> None:
    raw = msgspec.msgpack.decode(path.read_bytes())
    raw[0] = "cd" * 32
    path.write_bytes(msgspec.msgpack.encode(raw))


def _short_rows(path: Path) -> None:
    raw = msgspec.msgpack.decode(path.read_bytes())
    raw[2] = raw[2][:-4]
    path.write_bytes(msgspec.msgpack.encode(raw))


def _not_probabilities(path: Path) -> None:
    raw = msgspec.msgpack.decode(path.read_bytes())
    raw[2] = np.full((3, 3), 0.9, dtype="<f4").tobytes()
    path.write_bytes(msgspec.msgpack.encode(raw))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b"\x00garbage"), id="garbage"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:-5]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(random.Random(3).randbytes(300)), id="random-bytes"),
        pytest.param(_nan_rows, id="nan-rows"),
        pytest.param(_other_artifact, id="another-artifact-inside"),
        pytest.param(_short_rows, id="rows-short-of-keys"),
        pytest.param(_not_probabilities, id="rows-not-summing-to-one"),
        pytest.param(lambda p: (p.unlink(), p.mkdir()), id="a-folder"),
    ],
)
def test_a_damaged_file_is_ignored_and_replaced(tmp_path: Path, damage: Callable[[Path], object]) -> None:
    rows = JudgementCache(tmp_path, SHA).judged(PAIRS, CountingJudge())
    damage(kept_file(tmp_path))
    judge = CountingJudge()
    np.testing.assert_array_equal(JudgementCache(tmp_path, SHA).judged(PAIRS, judge), rows)
    assert judge.asked == PAIRS
    if kept_file(tmp_path).is_file():  # replaced by a good one
        judge = CountingJudge()
        JudgementCache(tmp_path, SHA).judged(PAIRS, judge)
        assert judge.asked == []


def test_a_folder_that_cannot_be_written_costs_only_the_passes(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder would be")
    judge = CountingJudge()
    rows = JudgementCache(blocked, SHA).judged(PAIRS, judge)
    assert judge.asked == PAIRS and rows.shape == (3, 3)


def test_only_the_most_recently_used_pairs_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(judgecache, "MAX_ROWS", 2)
    cache = JudgementCache(tmp_path, SHA)
    cache.judged(PAIRS[:2], CountingJudge())
    cache.judged([PAIRS[0]], CountingJudge())  # used again: now the most recent
    cache.judged([PAIRS[2]], CountingJudge())  # one too many: the least recently used goes
    judge = CountingJudge()
    JudgementCache(tmp_path, SHA).judged(PAIRS, judge)
    assert judge.asked == [PAIRS[1]]


def test_pairs_only_read_again_keep_their_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(judgecache, "MAX_ROWS", 2)
    JudgementCache(tmp_path, SHA).judged(PAIRS[:2], CountingJudge())
    JudgementCache(tmp_path, SHA).judged([PAIRS[0]], CountingJudge())  # a later run: hits only
    JudgementCache(tmp_path, SHA).judged([PAIRS[2]], CountingJudge())
    judge = CountingJudge()
    JudgementCache(tmp_path, SHA).judged(PAIRS, judge)
    assert judge.asked == [PAIRS[1]]


def test_a_row_no_softmax_gives_is_returned_but_not_kept(tmp_path: Path) -> None:
    def broken(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        rows = CountingJudge()(pairs)
        rows[0] = np.nan
        return rows

    assert np.isnan(JudgementCache(tmp_path, SHA).judged(PAIRS, broken)[0]).all()
    judge = CountingJudge()
    JudgementCache(tmp_path, SHA).judged(PAIRS, judge)
    assert judge.asked == [PAIRS[0]]  # the others were kept, and the file still reads


def test_without_a_data_folder_the_rows_are_kept_for_the_process_only(tmp_path: Path) -> None:
    cache = JudgementCache(None, SHA)
    cache.judged(PAIRS, CountingJudge())
    judge = CountingJudge()
    cache.judged(PAIRS, judge)
    assert judge.asked == [] and cache.path is None
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_grading_again_in_the_same_data_folder_gives_the_same_grades_without_the_judge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = {q.id: q for q in load_bank([shipped_bank_dir()]).questions}
    kv = questions["llm-internals-kv-cache"]
    items = [
        (kv, "The KV cache stores nothing; keys and values are recomputed at every step."),
        (kv, kv.answer),
        (questions["rag-what-is"], "RAG retrieves passages at query time and puts them in the prompt."),
    ]
    unkept = make_grader("semantic", device="cpu", home=tmp_path / "unkept")
    unkept.remember_judgements = False
    first = make_grader("semantic", device="cpu", home=tmp_path).grade_many(items)
    assert [r.score for r in first] == [r.score for r in unkept.grade_many(items)]
    assert not (tmp_path / "unkept" / "cache" / "judgements").exists()
    assert [p.stat().st_size > 10 * 28 for p in (tmp_path / "cache" / "judgements").iterdir()] == [True]
    grader = make_grader("semantic", device="cpu", home=tmp_path)
    grader.load()

    def refuse(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        raise AssertionError(f"the judge read {len(pairs)} pairs again")

    monkeypatch.setattr(grader._judge, "judge", refuse)
    assert grader.grade_many(items) == first
