"""Training pairs for the claim judge from written text about the bank (training/data/).

The rule pairs (judge_pairs.py) change a point by a word: "not" inserted, two terms swapped.
Learners get things wrong in whole sentences ("the order of steps is laid down in the code"
for "the steps are chosen dynamically"), and say right things in words the point does not use.
So, for every key point of the shipped bank, the data files hold one sentence that states it
in other words (`same`) and one that gets it wrong as a confused learner would (`reversed`);
for every misconception, its wrong claim in other words (`same`). They were written for this
purpose, from the bank alone (no graded answers). From them:

- support: a point's `same`, alone or beside another sentence of the reference; a
  misconception's `same` for its claim, alone or in context.
- contradict: a point's `reversed`, alone or in context; a misconception's `same` against the
  key point its correction restates, and that point's `same` against the claim.
- a point's `same` and `reversed` also against the reference sentence that states the point
  (support, contradict): a CSV has no key points, so there the judge reads the reference's
  own sentences.
- neither: another point's `same` or `reversed` against a point; the `same` of a point the
  correction does not restate against a claim.

The answer passages (training/data/passages/) have the same shape and make the same pairs,
except that a passage is never put beside a reference sentence: it carries its own context.

The learner sentences (training/data/variants/) hold per key point one more correct sentence
(often true with a "not" in it, so that a negation word alone is no sign of a reversal) and two
wrong ones with different kinds of error (a direction flipped, two numbers exchanged, roles
swapped, a casual denial, hard said to be easy, cause and effect reversed), one of them inside
an otherwise true sentence: the judge reads an answer one sentence at a time.

Entries whose point or claim the bank no longer has are skipped (the count is reported).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmquiz.bank import Question
from llmquiz.inputfiles import parse_yaml, read_text_file
from training.judge_pairs import (
    CONTRADICT,
    NEITHER,
    SUPPORT,
    Pair,
    best_sentence,
    overlap,
    reference_sentences,
)

WRITTEN = Path(__file__).resolve().parent / "data" / "written"
PASSAGES = Path(__file__).resolve().parent / "data" / "passages"
VARIANTS = Path(__file__).resolve().parent / "data" / "variants"


@dataclass(frozen=True)
class Restated:
    """What the data files say about one question: point -> (same, reversed), claim -> same."""

    points: dict[str, tuple[str, str]]
    claims: dict[str, str]


def load_written(folder: Path = WRITTEN) -> dict[str, Restated]:
    """Question id -> its restatements, from every YAML file of the folder."""
    out: dict[str, Restated] = {}
    for path in sorted(folder.glob("*.yaml")):
        data, problems = parse_yaml(read_text_file(path), str(path))
        if problems:
            raise ValueError(f"{problems[0].file}:{problems[0].line}: {problems[0].message}")
        for entry in data["questions"]:
            points = {p["point"]: (p["same"], p["reversed"]) for p in entry.get("points") or []}
            claims = {m["claim"]: m["same"] for m in entry.get("misconceptions") or []}
            out[entry["id"]] = Restated(points, claims)
    return out


def written_pairs(
    questions: Sequence[Question],
    written: dict[str, Restated],
    rng: random.Random,
    kind: str = "written",
) -> tuple[list[Pair], int]:
    """The pairs for the questions given, and how many written entries no longer fit the bank.

    kind "written" (one-sentence restatements) or "passage" (answer passages of up to three
    sentences, which carry their own context: they are not put beside a reference sentence).
    """
    pairs: list[Pair] = []
    stale = 0
    alone = kind == "passage"

    def add(premise: str, hypothesis: str, label: int, rule: str) -> None:
        # passages drop their in-context pairs here, after those pairs' random draws were made:
        # the draws stay those the shipped artifact was trained with
        if alone and rule.endswith("-in-context"):
            return
        pairs.append(Pair(premise.strip(), hypothesis.strip(), label, rule.replace("written", kind, 1)))

    def beside(sentence: str, others: Sequence[str]) -> str:
        other = rng.choice(others)
        return f"{sentence} {other}" if rng.random() < 0.5 else f"{other} {sentence}"

    for q in questions:
        restated = written.get(q.id)
        if restated is None:
            continue
        stale += len(set(restated.points) - set(q.key_points))
        stale += len(set(restated.claims) - {m.claim for m in q.misconceptions})
        known = [(p, *restated.points[p]) for p in q.key_points if p in restated.points]
        context = reference_sentences(q)
        for point, same, reversed_ in known:
            add(same, point, SUPPORT, "written-same")
            add(reversed_, point, CONTRADICT, "written-reversed")
            # a bank without key points (a CSV) is judged against its reference's sentences
            stated, score = best_sentence(point, context)
            if score >= 0.5 and len(stated.split()) <= 40 and rng.random() < 0.5:
                add(same, stated, SUPPORT, "written-same-for-sentence")
                add(reversed_, stated, CONTRADICT, "written-reversed-for-sentence")
            unrelated = [s for s in context if overlap(point, s) < 0.25]
            if unrelated and rng.random() < 0.5:
                add(beside(same, unrelated), point, SUPPORT, "written-same-in-context")
            if unrelated and rng.random() < 0.5:
                add(beside(reversed_, unrelated), point, CONTRADICT, "written-reversed-in-context")
            others = [(s, r) for p, s, r in known if p != point and overlap(point, p) < 0.5]
            if others:
                other_same, other_reversed = rng.choice(others)
                add(other_same, point, NEITHER, "written-other-point")
                if rng.random() < 0.5:
                    add(other_reversed, point, NEITHER, "written-other-reversed")
        for wrong in q.misconceptions:
            same = restated.claims.get(wrong.claim)
            if same is None:
                continue
            add(same, wrong.claim, SUPPORT, "written-misconception")
            if context and rng.random() < 0.5:
                add(beside(same, context), wrong.claim, SUPPORT, "written-misconception-in-context")
            point, score = best_sentence(wrong.correction, q.key_points)
            if score >= 0.5:
                add(same, point, CONTRADICT, "written-misconception-against-point")
                if point in restated.points:
                    truth = restated.points[point][0]
                    add(truth, wrong.claim, CONTRADICT, "written-truth-against-misconception")
            beside_truths = [s for p, s, _ in known if p != point]
            for truth in rng.sample(beside_truths, min(1, len(beside_truths))):
                add(truth, wrong.claim, NEITHER, "written-truth-beside-misconception")
    return pairs, stale


Variants = dict[str, dict[str, tuple[str, tuple[str, ...]]]]


def load_variants(folder: Path = VARIANTS) -> Variants:
    """Question id -> point -> (a correct sentence, the wrong sentences), from the folder's YAML files."""
    out: Variants = {}
    for path in sorted(folder.glob("*.yaml")):
        data, problems = parse_yaml(read_text_file(path), str(path))
        if problems:
            raise ValueError(f"{problems[0].file}:{problems[0].line}: {problems[0].message}")
        for entry in data["questions"]:
            out[entry["id"]] = {
                p["point"]: (p["same"], tuple(p["reversed"])) for p in entry.get("points") or []
            }
    return out


