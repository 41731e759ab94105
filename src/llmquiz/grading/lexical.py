"""Lexical signals (rapidfuzz only) and the lexical grader; never imports numpy or torch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from llmquiz.grading import text as tx
from llmquiz.grading.kinds import grade_fixed, key_points_of
from llmquiz.grading.result import GradeResult

if TYPE_CHECKING:
    from llmquiz.bank import Question

FUZZY_WORD = 85  # rapidfuzz ratio at which two words (5+ letters) count as the same word
FUZZY_TERM = 88  # partial ratio at which a multi-word term counts as present


def words_match(a: str, b: str) -> bool:
    """Same stem, or a typo-level difference for longer words."""
    if a == b:
        return True
    if len(a) >= 5 and len(b) >= 5 and a[:2] == b[:2]:
        return fuzz.ratio(a, b) >= FUZZY_WORD
    return False


def word_recall(target: Sequence[str], pool: Sequence[str]) -> float:
    """Share of `target` words (weighted by length, a cheap rarity proxy) found in `pool`."""
    if not target:
        return 0.0
    pool_set = set(pool)
    total = got = 0.0
    for word in target:
        weight = min(len(word), 8) / 8 + 0.5
        total += weight
        if word in pool_set or any(words_match(word, p) for p in pool_set):
            got += weight
    return got / total


def term_present(term: str, answer: str) -> bool:
    """Is a technical term or acronym in the answer? Typo-tolerant, whole words for short ones."""
    term_n = tx.normalize(term).lower()
    answer_n = tx.normalize(answer).lower()
    if not term_n or not answer_n:
        return False
    term_tokens = tx.tokens(term_n)
    answer_tokens = tx.tokens(answer_n)
    if len(term_n) <= 4 or (len(term_tokens) == 1 and len(term_n) <= 5):
        compact = term_n.replace(" ", "")
        return compact in answer_tokens or term_n in answer_tokens
    if len(term_tokens) == 1:
        word = tx.stem(term_tokens[0])
        return any(words_match(word, tx.stem(t)) for t in answer_tokens)
    if term_n in answer_n:
        return True
    if len(answer_n) < len(term_n) * 0.8:
        return fuzz.ratio(term_n, answer_n) >= FUZZY_TERM
    return fuzz.partial_ratio(term_n, answer_n) >= FUZZY_TERM


def keyword_share(keywords: Sequence[str], answer: str) -> float | None:
    """Share of the bank's `keywords` the answer mentions, or None when there are none."""
    if not keywords:
        return None
    return sum(term_present(k, answer) for k in keywords) / len(keywords)


def point_recall(point: str, answer: str, question: str) -> float:
    """Lexical support for one key point: recall of its non-question content words."""
    target = tx.demoted_words(point, question) or tx.content_words(point)
    return word_recall(target, tx.content_words(answer))


def lexical_similarity(answer: str, reference: str, question: str) -> float:
    """token_set_ratio of the question-demoted texts, 0-1."""
    a = tx.demote(answer, question)
    r = tx.demote(reference, question)
    if not a or not r:
        return 0.0
    return fuzz.token_set_ratio(a, r) / 100.0


class LexicalGrader:
    """Grades with word overlap only: quick, no model, a fallback when torch is missing."""

    name = "lexical:rapidfuzz"
    COVERED_AT = 0.5  # word recall at which a key point counts as covered
    SALAD_CAP = 35.0  # highest score of a keyword list without connecting words

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def load(self) -> None:
        return None

    def prepare(self, questions: Sequence[Question]) -> None:
        return None

    def grade(self, question: Question, answer: str) -> GradeResult:
        fixed = grade_fixed(question, answer)
        if fixed is not None:
            return fixed
        points = key_points_of(question)
        clauses = [answer[a:b] for a, b in sorted(tx.finest_spans(answer))] or [answer]
        recalls, reversed_points = [], 0
        for point in points:
            recall = point_recall(point, answer, question.question)
            best = max(clauses, key=lambda c, p=point: point_recall(p, c, question.question))
            if recall >= self.COVERED_AT and tx.polarity_conflict(point, best, question.question):
                recall, reversed_points = -recall, reversed_points + 1  # stated the wrong way round
            recalls.append(recall)
        coverage = max(0.0, sum(recalls) / len(recalls)) if recalls else 0.0
        overlap = lexical_similarity(answer, question.answer, question.question)
        raw = 0.6 * coverage + 0.4 * overlap
        keywords = keyword_share(question.keywords, answer)
        if keywords is not None:
            raw = 0.8 * raw + 0.2 * keywords
        if reversed_points:
            raw *= 1 - reversed_points / len(points)
        score = 100.0 * min(1.0, max(0.0, (raw - 0.15) / 0.55))
        if tx.is_keyword_salad(answer):
            score = min(score, self.SALAD_CAP)
        covered = tuple(p for p, r in zip(points, recalls, strict=True) if r >= self.COVERED_AT)
        missed = tuple(p for p, r in zip(points, recalls, strict=True) if r < self.COVERED_AT)
        signals = {"coverage": coverage, "overlap": overlap, "raw": raw}
        if reversed_points:
            signals["reversed"] = reversed_points / len(points)
        if keywords is not None:
            signals["keywords"] = keywords
        return GradeResult.make(score, method="lexical", missed=missed, covered=covered, signals=signals)

    def grade_many(
        self,
        items: Sequence[tuple[Question, str]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[GradeResult]:
        results = []
        for i, (question, answer) in enumerate(items, 1):
            results.append(self.grade(question, answer))
            if progress is not None:
                progress(i, len(items))
        return results
