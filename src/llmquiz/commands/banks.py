"""bank validate: every problem of the bank files, or how much they hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmquiz.bank import check_bank
from llmquiz.context import Context
from llmquiz.errors import Problem


@dataclass(frozen=True)
class Validation:
    topics: int
    questions: int
    problems: tuple[Problem, ...]  # every problem found, file by file


def validate_bank(context: Context, paths: Sequence[Path]) -> Validation:
    """Check the given bank files or folders (default: the run's banks), collecting every problem."""
    bank, problems = check_bank(tuple(paths) if paths else context.banks, context.bank_parser())
    return Validation(len(bank.topics), len(bank.questions), tuple(problems))
