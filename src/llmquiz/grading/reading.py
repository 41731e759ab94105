"""Reading the claim judge: its probabilities for one answer -> a judgement per key point and misconception.

The semantic grader plans an answer first (semantic.py): each key point's bi-encoder match,
whether its words come back reversed, and which answer claims the judge should read against
it and against each bank misconception. The judge reads every planned pair of every answer in
one batch; `read_plan` turns the rows that belong to one answer into judgements:

- a key point is CONTRADICTED when the judge is sure of it (contradict_at, contradict_margin)
  or the word-level polarity check found it reversed; else COVERED from its match;
- a misconception is repeated when a claim supports it (repeat_at) more than it contradicts
  it and more than that claim supports any key point (repeat_margin);
- a reference clause read as a fact is contradicted when the judge is sure of it
  (fact_contradict_at, fact_margin), and a key point whose evidence is that claim is then
  not covered;
- the score factor falls towards claim_floor when the judge finds no key point stated at all
  (a term list, an echo, an answer about something else), and then only a key point whose
  support is at least covered_support is listed as covered, whatever words the others share
  with the answer; and the factor falls by up to doubt_cost as the
  judge leans towards a wrong claim without being sure of it (doubt_from).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from llmquiz.grading.judge import CONTRADICT, SUPPORT
from llmquiz.grading.judgement import (
    CONTRADICTED,
    COVERED,
    MISSING,
    FactJudgement,
    MisconceptionJudgement,
    PointJudgement,
)
from llmquiz.grading.tuning import GraderSettings

if TYPE_CHECKING:  # numpy is imported only once an answer needs the model
    import numpy as np

    from llmquiz.grading.claims import Claims
    from llmquiz.grading.encoding import Encoded


@dataclass
class PointPlan:
    point: str
    match: float
    flipped: bool  # reversed by its words (a direction word swapped, or negated)
    flip_at: int | None  # the claim checked for that
    candidates: list[int]  # answer claims the judge reads against the point
    sims: Any


@dataclass
class WrongPlan:
    claim: str
    correction: str
    candidates: list[int]


@dataclass
class FactPlan:
    clause: str  # a clause of the reference that no key point repeats: what the judge reads
    statement: str  # the reference's sentence it is part of: the correction shown
    candidates: list[int]


@dataclass
class Plan:
    """One answer, planned: everything that needs no judge, and the pairs the judge must read."""

    side: Any  # the question's bank side (semantic.py)
    enc: Encoded
    claims: Claims
    points: list[PointPlan] = field(default_factory=list)
    misconceptions: list[WrongPlan] = field(default_factory=list)
    facts: list[FactPlan] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    keyed: bool = True  # the bank's key points; False: the reference's sentences stand in (a CSV)
    reference: float = 0.0
    factor: float = 1.0
    cap: float | None = None
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """What the judge's rows for one answer say: a judgement per statement, and the score factor."""

    points: list[PointJudgement]
    misconceptions: list[MisconceptionJudgement]
    facts: list[FactJudgement]
    factor: float


