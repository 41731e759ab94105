"""What a grader decides about each statement the bank holds for a question.

Every key point is covered, missing or contradicted by the answer; every bank misconception
is repeated by it or not; every other sentence of the reference (a fact the key points sum
up) is contradicted by it or not. A judgement keeps its evidence: the answer's own words it rests
on. Both graders (semantic and lexical) speak this vocabulary, and one scoring function
(scoring.py) turns judgements into a score. Pure data: no numpy, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

COVERED, MISSING, CONTRADICTED = "covered", "missing", "contradicted"


@dataclass(frozen=True)
class PointJudgement:
    """One key point against the answer.

    match: how much of the point the answer gives, 0-1 (0 when contradicted);
    against: how sure the grader is that the answer says the opposite, 0-1;
    evidence: the answer's words the decision rests on (None when nothing came close).
    """

    point: str
    status: str
    match: float
    against: float = 0.0
    evidence: str | None = None


@dataclass(frozen=True)
class MisconceptionJudgement:
    """One bank misconception against the answer: repeated, with what confidence, where."""

    claim: str
    correction: str
    repeated: bool
    confidence: float = 0.0
    evidence: str | None = None


@dataclass(frozen=True)
class FactJudgement:
    """One sentence of the reference against the answer: contradicted or not, how surely, where.

    The key points sum the reference up; its own sentences say more, so an answer can get one
    of them wrong while its words still match a key point.
    """

    statement: str
    contradicted: bool
    confidence: float = 0.0
    evidence: str | None = None
