"""Agreement of a grader with human grades: read a graded CSV, grade it, compare.

CSV columns: `question`, `reference`, `answer`, a gold column (default `score`) and
optionally `key_points` (separated by " | "). Pure Python statistics (no numpy needed).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmquiz.bank import Question
from llmquiz.errors import InputFileError, Problem
from llmquiz.grading.factory import Grader
from llmquiz.inputfiles import read_text_file

POSITIVE_SHARE = 0.6  # "correct" for AUC: gold >= 60% of the largest gold value seen
MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_GOLD = 1_000_000  # larger gold grades would overflow the statistics' sums of squares


@dataclass(frozen=True)
class GradedRow:
    question: str
    reference: str
    answer: str
    gold: float
    key_points: tuple[str, ...] = ()
    line: int = 0
    gold_column: str = "score"


@dataclass(frozen=True)
class CalibrationResult:
    n: int
    pearson: float
    spearman: float
    auc: float
    suggested_pass_mark: int
    answers_per_second: float
    gold_column: str = "score"

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "pearson": round(self.pearson, 4),
            "spearman": round(self.spearman, 4),
            "auc": round(self.auc, 4),
            "suggested_pass_mark": self.suggested_pass_mark,
            "answers_per_second": round(self.answers_per_second, 1),
            "gold_column": self.gold_column,
        }


def read_graded_csv(path: Path, gold: str = "score") -> list[GradedRow]:
    """Read a human-graded CSV; every problem is an InputFileError naming file and line."""
    file = str(path)
    text = read_text_file(Path(path), max_bytes=MAX_CSV_BYTES)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise InputFileError([Problem(file, 1, f"not a readable CSV: {exc}")]) from None
    header = [h.strip() for h in header]
    reader.fieldnames = header
    needed = ["question", "reference", "answer", gold]
    absent = [c for c in needed if c not in header]
    if absent:
        found = ", ".join(header) if header else "none"
        raise InputFileError(
            [Problem(file, 1, f"missing column(s) {', '.join(absent)} (columns found: {found})")]
        )
    rows: list[GradedRow] = []
    problems: list[Problem] = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record:
                problems.append(Problem(file, line, "more fields than columns in the header"))
                continue
            values = {k: (v or "").strip() for k, v in record.items()}
            if not any(values.values()):
                continue
            raw_gold = values.get(gold, "")
            try:
                gold_value = float(raw_gold)
            except ValueError:
                problems.append(Problem(file, line, f"{gold} is not a number: {raw_gold!r}"))
                continue
            if not math.isfinite(gold_value):
                problems.append(Problem(file, line, f"{gold} is not a finite number: {raw_gold!r}"))
                continue
            if abs(gold_value) > MAX_GOLD:
                problems.append(Problem(file, line, f"{gold} is beyond +/-{MAX_GOLD:,}: {raw_gold!r}"))
                continue
            if not values["question"] or not values["reference"]:
                problems.append(Problem(file, line, "question and reference must not be empty"))
                continue
            points = tuple(p.strip() for p in values.get("key_points", "").split(" | ") if p.strip())
            rows.append(
                GradedRow(
                    values["question"],
                    values["reference"],
                    values["answer"],
                    gold_value,
                    points,
                    line,
                    gold,
                )
            )
    except csv.Error as exc:
        problems.append(Problem(file, reader.line_num, f"not a readable CSV: {exc}"))
    if problems:
        raise InputFileError(problems)
    if not rows:
        raise InputFileError([Problem(file, 1, "no graded rows")])
    return rows


def questions_for(rows: Sequence[GradedRow]) -> list[Question]:
    """One ad-hoc free Question per row (rows with the same question text share one)."""
    shared: dict[tuple[str, str, tuple[str, ...]], Question] = {}
    out = []
    for i, row in enumerate(rows):
        key = (row.question, row.reference, row.key_points)
        if key not in shared:
            shared[key] = Question(
                id=f"row-{i}",
                topic="csv",
                question=row.question,
                answer=row.reference,
                key_points=row.key_points,
            )
        out.append(shared[key])
    return out


def calibrate(
    rows: Sequence[GradedRow],
    grader: Grader,
    progress: Callable[[int, int], None] | None = None,
    *,
    gold_column: str | None = None,
) -> CalibrationResult:
    """Grade every row and measure agreement with the gold grades.

    `answers_per_second` counts grading only (bank-side embedding included, model load not).
    """
    if not rows:
        raise ValueError("no rows to calibrate on")
    questions = questions_for(rows)
    grader.load()
    started = time.perf_counter()
    results = grader.grade_many([(q, row.answer) for q, row in zip(questions, rows, strict=True)], progress)
    elapsed = time.perf_counter() - started
    scores = [float(r.score) for r in results]
    gold = [row.gold for row in rows]
    top = max(gold)
    positive = [g >= POSITIVE_SHARE * top for g in gold] if top > 0 else [False] * len(gold)
    return CalibrationResult(
        n=len(rows),
        pearson=pearson(scores, gold),
        spearman=spearman(scores, gold),
        auc=roc_auc(scores, positive),
        suggested_pass_mark=youden_threshold(scores, positive),
        answers_per_second=len(rows) / elapsed if elapsed > 0 else float("inf"),
        gold_column=gold_column or rows[0].gold_column,
    )


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    n = len(x)
    if n < 2:
        return float("nan")
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return float("nan")
    return sxy / math.sqrt(sxx * syy)


def ranks(values: Sequence[float]) -> list[float]:
    """Average ranks (1-based), ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            out[order[k]] = rank
        i = j + 1
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(ranks(x), ranks(y))


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Probability that a positive outranks a negative (ties count half)."""
    n_pos = sum(positive)
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = ranks(scores)
    rank_sum = sum(rk for rk, p in zip(r, positive, strict=True) if p)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def youden_threshold(scores: Sequence[float], positive: Sequence[bool]) -> int:
    """The pass mark (0-100) maximising TPR - FPR; ties go to the mark nearest 70."""
    n_pos = sum(positive)
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 70
    best, best_j = 70, -2.0
    for mark in range(0, 101):
        tp = sum(1 for s, p in zip(scores, positive, strict=True) if p and s >= mark)
        fp = sum(1 for s, p in zip(scores, positive, strict=True) if not p and s >= mark)
        j = tp / n_pos - fp / n_neg
        if j > best_j + 1e-12 or (abs(j - best_j) <= 1e-12 and abs(mark - 70) < abs(best - 70)):
            best, best_j = mark, j
    return best