def read_plan(plan: Plan, probs: np.ndarray, s: GraderSettings) -> Reading:
    """Judgements from the judge's probabilities (rows in plan.pairs order), and the score factor."""
    texts = plan.claims.texts
    row = 0
    points: list[PointJudgement] = []
    right_in: dict[int, float] = {}  # claim -> the most it supports any key point
    point_support: list[float] = []
    judged_support: list[float | None] = []  # each point's, None where the judge did not read it
    doubt = 0.0  # the most the judge leans towards a wrong claim: a point contradicted, a misconception held
    # a key point states one claim; a reference sentence standing in for key points (a CSV) often
    # several, so a word of it reversed in the answer is less sure to reverse what matters
    flip_confidence = s.polarity_confidence if plan.keyed else s.sentence_polarity_confidence
    for p in plan.points:
        rows = probs[row : row + len(p.candidates)]
        row += len(p.candidates)
        for claim, prob in zip(p.candidates, rows[:, SUPPORT].tolist(), strict=True):
            right_in[claim] = max(right_in.get(claim, 0.0), prob)
        judge_support: float | None = None  # the judge's own view, when it read the point
        if len(rows):
            support = judge_support = float(rows[:, SUPPORT].max())
            worst = int(rows[:, CONTRADICT].argmax())
            against = float(rows[worst, CONTRADICT])
            evidence_at = (
                p.candidates[worst] if against > support else p.candidates[int(rows[:, SUPPORT].argmax())]
            )
        else:  # not read by the judge: the bi-encoder's match alone
            against = 0.0
            evidence_at = int(p.sims.argmax()) if len(p.sims) else None
        judged_support.append(judge_support)
        if judge_support is not None or p.match <= 0:
            point_support.append(judge_support or 0.0)
        lean = against - judge_support if judge_support is not None else 0.0
        doubt = max(doubt, lean)
        # contradicted: the judge is sure of it, or the point's own words come back reversed
        opposed = against >= s.contradict_at and lean > s.contradict_margin
        if p.flipped and not opposed:
            against, evidence_at, opposed = flip_confidence, p.flip_at, True
        evidence = texts[evidence_at] if evidence_at is not None else None
        if opposed:
            points.append(PointJudgement(p.point, CONTRADICTED, 0.0, against, evidence))
        elif p.match >= s.covered_at and lean <= s.doubt_from:
            # a point the judge leans against is not shown as covered, sure of it or not
            points.append(PointJudgement(p.point, COVERED, p.match, against, evidence))
        else:
            points.append(PointJudgement(p.point, MISSING, p.match, against, evidence))
    wrongs: list[MisconceptionJudgement] = []
    for m in plan.misconceptions:
        rows = probs[row : row + len(m.candidates)]
        row += len(m.candidates)
        if len(rows):
            best = int(rows[:, SUPPORT].argmax())
            confidence = float(rows[best, SUPPORT])
            claim = m.candidates[best]
            repeated = (
                confidence >= s.repeat_at
                and confidence > float(rows[best, CONTRADICT])
                and confidence - right_in.get(claim, 0.0) > s.repeat_margin
            )
            evidence = texts[claim]
            doubt = max(doubt, confidence - max(float(rows[best, CONTRADICT]), right_in.get(claim, 0.0)))
        else:
            confidence, repeated, evidence = 0.0, False, None
        wrongs.append(MisconceptionJudgement(m.claim, m.correction, repeated, confidence, evidence))
    facts: list[FactJudgement] = []
    for f in plan.facts:
        rows = probs[row : row + len(f.candidates)]
        row += len(f.candidates)
        if not len(rows):
            continue
        worst = int(rows[:, CONTRADICT].argmax())
        against = float(rows[worst, CONTRADICT])
        claim = f.candidates[worst]
        lean = against - float(rows[worst, SUPPORT])
        contradicted = against >= s.fact_contradict_at and lean > s.fact_margin
        facts.append(FactJudgement(f.statement, contradicted, against, texts[claim]))
    # two clauses of one sentence read against the same words are one fact: keep the surer
    facts = list({(f.statement, f.evidence): f for f in sorted(facts, key=lambda f: f.confidence)}.values())
    wrong_words = {f.evidence for f in facts if f.contradicted}
    # a key point is not covered by words that get the reference wrong
    points = [
        replace(p, status=MISSING) if p.status == COVERED and p.evidence in wrong_words else p for p in points
    ]
    factor = plan.factor
    if s.doubt_cost and doubt > s.doubt_from:
        # below certainty the judge's lean still says something: a soft cost, growing with it
        factor *= 1 - s.doubt_cost * min(1.0, (doubt - s.doubt_from) / (1 - s.doubt_from))
    if point_support and any(p.candidates for p in plan.points):
        # a list of terms, an echo, an answer about something else: no point is stated
        stated = max(min(1.0, js / s.support_full_at) for js in point_support)
        factor *= s.claim_floor + (1 - s.claim_floor) * stated
        if stated < 1:  # nor is a point shown as covered that the judge barely finds stated
            points = [
                replace(p, status=MISSING)
                if p.status == COVERED and (js is None or js < s.covered_support)
                else p
                for p, js in zip(points, judged_support, strict=True)
            ]
    return Reading(points, wrongs, facts, factor)


def top_claims(sims: np.ndarray, among: list[int], count: int) -> list[int]:
    """Indexes of the `count` answer claims (of those `among`) most like a statement, best first."""
    return sorted(among, key=lambda i: -float(sims[i]))[:count]


def no_probs() -> np.ndarray:
    import numpy as np

    return np.zeros((0, 3), dtype=np.float32)
