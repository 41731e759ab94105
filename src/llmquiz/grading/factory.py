"""make_grader: the one way the rest of llmquiz gets a grader (no heavy imports here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from llmquiz.errors import BadInputError
from llmquiz.grading.options import DEVICES, GRADER_KINDS

if TYPE_CHECKING:
    from llmquiz.bank import Question
    from llmquiz.grading.result import GradeResult


@runtime_checkable
class Grader(Protocol):
    name: str

    def load(self) -> None: ...
    def prepare(self, questions: Sequence[Question]) -> None: ...
    def grade(self, question: Question, answer: str) -> GradeResult: ...
    def grade_many(
        self,
        items: Sequence[tuple[Question, str]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[GradeResult]: ...


def make_grader(
    kind: str = "semantic",
    *,
    model: str | None = None,
    device: str = "auto",
    home: Path,
    neighbours: Sequence[Question] = (),
    engine: str = "auto",
) -> Grader:
    """A grader of the given kind. Constructing it is cheap; `load()` does the heavy work.

    engine: the bundled model's forward pass, "auto" (numpy on CPU, torch on cuda), "numpy" or
    "torch" (grading.embedder.engine_for_batch chooses for a batch of answers).
    """
    if kind == "lexical":
        from llmquiz.grading.lexical import LexicalGrader

        return LexicalGrader()
    if kind == "semantic":
        if device not in DEVICES:
            raise BadInputError(f"unknown device {device!r}: use {', '.join(DEVICES)}")
        from llmquiz.grading.semantic import SemanticGrader

        return SemanticGrader(model=model, device=device, home=home, neighbours=neighbours, engine=engine)
    raise BadInputError(f"unknown grader {kind!r}: use {' or '.join(GRADER_KINDS)}")
