"""The outcome of grading one answer, and the verdict bands every grader shares."""

from __future__ import annotations

from dataclasses import dataclass, field

CORRECT_AT = 70
PARTIAL_AT = 40


def verdict_for(score: int) -> str:
    """`correct` at 70 or more, `partial` from 40, else `incorrect`."""
    if score >= CORRECT_AT:
        return "correct"
    if score >= PARTIAL_AT:
        return "partial"
    return "incorrect"


def clamp_score(value: float) -> int:
    """Round a raw 0-100 value to an int score inside 0..100 (NaN counts as 0)."""
    if value != value:  # NaN
        return 0
    return int(min(100, max(0, round(value))))


@dataclass(frozen=True)
class WrongClaim:
    """Something the answer got wrong: its own words, and what is true instead."""

    claim: str
    correction: str

    def to_dict(self) -> dict[str, str]:
        return {"claim": self.claim, "correction": self.correction}


@dataclass(frozen=True)
class GradeResult:
    """One graded answer: score 0-100, its verdict, which key points it covered, what it got wrong."""

    score: int
    verdict: str
    missed: tuple[str, ...] = ()
    covered: tuple[str, ...] = ()
    method: str = "semantic"
    model: str | None = None
    signals: dict[str, float] = field(default_factory=dict, compare=False)
    wrong_claims: tuple[WrongClaim, ...] = ()

    @classmethod
    def make(
        cls,
        score: float,
        *,
        method: str,
        missed: tuple[str, ...] = (),
        covered: tuple[str, ...] = (),
        model: str | None = None,
        signals: dict[str, float] | None = None,
        wrong_claims: tuple[WrongClaim, ...] = (),
    ) -> GradeResult:
        value = clamp_score(score)
        rounded = {k: round(float(v), 4) for k, v in (signals or {}).items()}
        return cls(value, verdict_for(value), missed, covered, method, model, rounded, wrong_claims)

    def to_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "verdict": self.verdict,
            "missed": list(self.missed),
            "covered": list(self.covered),
            "wrong_claims": [w.to_dict() for w in self.wrong_claims],
            "method": self.method,
            "model": self.model,
            "signals": dict(self.signals),
        }
