"""The terminal side of a session: show a question, read the answer, show the grade, ask the rating."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console

from llmquiz.grading_service import GradingService
from llmquiz.history import utc_now
from llmquiz.session import Assessment, TimeUp
from llmquiz.ui import render
from llmquiz.wording import plural

if TYPE_CHECKING:
    from llmquiz.bank import Question
    from llmquiz.grading import GradeResult

RATING_PROMPT = "How well did you know this? 1-5, Enter skips ('r' = I was right, 'w' = I was wrong): "
OPEN_RATING_PROMPT = "Compare with the reference. How well did you know this? 1-5, Enter skips: "
EMPTY_ANSWER = "Empty answer: press Enter again to skip, or type your answer."
MAX_PROMPT_TRIES = 3


def parse_assessment(text: str, allow_override: bool = True) -> Assessment | None:
    """'4', 'r', 'w', '2 r', '' -> an Assessment; None when the text makes no sense."""
    rating: int | None = None
    override: str | None = None
    for token in text.lower().replace(",", " ").split():
        if token in {"1", "2", "3", "4", "5"} and rating is None:
            rating = int(token)
        elif allow_override and token in {"r", "right"} and override is None:
            override = "correct"
        elif allow_override and token in {"w", "wrong"} and override is None:
            override = "incorrect"
        else:
            return None
    return Assessment(self_rating=rating, override=override)


class TerminalUI:
    """A SessionUI that talks to a person in the terminal."""

    def __init__(
        self,
        console: Console,
        err_console: Console,
        *,
        deadline: datetime | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.console = console
        self.err = err_console
        self.deadline = deadline
        self.clock = clock
        self._input_ended = False
        # bytes that are not text in the terminal's encoding reach the answer as escapes
        # (safetext.storable_text) instead of failing the read
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stdin.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]

    def _read(self, prompt: str) -> str:
        """One line from stdin; the prompt goes where the UI prints (stderr under --json)."""
        self.console.file.flush()
        if sys.stdin is None:  # started with stdin closed: there is nothing to read
            raise EOFError
        if self.console.file is sys.stdout:
            return input(prompt)  # line editing in a terminal
        self.console.file.write(prompt)
        self.console.file.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def _remaining(self) -> str:
        if self.deadline is None:
            return ""
        seconds = max(0, int((self.deadline - self.clock()).total_seconds()))
        return f" · {seconds // 60:d}:{seconds % 60:02d} left"

    def ask(self, question: Question, position: int, total: int | None) -> str | None:
        if self._input_ended:
            return None
        self.console.print()
        self.console.print(render.question_panel(question, position, total, self.console, self._remaining()))
        try:
            with self._alarm():
                answer = self._read("> ").strip()
                if not answer:  # an Enter pressed by accident must not be graded 0 at once
                    self.err.print(EMPTY_ANSWER)
                    answer = self._read("> ").strip()
                return answer
        except EOFError:
            self._input_ended = True
            return None
        except TimeUp:
            raise TimeUp(take_unsent_input()) from None

    @contextmanager
    def _alarm(self) -> Iterator[None]:
        """Interrupt the answer prompt when the exam's time runs out (POSIX main thread only)."""
        usable = self.deadline is not None and hasattr(signal, "setitimer")
        if usable:
            seconds = (self.deadline - self.clock()).total_seconds()  # type: ignore[operator]
            if seconds <= 0:
                raise TimeUp

            def ring(_signum: int, _frame: object) -> None:
                raise TimeUp

            try:
                previous = signal.signal(signal.SIGALRM, ring)
            except ValueError:  # not the main thread
                usable = False
            else:
                signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            if usable:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)

    def grade(self, service: GradingService, question: Question, answer: str) -> GradeResult:
        if not service.needs_model(question, answer):
            return service.grade(question, answer)
        future = service.submit(question, answer)
        with contextlib.suppress(TimeoutError):
            return future.result(timeout=0.3)  # most grades: done before a spinner would show
        with self.err.status(render.loading_label(service.step, service.first_use, service.ready)) as status:
            while True:  # name each step as loading (or a first use's embedding) reaches it
                with contextlib.suppress(TimeoutError):
                    return future.result(timeout=0.1)
                status.update(render.loading_label(service.step, service.first_use, service.ready))

    def wait_for_grades(self, service: GradingService, pending: Sequence[Future[GradeResult]]) -> None:
        label = f"Grading {plural(len(pending), 'answer')}…"
        with self.err.status(label) as status:
            while wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION).not_done:
                if any(f.done() and f.exception() is not None for f in pending):
                    return  # the session records every answer, then reports the error
                step = render.loading_label(service.step, service.first_use, service.ready)
                status.update(label if service.ready and service.step is None else step)

    def feedback(self, question: Question, result: GradeResult | None) -> None:
        self.console.print(render.feedback(question, result, self.console))

    def assess(self, question: Question, result: GradeResult | None) -> Assessment:
        prompt = RATING_PROMPT if result is not None else OPEN_RATING_PROMPT
        for _ in range(MAX_PROMPT_TRIES):
            try:
                text = self._read(prompt)
            except EOFError:
                self._input_ended = True
                return Assessment()
            assessment = parse_assessment(text, allow_override=result is not None)
            if assessment is not None:
                return assessment
            self.err.print("Type a number from 1 to 5, 'r', 'w', or just Enter.")
        return Assessment()


def take_unsent_input() -> str:
    """What was typed on the terminal but not sent with Enter; the terminal's input is then flushed.

    Left in the terminal's queue, that text would reach the shell once llmquiz exits (and
    run as a command at the next Enter). Leaving canonical mode for a moment makes the line
    being edited readable; tcflush then drops anything else queued. '' when stdin is no terminal.
    """
    try:
        fd = sys.stdin.fileno() if sys.stdin is not None else -1
        if fd < 0 or not os.isatty(fd):
            return ""
        import termios
    except (ImportError, OSError, ValueError):
        return ""
    pending: list[bytes] = []
    try:
        saved = termios.tcgetattr(fd)
        raw = [*saved[:6], list(saved[6])]
        raw[3] &= ~termios.ICANON
        raw[6][termios.VMIN], raw[6][termios.VTIME] = 0, 0
        termios.tcsetattr(fd, termios.TCSANOW, raw)
        try:
            while chunk := os.read(fd, 4096):
                pending.append(chunk)
        finally:
            termios.tcsetattr(fd, termios.TCSANOW, saved)
            termios.tcflush(fd, termios.TCIFLUSH)
    except (OSError, termios.error):
        return ""
    encoding = getattr(sys.stdin, "encoding", None) or "utf-8"
    return b"".join(pending).decode(encoding, "surrogateescape")


class SilentUI(TerminalUI):
    """Interactive exam: asks and grades, but gives no feedback until the end."""

    def feedback(self, question: Question, result: GradeResult | None) -> None:
        return None

    def assess(self, question: Question, result: GradeResult | None) -> Assessment:
        return Assessment()
