"""The one exception family the core raises (the CLI maps each to an exit code), and warnings."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from llmquiz.safetext import terminal_line

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class LlmquizError(Exception):
    """Base of every error llmquiz reports to the user as `Error: ...`."""

    exit_code: int = EXIT_BAD_INPUT


class BadInputError(LlmquizError):
    """Bad input from the user: unknown id or topic, unreadable file, bad option value."""


class UnknownQuestionError(BadInputError):
    """A question id that is not in the bank."""


class UnknownTopicError(BadInputError):
    """A topic slug that is not in the bank."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, reported as FILE:LINE: message."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file  # 0: no line to name
        return f"{where}: {self.message}"


class InputFileError(BadInputError):
    """An input file (bank, answers, notes, CSV) that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid input file"
        more = (
            f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
            if len(problems) > 1
            else ""
        )
        super().__init__(first + more)


class BankError(InputFileError):
    """A bank file that cannot be used; carries every problem found."""


class OutputFileError(BadInputError):
    """An output path llmquiz refuses to write (the history, a cache, an input, a device...)."""


class ModelError(LlmquizError):
    """The embedding model or torch is missing, unloadable, or fails verification."""


class GraderUnavailableError(ModelError):
    """Semantic grading was asked for but torch / sentence-transformers cannot be imported."""


def warn(message: str) -> None:
    """A warning on stderr, on one line, never wrapped or parsed as markup, no control characters."""
    print(f"Warning: {terminal_line(message)}", file=sys.stderr, flush=True)
