"""The ask / grade / rate loop of quiz, drill, review and interactive exam; UI-agnostic."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from llmquiz.bank import DIFFICULTIES, Bank, Question
from llmquiz.errors import BadInputError
from llmquiz.grading_service import GradingService
from llmquiz.history import (
    CUT_OFF,
    UNGRADED,
    UNRATED,
    HistoryRecord,
    answer_record,
    append_record,
    new_session_id,
    self_rating_score,
    utc_now,
)
from llmquiz.safetext import storable_text

if TYPE_CHECKING:
    from llmquiz.grading import GradeResult


def pick_questions(
    bank: Bank,
    topics: Sequence[str],
    count: int | None,
    difficulty: str | None,
    rng: random.Random,
    *,
    include_open: bool = True,
) -> list[Question]:
    """A random selection of `count` questions from the given topics (all when none)."""
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise BadInputError(f"--difficulty must be one of {', '.join(DIFFICULTIES)}")
    if count is not None and count < 1:
        raise BadInputError("--count must be at least 1")
    pool = [
        q
        for q in bank.select(topics)
        if (difficulty is None or q.difficulty == difficulty) and (include_open or q.auto_graded)
    ]
    if not pool:
        raise BadInputError("no questions match the given topic and difficulty")
    return rng.sample(pool, min(count or len(pool), len(pool)))


class QuestionSource(Protocol):
    def next(self) -> Question | None: ...

    def report(self, question: Question, score: int) -> None: ...


class ListSource:
    """Ask a fixed list of questions in order."""

    def __init__(self, questions: Sequence[Question]) -> None:
        self._pending = list(questions)
        self.total = len(self._pending)

    def next(self) -> Question | None:
        return self._pending.pop(0) if self._pending else None

    def report(self, question: Question, score: int) -> None:
        return None


@dataclass(frozen=True)
class Assessment:
    """What the learner says after seeing the grade: a 1-5 rating and/or a dispute."""

    self_rating: int | None = None
    override: str | None = None


@dataclass(frozen=True)
class Outcome:
    question: Question
    answer: str
    result: GradeResult | None
    record: HistoryRecord


class SessionUI(Protocol):
    """What the loop needs from a user interface (terminal, tests)."""

    def ask(self, question: Question, position: int, total: int | None) -> str | None: ...

    def grade(self, service: GradingService, question: Question, answer: str) -> GradeResult: ...

    def wait_for_grades(self, service: GradingService, pending: Sequence[Future[GradeResult]]) -> None:
        """The exam is over: wait for the answers still being graded in the background."""
        ...

    def feedback(self, question: Question, result: GradeResult | None) -> None: ...

    def assess(self, question: Question, result: GradeResult | None) -> Assessment: ...


@dataclass
class SessionPlan:
    mode: str
    source: QuestionSource
    total: int | None
    feedback: bool = True
    deadline: datetime | None = None
    questions: Sequence[Question] = ()  # in asking order, to embed ahead of time


@dataclass
class SessionSummary:
    session: str
    mode: str
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    timed_out: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def mean_score(self) -> float | None:
        scores = [o.record.score for o in self.outcomes if o.record.verdict not in _UNSCORED]
        return sum(scores) / len(scores) if scores else None


_UNSCORED = (UNRATED, UNGRADED, CUT_OFF)


class TimeUp(Exception):
    """The exam's time limit ran out while the learner was answering.

    `unsent`: what the learner had typed but not sent when the time ran out (the UI takes
    it from the terminal); the session keeps it in the history, marked cut-off.
    """

    def __init__(self, unsent: str = "") -> None:
        super().__init__("time is up")
        self.unsent = unsent


@dataclass(frozen=True)
class _Pending:
    """An exam answer being graded in the background (no future: cut off); recorded in turn."""

    question: Question
    answer: str
    elapsed: float
    answered_at: datetime
    future: Future[GradeResult] | None


class Session:
    """Runs one plan: asks, grades, records each answer in the history as soon as it is final."""

    def __init__(
        self,
        plan: SessionPlan,
        ui: SessionUI,
        service: GradingService,
        home: Path,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.plan = plan
        self.ui = ui
        self.service = service
        self.home = home
        self.clock = clock
        self.summary = SessionSummary(session=new_session_id(), mode=plan.mode)
        self._pending: list[_Pending] = []

    def run(self) -> SessionSummary:
        try:
            try:
                self._loop()
            except TimeUp:
                self.summary.timed_out = True
            self._settle(wait=True)
        except KeyboardInterrupt:
            self.summary.interrupted = True
            self._settle(wait=False)
        except BaseException:
            self._settle(wait=False)
            raise
        self.summary.warnings.extend(self.service.warnings)
        return self.summary

    def _loop(self) -> None:
        position = 0
        while (question := self.plan.source.next()) is not None:
            if self.plan.deadline is not None and self.clock() >= self.plan.deadline:
                raise TimeUp
            position += 1
            started = self.clock()
            try:
                answer = self.ui.ask(question, position, self.plan.total)
            except TimeUp as up:
                if up.unsent.strip():  # typed but not sent when the time ran out: kept, cut off
                    self._cut_off(question, storable_text(up.unsent.strip()), self._elapsed(started))
                raise
            if answer is None:  # end of input (Ctrl-D): stop asking, keep what was answered
                return
            answer = storable_text(answer)  # undecodable bytes kept as escapes, never lost
            if self.plan.deadline is not None and self.clock() > self.plan.deadline:
                self._cut_off(question, answer, self._elapsed(started))
                raise TimeUp  # an answer sent after the bell is kept but does not count
            elapsed = self._elapsed(started)
            if not self.plan.feedback and question.auto_graded:
                # no feedback until the end: grade in the background, never between questions
                future = self.service.submit(question, answer)
                self._pending.append(_Pending(question, answer, elapsed, self.clock(), future))
                self._record_graded()
                continue
            outcome = self._answer(question, answer, elapsed)
            self.plan.source.report(question, outcome.record.effective_score)

    def _elapsed(self, started: datetime) -> float:
        return (self.clock() - started).total_seconds()

    def _cut_off(self, question: Question, answer: str, elapsed: float) -> None:
        """Keep an answer the time limit cut off; after the answers before it (history order)."""
        if self._pending:
            self._pending.append(_Pending(question, answer, elapsed, self.clock(), None))
        else:
            self._record(question, answer, None, Assessment(), elapsed, cut_off=True)

    def _record_graded(self) -> None:
        """Record the background-graded answers whose grades are in, in the order asked."""
        while self._pending and (self._pending[0].future is None or self._pending[0].future.done()):
            self._record_pending(self._pending.pop(0))

    def _record_pending(self, p: _Pending) -> None:
        """Record one background-graded answer; ungraded when grading failed (then raise why)."""
        if p.future is None:
            self._record(p.question, p.answer, None, Assessment(), p.elapsed, p.answered_at, cut_off=True)
            return
        error = p.future.exception() if p.future.done() else None
        result = p.future.result() if p.future.done() and error is None else None
        self._record(p.question, p.answer, result, Assessment(), p.elapsed, p.answered_at)
        if error is not None:
            raise error

    def _settle(self, *, wait: bool) -> None:
        """The loop is over: record every answer still graded in the background.

        With `wait` the grades are waited for (the clock has stopped); without (Ctrl-C, an
        error), what is not graded yet is recorded as ungraded. Nothing answered is lost.
        """
        futures = [p.future for p in self._pending if p.future is not None]
        if wait and futures:
            self.ui.wait_for_grades(self.service, futures)
        errors: list[Exception] = []
        while self._pending:
            try:
                self._record_pending(self._pending.pop(0))
            except Exception as exc:  # every answer is recorded first; then the first error
                errors.append(exc)
        if errors and wait:
            raise errors[0]

    def _answer(self, question: Question, answer: str, elapsed: float) -> Outcome:
        result = None
        if question.auto_graded:
            try:
                result = self.ui.grade(self.service, question, answer)
            except BaseException:  # interrupted, or the grader failed: the answer is kept first
                self._record(question, answer, None, Assessment(), elapsed)
                raise
        assessment = Assessment()
        if self.plan.feedback:
            self.ui.feedback(question, result)
            try:
                assessment = self.ui.assess(question, result)
            except (KeyboardInterrupt, EOFError):
                self._record(question, answer, result, Assessment(), elapsed)
                raise KeyboardInterrupt from None
        return self._record(question, answer, result, assessment, elapsed)

    def _record(
        self,
        question: Question,
        answer: str,
        result: GradeResult | None,
        assessment: Assessment,
        elapsed: float,
        when: datetime | None = None,
        *,
        cut_off: bool = False,
    ) -> Outcome:
        if cut_off:
            score, verdict, missed, grader = 0, CUT_OFF, question.key_points, self.service.grader.name
        elif result is not None:
            score, verdict, missed = result.score, result.verdict, result.missed
            grader = self.service.grader.name
        elif question.auto_graded:  # grading was interrupted or failed
            score, verdict, missed, grader = 0, UNGRADED, question.key_points, self.service.grader.name
        elif assessment.self_rating is not None:
            from llmquiz.grading import verdict_for

            score = self_rating_score(assessment.self_rating)
            verdict, missed, grader = verdict_for(score), question.key_points, "self"
        else:
            score, verdict, missed, grader = 0, UNRATED, question.key_points, "self"
        record = answer_record(
            question,
            answer,
            session=self.summary.session,
            mode=self.plan.mode,
            score=score,
            verdict=verdict,
            missed=missed,
            grader=grader,
            when=when or self.clock(),
            self_rating=assessment.self_rating,
            override=assessment.override,
            elapsed_s=round(elapsed, 1),
        )
        append_record(self.home, record)
        outcome = Outcome(question, answer, result, record)
        self.summary.outcomes.append(outcome)
        return outcome
