"""Grading free-text answers: semantic (embeddings + lexical signals) or lexical only.

Importing this package is cheap: torch, sentence-transformers and numpy are imported by
`Grader.load()` only.
"""

from __future__ import annotations

from llmquiz.grading.factory import GRADER_KINDS, Grader, make_grader
from llmquiz.grading.result import CORRECT_AT, PARTIAL_AT, GradeResult, verdict_for

__all__ = [
    "CORRECT_AT",
    "GRADER_KINDS",
    "PARTIAL_AT",
    "GradeResult",
    "Grader",
    "make_grader",
    "verdict_for",
]
