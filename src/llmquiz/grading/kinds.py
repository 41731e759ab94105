"""Grading that needs no model: empty answers, `short` and `choice` questions.

Choice answers: a 1-based number as shown to the learner ("2", "2)", "#2"), a letter
("b", "B)", "(b)"), or the text of the choice (typo-tolerant). "0" is not a choice.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from llmquiz.grading import text as tx
from llmquiz.grading.result import GradeResult

if TYPE_CHECKING:
    from llmquiz.bank import Question

SHORT_FULL = 90  # rapidfuzz ratio for full credit on a short answer
SHORT_NEAR = 80  # near miss: half credit
_CHOICE_INDEX = re.compile(r"^\(?\s*#?\s*(\d{1,2}|[a-zA-Z])(?:\s*[).:]\s*|\s+|$)(.*)$")


def key_points_of(question: Question) -> tuple[str, ...]:
    """The key points a complete answer covers: the bank's, else the reference's sentences."""
    if question.key_points:
        return tuple(question.key_points)
    return tuple(tx.sentences(question.answer)) or (question.answer.strip(),)


def empty_result(question: Question) -> GradeResult:
    return GradeResult.make(0, method="empty", missed=key_points_of(question), signals={})


def _squash(text: str) -> str:
    """Lowercase tokens without articles: "The KV cache" -> "kv cache"."""
    return " ".join(t for t in tx.tokens(text) if t not in ("the", "a", "an"))


def short_match(answer: str, accepted: str) -> float:
    """0-100 similarity of a short answer to one accepted form; digits must agree exactly."""
    a, b = _squash(answer), _squash(accepted)
    if not a or not b:
        return 0.0
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return 100.0
    digits_b = re.findall(r"\d+", b)
    if digits_b and re.findall(r"\d+", a) != digits_b and not re.search(rf"(?<!\d){re.escape(b)}(?!\d)", a):
        # numbers are either right or wrong; a longer answer may contain the accepted form
        return 0.0
    score = fuzz.ratio(a, b)
    if len(a) > len(b) + 3:
        # "it is NF4 (4-bit NormalFloat)": the accepted form inside a longer answer
        if len(b) <= 4:
            score = max(score, 100.0 if b in a.split() else 0.0)
        else:
            score = max(score, fuzz.partial_ratio(b, a) if len(b) >= 6 else 0.0)
    return float(score)


def grade_short(question: Question, answer: str) -> GradeResult:
    best = max((short_match(answer, acc) for acc in question.accept), default=0.0)
    if best >= SHORT_FULL:
        score = 100
    elif best >= SHORT_NEAR:
        score = 50
    else:
        score = 0
    return GradeResult.make(score, method="short", signals={"match": best / 100})


def choice_index(question: Question, answer: str) -> int | None:
    """The 0-based index of the choice the answer names, or None."""
    choices = question.choices
    raw = tx.normalize(answer)
    scores = [fuzz.ratio(_squash(raw), _squash(c)) for c in choices]
    if scores:
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] >= SHORT_FULL and scores.count(scores[best]) == 1:
            return best
    m = _CHOICE_INDEX.match(raw)
    if not m:
        return None
    token, rest = m.group(1), m.group(2).strip()
    idx = int(token) - 1 if token.isdigit() else ord(token.lower()) - ord("a")
    if not 0 <= idx < len(choices):
        return None
    if rest and fuzz.ratio(_squash(rest), _squash(choices[idx])) < SHORT_NEAR:
        return None  # "b) the tokenizer" when b is the KV cache: ambiguous, not a choice
    return idx


def grade_choice(question: Question, answer: str) -> GradeResult:
    idx = choice_index(question, answer)
    score = 100 if idx is not None and idx == question.correct else 0
    signals = {"chosen": float(idx + 1) if idx is not None else 0.0}
    return GradeResult.make(score, method="choice", signals=signals)


def grade_fixed(question: Question, answer: str) -> GradeResult | None:
    """Grade what needs no similarity model; None for a non-empty answer to a free question."""
    if question.kind == "open":
        raise ValueError(f"{question.id}: open questions are not auto-graded")
    if tx.is_no_idea(answer or ""):
        if question.kind in ("short", "choice"):
            return GradeResult.make(0, method="empty")
        return empty_result(question)
    if question.kind == "short":
        return grade_short(question, answer)
    if question.kind == "choice":
        return grade_choice(question, answer)
    return None
