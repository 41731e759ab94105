"""Reading the claim judge's probabilities into judgements and a score factor (reading.py).

The probabilities are given here, so these tests pin down the reading rules themselves; the
judge's own behaviour is tested with the real model in test_wrong_claims.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from llmquiz.grading.claims import Claims
from llmquiz.grading.judgement import CONTRADICTED, COVERED, MISSING
from llmquiz.grading.reading import FactPlan, Plan, PointPlan, WrongPlan, read_plan
from llmquiz.grading.tuning import GraderSettings

CLAIMS = ["The cache keeps keys and values.", "It also keeps the queries."]


def plan_of(point_probs: list[float], wrong_probs: list[float] | None = None) -> tuple[Plan, np.ndarray]:
    claims = Claims(CLAIMS, np.zeros((2, 4), dtype=np.float32), [0, 1], np.zeros((0, 4)), [0, 1])
    plan = Plan(side=None, enc=None, claims=claims)  # type: ignore[arg-type]
    plan.points.append(PointPlan("it caches keys and values", 0.9, False, None, [0], np.array([0.9, 0.2])))
    rows = [point_probs]
    if wrong_probs is not None:
        plan.misconceptions.append(WrongPlan("it caches queries too", "queries are never cached", [0]))
        rows.append(wrong_probs)
    plan.pairs = [("x", "y")] * len(rows)
    return plan, np.array(rows, dtype=np.float32)


@pytest.mark.parametrize(
    ("probs", "factor", "covered"),
    [
        pytest.param([0.9, 0.05, 0.05], 1.0, True, id="supported-no-cost"),
        pytest.param([0.30, 0.65, 0.05], 1.0, True, id="lean-below-doubt-from"),
        pytest.param([0.05, 0.85, 0.10], 1 - 0.7 * 0.5, False, id="lean-half-way"),
    ],
)
def test_the_judges_lean_costs_a_share_of_the_score(probs: list[float], factor: float, covered: bool) -> None:
    plan, rows = plan_of(probs)
    settings = GraderSettings(claim_floor=1.0)  # only the lean moves the factor here
    reading = read_plan(plan, rows, settings)
    points = reading.points
    assert reading.factor == pytest.approx(factor, abs=1e-6)
    assert points[0].status != CONTRADICTED  # not sure enough to mark the point itself
    assert (points[0].status == COVERED) == covered  # ... but a point leaned against is not covered
    assert read_plan(plan, rows, replace(settings, doubt_cost=0.0)).factor == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("support", "covered"),
    [
        pytest.param(0.6, True, id="fully-stated"),
        pytest.param(0.3, True, id="half-stated"),
        pytest.param(0.1, False, id="not-stated"),
    ],
)
def test_when_no_point_is_stated_only_a_half_stated_one_is_listed_as_covered(
    support: float, covered: bool
) -> None:
    """A term list or an echo matches a point's words; the judge finds it not stated, the
    score keeps claim_floor of it, and the point is not listed as covered either."""
    plan, rows = plan_of([support, 0.0, 1 - support])
    reading = read_plan(plan, rows, GraderSettings())
    assert (reading.points[0].status == COVERED) == covered
    assert reading.points[0].status != CONTRADICTED
    stated = min(1.0, support / 0.5)
    assert reading.factor == pytest.approx(0.3 + 0.7 * stated, abs=1e-6)


def test_a_claim_that_states_a_point_as_well_is_not_a_repeated_misconception() -> None:
    # the claim supports the key point (0.87) nearly as much as the misconception (0.91)
    plan, rows = plan_of([0.87, 0.1, 0.03], [0.91, 0.05, 0.04])
    reading = read_plan(plan, rows, GraderSettings())
    assert reading.points[0].status == COVERED
    assert not reading.misconceptions[0].repeated
    assert read_plan(plan, rows, GraderSettings(repeat_margin=0.0)).misconceptions[0].repeated


@pytest.mark.parametrize(
    ("keyed", "against"),
    [
        pytest.param(True, 0.8, id="key-point"),
        pytest.param(False, 0.6, id="reference-sentence"),
    ],
)
def test_a_point_reversed_by_its_words_is_contradicted_with_its_own_confidence(
    keyed: bool, against: float
) -> None:
    """A key point is one claim: its words reversed make the grader surer than a reference
    sentence's (which often holds several claims) do."""
    plan, rows = plan_of([0.5, 0.3, 0.2])
    plan.keyed = keyed
    plan.points[0] = replace(plan.points[0], flipped=True, flip_at=1)
    points = read_plan(plan, rows, GraderSettings()).points
    assert points[0].status == CONTRADICTED
    assert points[0].against == pytest.approx(against)
    assert points[0].evidence == CLAIMS[1]


@pytest.mark.parametrize(
    ("fact_probs", "contradicted"),
    [
        pytest.param([0.02, 0.96, 0.02], True, id="sure"),
        pytest.param([0.10, 0.85, 0.05], False, id="below-fact-contradict-at"),
        pytest.param([0.15, 0.91, 0.0], False, id="within-fact-margin"),
    ],
)
def test_a_reference_clause_the_judge_is_sure_the_answer_contradicts_is_a_wrong_fact(
    fact_probs: list[float], contradicted: bool
) -> None:
    """The claim that matches the key point gets another clause of the reference wrong: the
    fact is contradicted, and the key point is then not covered by those words."""
    plan, rows = plan_of([0.9, 0.05, 0.05])
    sentence = "Only keys and values are cached, never queries, so memory stays small."
    plan.facts.append(FactPlan("Only keys and values are cached, never queries", sentence, [0]))
    plan.pairs.append(("x", "y"))
    reading = read_plan(plan, np.vstack([rows, np.array([fact_probs], dtype=np.float32)]), GraderSettings())
    (fact,) = reading.facts
    assert fact.contradicted == contradicted
    assert fact.confidence == pytest.approx(fact_probs[1])
    assert fact.evidence == CLAIMS[0]
    assert fact.statement == sentence  # the correction is the reference's whole sentence
    assert reading.points[0].status == (MISSING if contradicted else COVERED)