def variant_pairs(
    questions: Sequence[Question], variants: Variants, rng: random.Random
) -> tuple[list[Pair], int]:
    """The learner sentences' pairs for the questions given, and how many entries no longer fit.

    support: the correct sentence for its point; contradict: each wrong sentence against its
    point; both also against the reference sentence that states the point (half the time);
    neither: another point's sentences against a point.
    """
    pairs: list[Pair] = []
    stale = 0
    for q in questions:
        of_question = variants.get(q.id)
        if of_question is None:
            continue
        stale += len(set(of_question) - set(q.key_points))
        known = [(p, *of_question[p]) for p in q.key_points if p in of_question]
        context = reference_sentences(q)
        for point, same, wrong in known:
            pairs.append(Pair(same.strip(), point, SUPPORT, "variant-same"))
            pairs += [Pair(w.strip(), point, CONTRADICT, "variant-reversed") for w in wrong]
            stated, score = best_sentence(point, context)
            if score >= 0.5 and len(stated.split()) <= 40 and rng.random() < 0.5:
                wrong_one = rng.choice(wrong).strip()
                pairs.append(Pair(same.strip(), stated, SUPPORT, "variant-same-for-sentence"))
                pairs.append(Pair(wrong_one, stated, CONTRADICT, "variant-reversed-for-sentence"))
            others = [(s, w) for p, s, w in known if p != point and overlap(point, p) < 0.5]
            if others:
                other_same, other_wrong = rng.choice(others)
                pairs.append(Pair(other_same.strip(), point, NEITHER, "variant-other-point"))
                if rng.random() < 0.5:
                    other_one = rng.choice(other_wrong).strip()
                    pairs.append(Pair(other_one, point, NEITHER, "variant-other-reversed"))
    return pairs, stale
