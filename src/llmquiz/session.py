"""The ask / grade / rate loop of quiz, drill, review and interactive exam; UI-agnostic."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from llmquiz.bank import DIFFICULTIES, Bank, Question
from llmquiz.errors import BadInputError, GraderUnavailableError
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

    def start(self) -> GradingService:
        self._thread.start()
        return self

    def _load(self) -> None:
        try:
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

    @property
    def ready(self) -> bool:
        return self._loaded.is_set()

    def wait(self) -> None:
        """Block until the model is loaded; fall back to lexical grading if torch is missing."""
        self._loaded.wait()
        if self._error is None:
            return
        error, self._error = self._error, None
        if isinstance(error, GraderUnavailableError) and self._fallback is not None:
            self.warnings.append(f"{error}; grading with the lexical grader instead")
            self.grader = self._fallback()
            return
        raise error

    def grade(self, question: Question, answer: str) -> GradeResult:
        self.wait()
        return self.grader.grade(question, answer)


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

    def run(self) -> SessionSummary:
        try:
            self._loop()
        except KeyboardInterrupt:
            self.summary.interrupted = True
        except TimeUp:
            self.summary.timed_out = True
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
                    self._record(question, storable_text(up.unsent.strip()), None, Assessment(),
                                 self._elapsed(started), cut_off=True)  # fmt: skip
                raise
            if answer is None:  # end of input (Ctrl-D): stop asking, keep what was answered
                return
            answer = storable_text(answer)  # undecodable bytes kept as escapes, never lost
            if self.plan.deadline is not None and self.clock() > self.plan.deadline:
                self._record(question, answer, None, Assessment(), self._elapsed(started), cut_off=True)
                raise TimeUp  # an answer sent after the bell is kept but does not count
            outcome = self._answer(question, answer, self._elapsed(started))
            self.plan.source.report(question, outcome.record.effective_score)

    def _elapsed(self, started: datetime) -> float:
        return (self.clock() - started).total_seconds()

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
            when=self.clock(),
            self_rating=assessment.self_rating,
            override=assessment.override,
            elapsed_s=round(elapsed, 1),
        )
        append_record(self.home, record)
        outcome = Outcome(question, answer, result, record)
        self.summary.outcomes.append(outcome)
        return outcome
