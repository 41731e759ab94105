"""The ask / grade / rate loop of quiz, drill, review and interactive exam; UI-agnostic."""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from llmquiz.bank import DIFFICULTIES, Bank, Question
from llmquiz.errors import BadInputError, GraderUnavailableError, LlmquizError
from llmquiz.grading import progress
from llmquiz.grading.kinds import grade_fixed
from llmquiz.history import (
    UNGRADED,
    UNRATED,
    HistoryRecord,
    answer_record,
    append_record,
    new_session_id,
    self_rating_score,
    utc_now,
)

if TYPE_CHECKING:
    from llmquiz.grading import Grader, GradeResult


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


class GradingService:
    """Loads the grader in the background while the learner reads the first question.

    The model loads first; then the session's questions are embedded a few at a time, in
    the order they will be asked, so grading the first answer never waits for the rest.
    An answer that needs no model (empty, "no idea", short, choice) never waits for it;
    `submit` grades in the background (the exam never makes the learner wait).
    """

    PREPARE_CHUNK = 4

    def __init__(
        self,
        grader: Grader,
        questions: Sequence[Question],
        *,
        fallback: Callable[[], Grader] | None = None,
    ) -> None:
        self.grader = grader
        self.warnings: list[str] = []
        self._questions = [q for q in questions if q.auto_graded]
        self._fallback = fallback
        self._error: BaseException | None = None
        self._loaded = threading.Event()
        self._thread = threading.Thread(target=self._load, name="llmquiz-model-load", daemon=True)
        self.step: str | None = None  # the loading step running now (progress.STEPS), for the UI
        self.first_use = False  # the weights were verified: the first load after an install
        self._queue: queue.SimpleQueue[tuple[Future[GradeResult], Question, str]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def start(self) -> GradingService:
        self._thread.start()
        return self

    def _load(self) -> None:
        try:
            with progress.listening(self._on_step):
                self.grader.load()
        except BaseException as exc:  # handed to the main thread in wait()
            self._error = exc
            return
        finally:
            self._loaded.set()
        for start in range(0, len(self._questions), self.PREPARE_CHUNK):
            try:
                self.grader.prepare(self._questions[start : start + self.PREPARE_CHUNK])
            except Exception:  # grading embeds what it needs itself; never fail here
                return

    def _on_step(self, step: str) -> None:
        self.first_use = self.first_use or step == progress.VERIFY
        self.step = step

    @property
    def ready(self) -> bool:
        return self._loaded.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the model is loaded (False: `timeout` passed first); maybe fall back to lexical."""
        if not self._loaded.wait(timeout):
            return False
        if self._error is None:
            return True
        error = self._error
        if isinstance(error, GraderUnavailableError) and self._fallback is not None:
            self._error = None
            self.warnings.append(f"{error}; grading with the lexical grader instead")
            self.grader = self._fallback()
            return True
        raise error  # to every later grade too: the model never loaded

    @staticmethod
    def needs_model(question: Question, answer: str) -> bool:
        """Whether grading this answer waits for the model (an empty answer does not)."""
        return question.auto_graded and grade_fixed(question, answer) is None

    def grade(self, question: Question, answer: str) -> GradeResult:
        fixed = grade_fixed(question, answer) if question.auto_graded else None
        if fixed is not None:  # what the grader would give: it grades these first, the same way
            return fixed
        self.wait()
        return self.grader.grade(question, answer)

    def submit(self, question: Question, answer: str) -> Future[GradeResult]:
        """Grade in a background thread, in the order submitted; the future holds the result."""
        future: Future[GradeResult] = Future()
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="llmquiz-grading", daemon=True)
            self._worker.start()
        self._queue.put((future, question, answer))
        return future

    def _work(self) -> None:
        while True:
            future, question, answer = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self.grade(question, answer))
            except BaseException as exc:  # handed to the session with the future
                future.set_exception(exc)


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
        scores = [o.record.score for o in self.outcomes if o.record.verdict not in (UNRATED, UNGRADED)]
        return sum(scores) / len(scores) if scores else None


class TimeUp(Exception):
    """The exam's time limit ran out while the learner was answering."""


@dataclass(frozen=True)
class _Pending:
    """An exam answer being graded in the background; recorded once graded."""

    question: Question
    answer: str
    elapsed: float
    answered_at: datetime
    future: Future[GradeResult]


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
            answer = self.ui.ask(question, position, self.plan.total)
            if answer is None:  # end of input (Ctrl-D): stop asking, keep what was answered
                return
            if self.plan.deadline is not None and self.clock() > self.plan.deadline:
                raise TimeUp  # an answer typed after the bell does not count
            elapsed = (self.clock() - started).total_seconds()
            if not self.plan.feedback and question.auto_graded:
                # no feedback until the end: grade in the background, never between questions
                future = self.service.submit(question, answer)
                self._pending.append(_Pending(question, answer, elapsed, self.clock(), future))
                self._record_graded()
                continue
            outcome = self._answer(question, answer, elapsed)
            self.plan.source.report(question, outcome.record.effective_score)

    def _record_graded(self) -> None:
        """Record the background-graded answers whose grades are in, in the order asked."""
        while self._pending and self._pending[0].future.done():
            self._record_pending(self._pending.pop(0))

    def _record_pending(self, p: _Pending) -> None:
        """Record one background-graded answer; ungraded when grading failed (then raise why)."""
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
        if wait and self._pending:
            self.ui.wait_for_grades(self.service, [p.future for p in self._pending])
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
            except (KeyboardInterrupt, LlmquizError):
                self._record(question, answer, None, Assessment(), elapsed)  # the answer is kept
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
    ) -> Outcome:
        if result is not None:
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
