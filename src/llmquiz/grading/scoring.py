"""The one place a grade is made: judgements of the key points, misconceptions, facts -> GradeResult.

    coverage = mean over key points of its match (a contradicted point counts -flip_cost
               times the grader's confidence that it is contradicted)
    raw      = coverage_weight * coverage + (1 - coverage_weight) * reference match
    score    = 100 * raw * factor (raw first stretched from [raw_low, raw_high] to [0, 1]),
               then lowered for each wrong claim:
               times (1 - wrong_cost * confidence) for each contradicted key point, each
               repeated misconception and each contradicted reference fact
    cap      = a wrong claim held with at least `central_at` confidence makes the answer
               incorrect: the score is at most `wrong_cap`, however much else it says;
               the grader's own caps (a term list) apply too.

Covered are the points judged covered; missed, every other point (a contradicted point is
never covered); wrong_claims, the answer's words behind each contradicted point (corrected
by the point), each repeated misconception (corrected by the bank's correction) and each
contradicted fact (corrected by the reference's own words). So the
score, the verdict, `missed` and the feedback all follow from the same judgements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llmquiz.grading.judgement import (
    CONTRADICTED,
    COVERED,
    FactJudgement,
    MisconceptionJudgement,
    PointJudgement,
)
from llmquiz.grading.result import GradeResult, WrongClaim


@dataclass(frozen=True)
class ScoreRules:
    """The scoring's global knobs (chosen on the dev set; see README)."""

    coverage_weight: float = 0.7
    flip_cost: float = 1.0
    wrong_cost: float = 0.5
    central_at: float = 0.8
    wrong_cap: float = 30.0
    raw_low: float = 0.0  # raw at or below which the score is 0 ...
    raw_high: float = 1.0  # ... and at or above which it is 100


def wrong_claims(
    points: Sequence[PointJudgement],
    misconceptions: Sequence[MisconceptionJudgement],
    facts: Sequence[FactJudgement] = (),
) -> tuple[WrongClaim, ...]:
    out = [WrongClaim(p.evidence or "", p.point) for p in points if p.status == CONTRADICTED]
    out += [WrongClaim(m.evidence or "", m.correction) for m in misconceptions if m.repeated]
    out += [WrongClaim(f.evidence or "", f.statement) for f in facts if f.contradicted]
    return tuple(dict.fromkeys(out))


def grade_from(
    points: Sequence[PointJudgement],
    misconceptions: Sequence[MisconceptionJudgement],
    facts: Sequence[FactJudgement] = (),
    *,
    reference: float,
    rules: ScoreRules,
    method: str,
    model: str | None = None,
    factor: float = 1.0,
    cap: float | None = None,
    signals: dict[str, float] | None = None,
) -> GradeResult:
    """The grade that the judgements imply (see the module docstring)."""
    values = [-rules.flip_cost * p.against if p.status == CONTRADICTED else p.match for p in points]
    coverage = sum(values) / len(values) if values else 0.0
    raw = max(0.0, rules.coverage_weight * coverage + (1 - rules.coverage_weight) * reference)
    confidences = [p.against for p in points if p.status == CONTRADICTED]
    confidences += [m.confidence for m in misconceptions if m.repeated]
    confidences += [f.confidence for f in facts if f.contradicted]
    score = 100.0 * min(1.0, max(0.0, (raw - rules.raw_low) / (rules.raw_high - rules.raw_low))) * factor
    for confidence in confidences:
        score *= 1 - rules.wrong_cost * confidence
    if any(c >= rules.central_at for c in confidences):
        score = min(score, rules.wrong_cap)
    if cap is not None:
        score = min(score, cap)
    out = dict(signals or {})
    out.update(coverage=coverage, reference=reference, raw=raw)
    if confidences:
        out["wrong"] = float(len(confidences))
    return GradeResult.make(
        score,
        method=method,
        missed=tuple(p.point for p in points if p.status != COVERED),
        covered=tuple(p.point for p in points if p.status == COVERED),
        model=model,
        signals=out,
        wrong_claims=wrong_claims(points, misconceptions, facts),
    )
