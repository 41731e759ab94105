"""Lexical signals (rapidfuzz only) and the lexical grader; never imports numpy or torch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from llmquiz.grading import text as tx
from llmquiz.grading.judgement import CONTRADICTED, COVERED, MISSING, MisconceptionJudgement, PointJudgement
from llmquiz.grading.kinds import grade_fixed, key_points_of
from llmquiz.grading.result import GradeResult
from llmquiz.grading.scoring import ScoreRules, grade_from

if TYPE_CHECKING:
    from llmquiz.bank import Question

FUZZY_TERM = 88  # partial ratio at which a multi-word term counts as present


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
        return any(tx.words_match(word, tx.stem(t)) for t in answer_tokens)
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
    return tx.word_recall(target, tx.content_words(answer))


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
    REPEATED_AT = 0.8  # word recall of a misconception's claim in one clause that repeats it
    SALAD_CAP = 35.0  # highest score of a keyword list without connecting words
    KEYWORD_COST = 0.2  # share of the score lost when no bank keyword is mentioned
    # word overlap runs lower than meaning: raw 0.15 scores 0, raw 0.7 full marks
    RULES = ScoreRules(coverage_weight=0.6, wrong_cost=0.4, central_at=0.95, raw_low=0.15, raw_high=0.7)

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
        q = question.question
        clauses = [answer[a:b] for a, b in sorted(tx.finest_spans(answer))] or [answer]
        points = []
        for point in key_points_of(question):
            recall = point_recall(point, answer, q)
            best = max(clauses, key=lambda c, p=point: point_recall(p, c, q))
            if recall >= self.COVERED_AT and tx.polarity_conflict(point, best, q):
                points.append(PointJudgement(point, CONTRADICTED, 0.0, recall, best))  # the wrong way round
            else:
                status = COVERED if recall >= self.COVERED_AT else MISSING
                points.append(PointJudgement(point, status, recall, 0.0, best))
        wrongs = [self._misconception(m.claim, m.correction, clauses, q) for m in question.misconceptions]
        keywords = keyword_share(question.keywords, answer)
        signals = {} if keywords is None else {"keywords": keywords}
        salad = tx.is_keyword_salad(answer)
        return grade_from(
            points,
            wrongs,
            reference=lexical_similarity(answer, question.answer, q),
            rules=self.RULES,
            method="lexical",
            factor=1.0 if keywords is None else 1 - self.KEYWORD_COST * (1 - keywords),
            cap=self.SALAD_CAP if salad else None,
            signals=signals,
        )

    def _misconception(
        self, claim: str, correction: str, clauses: list[str], question: str
    ) -> MisconceptionJudgement:
        """Repeated: one clause says nearly all the claim's words, fewer of the correction's, alike."""
        best = max(clauses, key=lambda c: point_recall(claim, c, question))
        recall = point_recall(claim, best, question)
        repeated = (
            recall >= self.REPEATED_AT
            and recall > point_recall(correction, best, question)
            and not tx.polarity_conflict(claim, best, question)
        )
        return MisconceptionJudgement(claim, correction, repeated, recall if repeated else 0.0, best)

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
