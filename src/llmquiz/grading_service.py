"""The grader behind a session: loaded in the background, and never waited for without need."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

from llmquiz.errors import GraderUnavailableError
from llmquiz.grading import progress
from llmquiz.grading.kinds import grade_fixed

if TYPE_CHECKING:
    from llmquiz.bank import Question
    from llmquiz.grading import Grader, GradeResult


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
        self.step: str | None = None  # the loading step running now (a grading.progress step), for the UI
        self.first_use = False  # the weights were verified: the first load after an install
        self._queue: queue.SimpleQueue[tuple[Future[GradeResult], Question, str]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def start(self) -> GradingService:
        self._thread.start()
        return self

    def _load(self) -> None:
        with progress.listening(self._on_step):
            try:
                self.grader.load()
            except BaseException as exc:  # handed to the main thread in wait()
                self._error = exc
                return
            finally:
                self.step = None
                self._loaded.set()
            for start in range(0, len(self._questions), self.PREPARE_CHUNK):
                try:
                    self.grader.prepare(self._questions[start : start + self.PREPARE_CHUNK])
                except Exception:  # grading embeds what it needs itself; never fail here
                    return
                finally:
                    self.step = None

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
        with progress.listening(self._on_step):
            while True:
                future, question, answer = self._queue.get()
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(self.grade(question, answer))
                except BaseException as exc:  # handed to the session with the future
                    future.set_exception(exc)
                finally:
                    self.step = None if self.ready else self.step
