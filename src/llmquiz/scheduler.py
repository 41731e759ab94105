"""Spaced repetition: one FSRS card per question, derived from the answer history.

A card is derived, never stored as data. Its state is the replay of that question's graded
answers, oldest first, through `fsrs.Scheduler(enable_fuzzing=False)` (`cardcache.py`, whose
disposable cache only saves replaying answers already replayed); the history stays the only
store, so nothing can drift from it and deleting caches loses nothing. Cards are keyed by
question id alone: editing a question's text, answer or key points keeps its progress.

How one answer becomes an FSRS rating (`rating_for`):

| override        | self-rating | FSRS rating                                          |
|-----------------|-------------|------------------------------------------------------|
| "incorrect"     | any or none | Again                                                |
| none, "correct" | none        | by effective score: < 40 Again, 40-69 Hard,          |
|                 |             | 70-89 Good, >= 90 Easy ("correct" counts as 100)     |
| none, "correct" | 1           | Again                                                |
| none, "correct" | 2           | Hard                                                 |
| none, "correct" | 3           | Good                                                 |
| none, "correct" | 4 or 5      | Easy; Good instead when the automatic score is below |
|                 |             | 40 and the grade was not overridden to "correct"     |

The self-rating is the learner's own sense of recall, so it wins over the grader in both
directions, except that a confident self-rating alone cannot make a failed answer (automatic
score < 40) Easy. An override "incorrect" ("I was wrong") always means Again.

Open questions have no automatic score: their score is the self-rating on the 0-100 scale,
(rating - 1) * 25 (0, 25, 50, 75, 100), and their FSRS rating is the self-rating's. An open
answer with neither self-rating nor override carries no grade and is not a review.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any

import fsrs
from fsrs import Rating, State

from llmquiz.bank import Question
from llmquiz.cardcache import CardCache, GradedAnswer
from llmquiz.errors import BadInputError
from llmquiz.history import (
    CUT_OFF,
    SELF_RATINGS,
    UNGRADED,
    HistoryRecord,
    effective_score,
    format_ts,
    gc_paused,
    self_rating_score,
)
from llmquiz.history import parse_ts as utc_time  # fsrs insists on aware UTC datetimes

AGAIN_BELOW = 40  # effective score below this: Again
HARD_BELOW = 70  # below this: Hard; also the drill's "missed" mark
GOOD_BELOW = 90  # below this: Good; from here on: Easy
_SELF_TO_RATING = {1: Rating.Again, 2: Rating.Hard, 3: Rating.Good, 4: Rating.Easy, 5: Rating.Easy}
_STATE_NAMES = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}


def _score_rating(score: int) -> Rating:
    if score < AGAIN_BELOW:
        return Rating.Again
    if score < HARD_BELOW:
        return Rating.Hard
    if score < GOOD_BELOW:
        return Rating.Good
    return Rating.Easy


def rating_for(score: int, self_rating: int | None, override: str | None) -> Rating:
    """The FSRS rating of one answer; the table is in this module's docstring."""
    if self_rating is not None and self_rating not in SELF_RATINGS:
        raise ValueError(f"self-rating must be 1-5, got {self_rating!r}")
    if override == "incorrect":
        return Rating.Again
    if self_rating is None:
        return _score_rating(effective_score(score, override))
    rating = _SELF_TO_RATING[self_rating]
    if rating == Rating.Easy and score < AGAIN_BELOW and override != "correct":
        return Rating.Good
    return rating


def graded_score(record: HistoryRecord) -> int | None:
    """The score an answer counts with; None for an open answer nobody graded.

    Auto-graded answers: the effective score (an override replaces the automatic score).
    Open answers: the self-rating as 0-100, or the override's score when there is one.
    """
    graded = _grade_record(record)
    return None if graded is None else graded[0]


def _grade_record(record: HistoryRecord) -> tuple[int, Rating] | None:
    return _grade(*_GRADING_FIELDS(record))


_GRADING_FIELDS = attrgetter("verdict", "kind", "score", "self_rating", "override")
_NO_REVIEW = (UNGRADED, CUT_OFF)  # answers kept without a grade


@cache  # 100,000 answers share a few hundred of these keys: a hit runs no Python code at all
def _grade(
    verdict: str, kind: str, score: int, self_rating: int | None, override: str | None
) -> tuple[int, Rating] | None:
    """(graded score, FSRS rating) of an answer with these fields; None when it is no review."""
    if verdict in _NO_REVIEW:
        return None
    rating = self_rating if self_rating in SELF_RATINGS else None  # a hand-edited 7: none
    if override is not None or kind != "open":
        return effective_score(score, override), rating_for(score, rating, override)
    if rating is None:
        return None
    return self_rating_score(rating), rating_for(self_rating_score(rating), rating, None)


def answers_by_question(records: Iterable[HistoryRecord]) -> dict[str, list[GradedAnswer]]:
    """Each question's graded answers, oldest first (equal times keep history order).

    The hot loop of `stats` over a long history: answers are built with tuple.__new__
    (a NamedTuple's own constructor is a Python function) and the collector is paused.
    """
    grouped: dict[str, list[GradedAnswer]] = {}
    grade, fields = _grade, _GRADING_FIELDS
    with gc_paused():
        for record in records:
            graded = grade(*fields(record))  # _grade_record(record), without its Python call
            if graded is None:
                continue
            answer = _new_answer(GradedAnswer, (utc_time(record.ts), graded[0], graded[1], record))
            answers = grouped.get(record.question_id)
            if answers is None:
                grouped[record.question_id] = [answer]
            else:
                answers.append(answer)
    for answers in grouped.values():
        answers.sort(key=_WHEN)
    return grouped


