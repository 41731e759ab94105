"""Exam mode: answers files, question selection and the pass/fail report."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmquiz.bank import Bank, Question
from llmquiz.errors import BadInputError, InputFileError, Problem
from llmquiz.grading.result import WrongClaim
from llmquiz.inputfiles import line_of, parse_json, parse_yaml, read_text_file
from llmquiz.safetext import storable_text
from llmquiz.session import pick_questions

if TYPE_CHECKING:
    from llmquiz.grading import Grader, GradeResult

UNANSWERED = "unanswered"
MAX_ANSWERS_FILE_BYTES = 20 * 1024 * 1024


def load_answers(path: Path, bank: Bank) -> dict[str, str | None]:
    """Read a YAML or JSON mapping of question id -> answer (None: left blank); problems name FILE:LINE."""
    file = str(path)
    text = read_text_file(path, MAX_ANSWERS_FILE_BYTES)
    data, problems = _parse_answers(text, file, json_first=path.suffix.lower() == ".json")
    if problems:
        raise InputFileError(problems)
    if not isinstance(data, dict):
        raise InputFileError([Problem(file, 1, "an answers file must map question ids to answers")])
    if not data:
        raise InputFileError([Problem(file, 1, "the answers file names no questions")])
    answers: dict[str, str | None] = {}
    for key, value in data.items():
        line = line_of(data, key)
        qid = str(key)
        if not bank.has_question(qid):
            problems.append(Problem(file, line, f"unknown question id {qid!r}"))
        elif isinstance(value, dict | list):
            problems.append(Problem(file, line, f"{qid}: the answer must be text"))
        else:
            answers[qid] = None if value is None else storable_text(str(value))
    if problems:
        raise InputFileError(problems)
    return answers


def _parse_answers(text: str, file: str, *, json_first: bool) -> tuple[Any, list[Problem]]:
    if not json_first:
        return parse_yaml(text, file)
    data, problems = parse_json(text, file)
    if isinstance(data, dict):
        # re-parse as YAML (a superset) only for the line numbers of the keys
        yaml_data, _ = parse_yaml(text, file)
        return (yaml_data if isinstance(yaml_data, dict) else data), problems
    return data, problems


def select_exam(
    bank: Bank,
    topics: Sequence[str],
    count: int | None,
    seed: int | None,
    answers: dict[str, str | None] | None,
) -> list[Question]:
    """The exam's questions: the answers file's ids, unless --topic / --count choose them."""
    if answers is not None and not topics and count is None:
        questions = [bank.question(qid) for qid in answers]
        open_ids = [q.id for q in questions if not q.auto_graded]
        if open_ids:
            raise BadInputError(
                f"open questions are never auto-graded and cannot be in an exam: {', '.join(open_ids)}"
            )
        return questions
    rng = random.Random(seed)
    return pick_questions(bank, topics, count or 10, None, rng, include_open=False)


@dataclass(frozen=True)
class ExamItem:
    question: Question
    answer: str | None
    score: int
    verdict: str
    missed: tuple[str, ...]
    wrong_claims: tuple[WrongClaim, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.question.id,
            "topic": self.question.topic,
            "question": self.question.question,
            "answer": self.answer,
            "score": self.score,
            "verdict": self.verdict,
            "missed": list(self.missed),
            "wrong_claims": [w.to_dict() for w in self.wrong_claims],
        }


@dataclass(frozen=True)
class ExamReport:
    items: tuple[ExamItem, ...]
    pass_mark: float
    grader: str
    timed_out: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def mean(self) -> float:
        return sum(item.score for item in self.items) / len(self.items) if self.items else 0.0

    @property
    def score(self) -> int:
        """The mean score as a whole number (halves round up), like every other score."""
        return math.floor(self.mean + 0.5)

    @property
    def passed(self) -> bool:
        """Decided on the score the report shows: "score 70 (pass mark 70)" never fails."""
        return self.score >= self.pass_mark

    @property
    def unanswered(self) -> int:
        return sum(1 for item in self.items if item.verdict == UNANSWERED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "mean": round(self.mean, 2),  # the unrounded mean, for scripts that want it
            "passed": self.passed,
            "pass_mark": self.pass_mark,
            "answered": len(self.items) - self.unanswered,
            "unanswered": self.unanswered,
            "timed_out": self.timed_out,
            "grader": self.grader,
            "questions": [item.to_dict() for item in self.items],
        }


def exam_item(question: Question, answer: str | None, result: GradeResult | None) -> ExamItem:
    if answer is None or result is None:
        return ExamItem(question, None, 0, UNANSWERED, question.key_points)
    return ExamItem(question, answer, result.score, result.verdict, result.missed, result.wrong_claims)


def grade_exam(
    questions: Sequence[Question],
    answers: dict[str, str | None],
    grader: Grader,
    pass_mark: float,
    progress: Callable[[int, int], None] | None = None,
) -> ExamReport:
    """Grade an answers file in one batch; questions it does not answer score 0."""
    validate_pass_mark(pass_mark)
    answered = [(q, text) for q in questions if (text := answers.get(q.id)) is not None]
    results = dict(zip((q.id for q, _ in answered), grader.grade_many(answered, progress), strict=True))
    items = tuple(exam_item(q, answers.get(q.id), results.get(q.id)) for q in questions)
    return ExamReport(items=items, pass_mark=pass_mark, grader=grader.name)


def validate_pass_mark(pass_mark: float) -> None:
    if not 0 <= pass_mark <= 100:
        raise BadInputError("--pass-mark must be between 0 and 100")
