"""The semantic grader with the real bundled model: graded answers, traps, the dev set, speed.

Tolerance used on tests/data/graded_answers.yaml (stated here, not tuned per answer):
- overall, at least 85% of the answers get exactly their labelled verdict;
- every answer scores inside its band widened by TOLERANCE (10) points on each side, except
  the answers marked `known_miss` in the file, which are expected to miss (strict xfail, so a
  fix shows up);
- per question (known misses aside), the weakest good answer beats the best partial one and
  every partial answer beats every trap;
- echo and off-topic answers score at most 25, salads at most 39, "I don't know" 0; at least
  two thirds of the reversal and of the neighbour answers score below 45, their median below 40.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmquiz.bank import Question
from llmquiz.grading import GradeResult, make_grader
from llmquiz.grading.calibrate import calibrate, read_graded_csv

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent / "data" / "graded_answers.yaml"
MOHLER = Path(__file__).resolve().parents[2] / "shared/benchmarks/mohler_dev.csv"
TOLERANCE = 10
BANDS = {"correct": (70, 100), "partial": (40, 69), "incorrect": (0, 39)}
TRAPS = ("reversal", "neighbour", "salad", "echo", "no-idea", "off-topic")


def _question(raw: dict[str, Any]) -> Question:
    return Question(
        id=raw["id"],
        topic="llm",
        question=raw["question"],
        answer=raw["answer"],
        key_points=tuple(raw["key_points"]),
        keywords=tuple(raw.get("keywords", ())),
    )


def _load() -> tuple[list[Question], list[Question], list[dict[str, Any]]]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    graded = [_question(q) for q in data["questions"]]
    ORDER_MISSES.update(
        {q["id"]: q["known_order_miss"] for q in data["questions"] if "known_order_miss" in q}
    )
    others = [_question(q) for q in data.get("neighbours", [])]
    answers = []
    for question, raw in zip(graded, data["questions"], strict=True):
        for i, answer in enumerate(raw["answers"]):
            answers.append({**answer, "question": question, "id": f"{question.id}-{answer['kind']}-{i}"})
    return graded, others, answers


ORDER_MISSES: dict[str, str] = {}
GRADED, OTHERS, ANSWERS = _load()


@pytest.fixture(scope="module")
def grader(model_home: Path) -> Iterator[Any]:
    g = make_grader("semantic", device="cpu", home=model_home, neighbours=[*GRADED, *OTHERS])
    g.remember_judgements = False  # every test reads the judge itself, whatever ran before it
    g.load()
    yield g


@pytest.fixture(scope="module")
def results(grader: Any) -> dict[str, GradeResult]:
    graded = grader.grade_many([(a["question"], a["text"] or "") for a in ANSWERS])
    return {a["id"]: r for a, r in zip(ANSWERS, graded, strict=True)}


def test_the_graded_set_has_every_kind() -> None:
    kinds = {a["kind"] for a in ANSWERS}
    assert kinds == {"good", "partial", *TRAPS}
    assert len(ANSWERS) >= 60
    assert {a["band"] for a in ANSWERS} == set(BANDS)


def test_band_agreement(results: dict[str, GradeResult]) -> None:
    agree = sum(results[a["id"]].verdict == a["band"] for a in ANSWERS)
    assert agree / len(ANSWERS) >= 0.85, f"{agree}/{len(ANSWERS)} answers in their band"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            a,
            id=a["id"],
            marks=[pytest.mark.xfail(strict=True, reason=a["known_miss"])] if a.get("known_miss") else [],
        )
        for a in ANSWERS
    ],
)
def test_each_answer_within_tolerance(answer: dict[str, Any], results: dict[str, GradeResult]) -> None:
    low, high = BANDS[answer["band"]]
    score = results[answer["id"]].score
    assert low - TOLERANCE <= score <= high + TOLERANCE, f"{score} for a {answer['band']} answer"


@pytest.mark.parametrize(
    "question",
    [
        pytest.param(
            q,
            id=q.id,
            marks=[pytest.mark.xfail(strict=True, reason=ORDER_MISSES[q.id])] if q.id in ORDER_MISSES else [],
        )
        for q in GRADED
    ],
)
def test_good_beats_partial_beats_traps(question: Question, results: dict[str, GradeResult]) -> None:
    mine = [a for a in ANSWERS if a["question"] is question]
    score = {a["id"]: results[a["id"]].score for a in mine}
    usable = [a for a in mine if not a.get("known_miss")]
    good = [score[a["id"]] for a in usable if a["kind"] == "good"]
    partial = [score[a["id"]] for a in usable if a["kind"] == "partial"]
    traps = [score[a["id"]] for a in usable if a["kind"] in TRAPS]
    assert min(good, default=101) > max(partial, default=-1), score
    assert min(partial, default=101) > max(traps), score
    assert min(good, default=101) > max(traps), score


@pytest.mark.parametrize(
    ("kind", "highest"),
    [
        pytest.param("no-idea", 0, id="no-idea-scores-0"),
        pytest.param("echo", 25, id="echo"),
        pytest.param("off-topic", 25, id="off-topic"),
        pytest.param("salad", 39, id="salad"),
    ],
)
def test_trap_kinds_that_never_pass(kind: str, highest: int, results: dict[str, GradeResult]) -> None:
    scores = {a["id"]: results[a["id"]].score for a in ANSWERS if a["kind"] == kind}
    assert max(scores.values()) <= highest, scores


@pytest.mark.parametrize("kind", ["reversal", "neighbour"])
def test_reversal_and_neighbour_traps_mostly_fail(kind: str, results: dict[str, GradeResult]) -> None:
    scores = [results[a["id"]].score for a in ANSWERS if a["kind"] == kind]
    good = [results[a["id"]].score for a in ANSWERS if a["kind"] == "good"]
    assert sum(s < 45 for s in scores) >= 2 / 3 * len(scores), scores
    assert statistics.median(scores) < 40, scores
    assert statistics.median(good) - statistics.median(scores) >= 40, (good, scores)


def test_missed_and_covered_partition_the_key_points(results: dict[str, GradeResult]) -> None:
    for answer in ANSWERS:
        result = results[answer["id"]]
        points = answer["question"].key_points
        assert sorted(result.missed + result.covered) == sorted(points)
        assert result.method in ("semantic", "empty")
    partial = results["temperature-partial-2"]
    assert "high temperature flattens the distribution and makes output more random and diverse" in (
        partial.covered
    )
    assert "temperature zero amounts to greedy decoding" in partial.missed


def test_a_reversed_key_point_is_reported_missed(results: dict[str, GradeResult]) -> None:
    reversal = results["temperature-reversal-3"]
    assert "low temperature sharpens the distribution and makes output more deterministic" in (
        reversal.missed
    )
    assert any(w.correction == "low temperature sharpens the distribution and makes output more deterministic"
               or "temperature" in w.correction for w in reversal.wrong_claims)  # fmt: skip


def test_result_fields(grader: Any) -> None:
    question = GRADED[0]
    result = grader.grade(question, question.answer)
    assert result.score >= 90 and result.verdict == "correct"
    assert (result.method, result.model) == ("semantic", "all-MiniLM-L6-v2")
    assert grader.name == "semantic:all-MiniLM-L6-v2"
    assert result.missed == ()
    assert {"coverage", "reference", "raw"} <= set(result.signals)


def test_grade_and_grade_many_agree(grader: Any) -> None:
    items = [(a["question"], a["text"] or "") for a in ANSWERS[:12]]
    together = [r.score for r in grader.grade_many(items)]
    alone = [grader.grade(q, text).score for q, text in items]
    assert all(abs(a - b) <= 1 for a, b in zip(together, alone, strict=True)), (together, alone)


def test_progress_is_reported(grader: Any) -> None:
    seen: list[tuple[int, int]] = []
    items = [(a["question"], a["text"] or "") for a in ANSWERS[:20]]
    grader.grade_many(items, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (20, 20)
    assert all(b == 20 for _, b in seen) and [a for a, _ in seen] == sorted(a for a, _ in seen)


def test_one_answer_is_graded_without_a_gross_slowdown(grader: Any) -> None:
    """A guard against gross regressions only (re-encoding the bank on every grade, say).

    The speed budget itself (100 ms for one answer, model ready) is measured by
    benchmarks/bench_cli.py, not asserted here: on a loaded machine the median of a healthy
    grader has reached 0.5 s.
    """
    question = GRADED[1]
    grader.grade(question, "warm-up answer about nucleus sampling")
    times = []
    for answer in [a for a in ANSWERS if a["question"] is question]:
        started = time.perf_counter()
        grader.grade(question, answer["text"] or "")
        times.append(time.perf_counter() - started)
    assert statistics.median(times) < 5.0, times


def test_agreement_with_humans_on_the_dev_set(model_home: Path) -> None:
    if not MOHLER.exists():
        pytest.skip("../shared/benchmarks/mohler_dev.csv not found (a user's clone)")
    rows = read_graded_csv(MOHLER, gold="score_avg")
    grader = make_grader("semantic", device="cpu", home=model_home)
    result = calibrate(rows, grader, gold_column="score_avg")
    assert result.n == 1074
    assert result.pearson >= 0.64, result
    assert result.spearman >= 0.64, result
    assert result.auc >= 0.86, result


@pytest.mark.gpu
def test_cuda_grades_like_cpu(model_home: Path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    cuda = make_grader("semantic", device="cuda", home=model_home / "cuda")
    cpu = make_grader("semantic", device="cpu", home=model_home / "cpu")
    items = [(a["question"], a["text"] or "") for a in ANSWERS]
    on_gpu = [r.score for r in cuda.grade_many(items)]
    on_cpu = [r.score for r in cpu.grade_many(items)]
    assert all(abs(a - b) <= 2 for a, b in zip(on_gpu, on_cpu, strict=True))


def _csv_question(qid: str, question: str, reference: str) -> Question:
    return Question(id=qid, topic="csv", question=question, answer=reference)


KV_CACHE = _csv_question(
    "csv-kv-cache",
    "What does the KV cache store during LLM inference, and why?",
    "During autoregressive decoding the KV cache stores the key and value vectors of every "
    "previous token in every attention layer, so that each new token only computes its own "
    "query, key and value and attends to the cached ones instead of recomputing them.",
)
LINKED_LIST = _csv_question(
    "csv-linked-list",
    "What is the difference between an array and a linked list?",
    "An array stores its elements contiguously, so indexing is constant time but inserting in "
    "the middle shifts elements; a linked list stores nodes with pointers, so insertion is "
    "constant time once you hold the node but reaching the i-th element takes linear time.",
)


@pytest.mark.parametrize(
    ("question", "answer", "judged"),
    [
        pytest.param(
            KV_CACHE,
            "The KV cache stores nothing; keys and values are recomputed at every step.",
            True,
            id="on-the-banks-subjects",
        ),
        pytest.param(
            LINKED_LIST,
            "A linked list has constant-time indexing, while an array needs linear time.",
            False,
            id="a-programming-course",
        ),
    ],
)
def test_without_key_points_the_judge_reads_only_on_its_own_subjects(
    model_home: Path, question: Question, answer: str, judged: bool
) -> None:
    """A CSV has no key points: the judge reads the reference's sentences when the reference is
    about the shipped bank's subjects, and not elsewhere (where it misreads them)."""
    from dataclasses import replace

    def score(domain_at: float) -> int:
        g = make_grader("semantic", device="cpu", home=model_home)
        g.remember_judgements = False  # type: ignore[attr-defined]
        g.settings = replace(g.settings, judge_domain_at=domain_at)  # type: ignore[attr-defined]
        return g.grade(question, answer).score

    gated, never = score(0.45), score(1.01)
    assert (gated < never) if judged else (gated == never)