_new_answer = tuple.__new__
_WHEN = itemgetter(0)  # GradedAnswer.when, read in C: sorting 100,000 answers is a hot spot


# --- cards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardState:
    """Where a question stands in the FSRS schedule, after replaying its answers."""

    question_id: str
    due: datetime
    stability: float | None
    difficulty: float | None
    reviews: int
    last_review: datetime | None
    last_score: int | None
    state: str = "learning"  # learning | review | relearning (FSRS's card states)

    def is_due(self, now: datetime) -> bool:
        return self.due <= now

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.question_id,
            "due": format_ts(self.due),
            "stability": self.stability,
            "difficulty": self.difficulty,
            "reviews": self.reviews,
            "last_review": format_ts(self.last_review) if self.last_review else None,
            "last_score": self.last_score,
            "state": self.state,
        }


def build_cards(records: Sequence[HistoryRecord], cache: CardCache | None = None) -> dict[str, CardState]:
    """The card of every question with at least one graded answer (open answers included).

    `cache`: the data folder's kept cards (`cardcache.CardCache`); without one, every answer
    is replayed.
    """
    return cards_from_answers(answers_by_question(records), cache)


def cards_from_answers(
    grouped: dict[str, list[GradedAnswer]], cache: CardCache | None = None
) -> dict[str, CardState]:
    """Replay each question's answers (oldest first) through the FSRS scheduler."""
    cards = cache or CardCache(None)
    states = {qid: _card_state(qid, answers, cards.card(qid, answers)) for qid, answers in grouped.items()}
    cards.save()
    return states


def _card_state(question_id: str, answers: list[GradedAnswer], card: fsrs.Card) -> CardState:
    return CardState(
        question_id=question_id,
        due=card.due,
        stability=card.stability,
        difficulty=card.difficulty,
        reviews=len(answers),
        last_review=card.last_review,
        last_score=answers[-1].score,
        state=_STATE_NAMES[card.state],
    )


def _questions_cards(
    questions: Sequence[Question], records: Sequence[HistoryRecord], cache: CardCache | None
) -> dict[str, CardState]:
    """Cards of these questions only: other questions' answers are not replayed."""
    wanted = {q.id for q in questions}
    return build_cards([r for r in records if r.question_id in wanted], cache)


def due_questions(
    questions: Sequence[Question],
    records: Sequence[HistoryRecord],
    now: datetime,
    cache: CardCache | None = None,
) -> list[Question]:
    """Answered questions whose card is due by `now`, most overdue first.

    Never-answered questions are not due: they are new, and drills bring them in.
    """
    cards = _questions_cards(questions, records, cache)
    due = [q for q in questions if q.id in cards and cards[q.id].is_due(now)]
    return sorted(due, key=lambda q: cards[q.id].due)


# --- drills -----------------------------------------------------------------------------

RECENT_ANSWERS = 3  # how many of the latest answers make a question's "recent score"
OVERDUE_BONUS = 20  # points a due card's recent score is lowered by when ordering a drill


def drill_order(
    questions: Sequence[Question],
    records: Sequence[HistoryRecord],
    now: datetime,
    rng: random.Random,
    cache: CardCache | None = None,
) -> list[Question]:
    """The questions, weakest first, for a drill.

    Ordering key, ascending: the recent score (mean graded score of the last 3 answers;
    0 for a never-answered question), minus 20 when the card is due by `now`. So failed
    and never-seen questions lead, a due card moves ahead of an equally weak one that is
    not due, and well-known questions come last. Ties (all the never-seen ones, say) are
    broken by `rng`.
    """
    wanted = {q.id for q in questions}
    grouped = answers_by_question(r for r in records if r.question_id in wanted)
    cards = cards_from_answers(grouped, cache)
    keys = {q.id: (_weakness(grouped.get(q.id, []), cards.get(q.id), now), rng.random()) for q in questions}
    return sorted(questions, key=lambda q: keys[q.id])


def _weakness(answers: list[GradedAnswer], card: CardState | None, now: datetime) -> float:
    if not answers or card is None:
        return 0.0
    recent = [a.score for a in answers[-RECENT_ANSWERS:]]
    overdue = OVERDUE_BONUS if card.is_due(now) else 0
    return sum(recent) / len(recent) - overdue


class DrillQueue:
    """The questions of one drill, in order; a missed one comes back later in the same drill.

    The first `count` distinct questions of `ordered` are asked. A question reported with a
    score below 70 is asked again after `requeue_gap` other questions (or at the end, when
    fewer are left), at most `max_returns` times.
    """

    def __init__(
        self, ordered: Sequence[Question], count: int, requeue_gap: int = 3, max_returns: int = 2
    ) -> None:
        if count < 1:
            raise BadInputError(f"--count must be at least 1, got {count}")
        if requeue_gap < 0 or max_returns < 0:
            raise ValueError("requeue_gap and max_returns must not be negative")
        unique = list({q.id: q for q in reversed(ordered)}.values())[::-1]
        self._pending: deque[Question] = deque(unique[:count])
        self._returns: dict[str, int] = {}
        self.requeue_gap = requeue_gap
        self.max_returns = max_returns

    def next(self) -> Question | None:
        """The next question to ask, or None when the drill is over."""
        if not self._pending:
            return None
        return self._pending.popleft()

    def report(self, question: Question, score: int) -> None:
        """Record the score of the question just asked; a miss brings it back later."""
        returned = self._returns.get(question.id, 0)
        if score >= HARD_BELOW or returned >= self.max_returns:
            return
        self._returns[question.id] = returned + 1
        self._pending.insert(min(self.requeue_gap, len(self._pending)), question)
