"""The semantic grader's global knobs, in one place (chosen on the dev set; see README).

Every threshold the semantic grader and its reading of the claim judge use is a field here;
`benchmarks/devset.py --set NAME=VALUE` tries another value without editing code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmquiz.grading.scoring import ScoreRules


@dataclass(frozen=True)
class GraderSettings:
    """The grader's global knobs (chosen on the dev set and the graded test set; see README)."""

    low: float = 0.15  # support at or below which a key point counts as absent
    high: float = 0.60  # support at or above which a key point counts as fully covered
    token_weight: float = 0.5  # token recall vs. best-span cosine in a support value
    coverage_weight: float = 0.7  # key-point coverage vs. whole-reference match
    covered_at: float = 0.5  # match at which a key point is listed as covered
    reuse: float = 0.5  # share of a key point's words a span must repeat to be checked for reversal
    negation_reuse: float = 0.6  # ... and for a negation to count as reversing it
    flip_cost: float = 1.0  # a reversed key point counts this times its match against the answer
    neighbour_margin: float = 0.05  # neighbour closer than own reference by this: a penalty
    neighbour_span: float = 0.15  # ... growing to the full penalty over this much more
    neighbour_floor: float = 0.3  # the full neighbour penalty factor
    salad_cap: float = 35.0  # highest score of a keyword list without connecting words
    keyword_cost: float = 0.15  # share of the score lost when no bank keyword is mentioned
    neighbours: bool = True
    polarity: bool = True  # the word-level reversal check beside the judge
    polarity_confidence: float = 0.8  # how sure a key point reversed by its words makes the grader
    sentence_polarity_confidence: float = 0.6  # ... a reference sentence standing in for key points
    judge: bool = True  # read the bank's misconceptions with the claim judge
    judge_points: bool = True  # ... and the key points too
    judge_reference: bool = False  # ... and, where there are no key points, always the reference's sentences
    judge_domain_at: float = 0.45  # ... or when the reference is this close to one of the shipped bank's
    candidates: int = 1  # answer claims the judge reads per statement (the closest ones)
    judged_points: int = 6  # key points the judge reads: those the answer matches best (a bank has at most 6)
    judge_from: float = 0.3  # ... and only those whose bi-encoder match is above this
    support_full_at: float = 0.5  # the judge's support probability that counts as full support
    claim_floor: float = 0.3  # score factor when the judge finds no key point stated at all
    covered_support: float = 0.25  # ... and then the support a point needs to be listed as covered
    contradict_at: float = 0.95  # judge's contradiction probability that marks a point contradicted
    contradict_margin: float = 0.9  # ... and by how much it must exceed the support probability
    repeat_at: float = 0.5  # judge's support probability that marks a misconception repeated
    repeat_margin: float = 0.3  # ... and by how much more the clause supports it than any key point
    doubt_cost: float = 0.7  # share of the score lost as the judge leans fully towards a wrong claim
    doubt_from: float = 0.6  # ... counting only a lean (contradiction minus support) above this
    misconception_gate: float = 0.4  # cosine below which a claim is not read against a misconception
    reference_facts: bool = True  # with key points, also read the reference's own clauses as facts
    fact_gate: float = 0.6  # cosine below which a claim is not read against a reference clause
    fact_contradict_at: float = 0.9  # judge's contradiction probability that makes a fact contradicted
    fact_margin: float = 0.8  # ... and by how much it must exceed the support probability
    rules: ScoreRules = field(default_factory=ScoreRules)
