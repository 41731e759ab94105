"""exam, grade and calibrate: the commands whose output a script or a pipeline reads."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from llmquiz.bank import Question, bank_files
from llmquiz.commands.browsing import Warn, check_privacy
from llmquiz.context import Context, semantic_grading_installed
from llmquiz.errors import BadInputError, GraderUnavailableError, LlmquizError
from llmquiz.exam import (
    ExamReport,
    exam_item,
    grade_exam,
    load_answers,
    select_exam,
    validate_pass_mark,
)
from llmquiz.grading import progress
from llmquiz.history import answer_record, append_record, new_session_id, utc_now
from llmquiz.historyfile import refuse_unsafe_history
from llmquiz.outputfiles import check_output, write_output
from llmquiz.reports import junit_xml
from llmquiz.safetext import storable_text

if TYPE_CHECKING:
    from llmquiz.grading import Grader, GradeResult
    from llmquiz.grading.calibrate import CalibrationResult
    from llmquiz.session import SessionUI

Progress = Callable[[int, int], None]  # progress(done, total), called as answers are graded
ExamUI = Callable[[datetime | None], "SessionUI"]  # the interactive exam's UI, given its deadline
_LEXICAL_HINT = "(pass --grader lexical to grade without the model)"
MAX_TIME_LIMIT = 7 * 24 * 60  # minutes: a week is more than any exam


@dataclass(frozen=True)
class ExamOptions:
    topics: list[str]
    count: int | None
    pass_mark: float
    answers: Path | None
    junit: Path | None
    time_limit: float | None
    seed: int | None


def _ignore(step: str) -> None:
    return None


def loaded_grader(context: Context, on_step: Callable[[str], None] | None = None, answers: int = 1) -> Grader:
    """The grader for about `answers` answers, loaded now; a pipeline never silently switches
    to another grading method.

    `on_step` hears each loading step (grading.progress), to tell the user what is slow.
    """
    grader = context.grader(answers=answers)
    try:
        with progress.listening(on_step or _ignore):
            grader.load()
    except GraderUnavailableError as exc:
        raise GraderUnavailableError(f"{exc} {_LEXICAL_HINT}") from None
    return grader


@dataclass(frozen=True)
class ExamOutcome:
    """A finished exam's report, or None when the learner interrupted it."""

    report: ExamReport | None
    answers_kept: int = 0  # answers in the history from an interrupted exam


def run_exam(
    context: Context,
    options: ExamOptions,
    ui: ExamUI,
    on_warning: Warn,
    progress: Progress | None = None,
) -> ExamOutcome:
    """Grade an answers file, or ask in the terminal through `ui`; write the JUnit report if asked."""
    check_privacy(context, on_warning)
    validate_pass_mark(options.pass_mark)
    if options.answers is not None and options.time_limit is not None:
        raise BadInputError("--time-limit is for the interactive exam, not with --answers")
    validate_time_limit(options.time_limit)
    inputs = _exam_inputs(context, options) if options.junit is not None else []
    if options.junit is not None:  # refused before anything is graded or recorded
        check_output(options.junit, protected=inputs, home=context.home)
    refuse_unsafe_history(context.home)
    if options.answers is not None:
        outcome = ExamOutcome(_exam_from_file(context, options, progress))
    else:
        questions = select_exam(context.bank(), options.topics, options.count, options.seed, None)
        outcome = _interactive_exam(context, options, questions, ui)
    if options.junit is not None and outcome.report is not None:
        report = junit_xml(outcome.report).encode("utf-8")
        write_output(options.junit, report, protected=inputs, home=context.home)
    return outcome


def validate_time_limit(minutes: float | None) -> None:
    if minutes is not None and not (math.isfinite(minutes) and 0 < minutes <= MAX_TIME_LIMIT):
        raise BadInputError(
            f"--time-limit must be a number of minutes, more than 0 and at most {MAX_TIME_LIMIT}"
        )


def _exam_inputs(context: Context, options: ExamOptions) -> list[Path]:
    """The files the exam reads: never an output of it."""
    files = bank_files(context.banks)
    return [*files, options.answers] if options.answers is not None else files


def _exam_from_file(context: Context, options: ExamOptions, progress: Progress | None) -> ExamReport:
    bank = context.bank()
    answers = load_answers(options.answers, bank)  # type: ignore[arg-type]
    questions = select_exam(bank, options.topics, options.count, options.seed, answers)
    grader = loaded_grader(context, answers=sum(answers.get(q.id) is not None for q in questions))
    report = grade_exam(questions, answers, grader, options.pass_mark, progress)
    session = new_session_id()
    for item in report.items:
        if item.answer is not None:
            record = answer_record(
                item.question, item.answer, session=session, mode="exam", score=item.score,
                verdict=item.verdict, missed=item.missed, grader=grader.name,
            )  # fmt: skip
            append_record(context.home, record)
    return report


def _interactive_exam(
    context: Context, options: ExamOptions, questions: list[Question], ui: ExamUI
) -> ExamOutcome:
    from llmquiz.commands.practice import start_grading
    from llmquiz.session import ListSource, Session, SessionPlan

    if context.grader_kind == "semantic" and not semantic_grading_installed():
        raise GraderUnavailableError(f"numpy, tokenizers or safetensors is not installed {_LEXICAL_HINT}")
    deadline = utc_now() + timedelta(minutes=options.time_limit) if options.time_limit else None
    plan = SessionPlan(
        "exam", ListSource(questions), len(questions), feedback=False, deadline=deadline, questions=questions
    )
    service = start_grading(context, questions, allow_fallback=False)
    summary = Session(plan, ui(deadline), service, context.home).run()
    if summary.interrupted:
        return ExamOutcome(None, answers_kept=len(summary.outcomes))
    results: dict[str, tuple[str, GradeResult | None]] = {
        o.question.id: (o.answer, o.result) for o in summary.outcomes
    }
    items = tuple(
        exam_item(q, *results[q.id]) if q.id in results else exam_item(q, None, None) for q in questions
    )
    report = ExamReport(items, options.pass_mark, service.grader.name, timed_out=summary.timed_out)
    return ExamOutcome(report)


@dataclass(frozen=True)
class GradedAnswer:
    """`grade`'s result: the question and its grade."""

    question: Question
    result: GradeResult

    def to_dict(self) -> dict[str, object]:
        grade = self.result.to_dict()
        shared = ("score", "verdict", "missed", "covered", "wrong_claims")
        return {"id": self.question.id, **{key: grade[key] for key in shared}, "grader": self.result.method}


def grade_one(
    context: Context,
    question_id: str,
    answer: str,
    on_warning: Warn,
    on_step: Callable[[str], None] | None = None,
) -> GradedAnswer:
    """Grade and record one answer; one that needs no model (empty, "no idea") never loads it."""
    from llmquiz.grading.kinds import grade_fixed

    check_privacy(context, on_warning)
    question = context.bank().question(question_id)
    if not question.auto_graded:
        raise LlmquizError(f"{question_id} is an open question: it is never auto-graded")
    refuse_unsafe_history(context.home)
    answer = storable_text(answer)  # undecodable bytes from argv kept as escapes
    fixed = grade_fixed(question, answer)  # what the grader would give, without torch
    grader = context.grader() if fixed is not None else loaded_grader(context, on_step)
    with progress.listening(on_step or _ignore):  # a first use embeds the bank's texts: a step too
        result = fixed if fixed is not None else grader.grade(question, answer)
    record = answer_record(
        question, answer, session=new_session_id(), mode="grade", score=result.score,
        verdict=result.verdict, missed=result.missed, grader=grader.name,
    )  # fmt: skip
    append_record(context.home, record)
    return GradedAnswer(question, result)


@dataclass(frozen=True)
class Calibration:
    """`calibrate`'s result; a figure that is not a number (gold grades that never vary) is null."""

    result: CalibrationResult

    def to_dict(self) -> dict[str, object]:
        return {key: None if _is_nan(value) else value for key, value in self.result.to_dict().items()}


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def run_calibration(
    context: Context, csv_file: Path, gold: str, progress: Progress | None = None
) -> Calibration:
    from llmquiz.grading.calibrate import calibrate, read_graded_csv

    rows = read_graded_csv(csv_file, gold)
    return Calibration(calibrate(rows, loaded_grader(context, answers=len(rows)), progress))
