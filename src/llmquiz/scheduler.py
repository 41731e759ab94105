"""Spaced repetition: one FSRS card per question, derived from the answer history.

A card is never stored. Its state is the replay of that question's graded answers, oldest
first, through `fsrs.Scheduler(enable_fuzzing=False)`; the history stays the only store, so
nothing can drift from it and deleting caches loses nothing. Cards are keyed by question id
alone: editing a question's text, answer or key points keeps its progress.

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

import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

import fsrs
from fsrs import Rating, State

from llmquiz.bank import Question
from llmquiz.errors import BadInputError
from llmquiz.history import (
    SELF_RATINGS,
    UNGRADED,
    HistoryRecord,
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


def _effective(score: int, override: str | None) -> int:
    """The same rule as HistoryRecord.effective_score."""
    if override == "correct":
        return max(score, 100)
    if override == "incorrect":
        return min(score, 0)
    return score


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
        return _score_rating(_effective(score, override))
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


def record_rating(record: HistoryRecord) -> Rating | None:
    """The FSRS rating of a history record; None when it is no review (see graded_score)."""
    graded = _grade_record(record)
    return None if graded is None else graded[1]


def _grade_record(record: HistoryRecord) -> tuple[int, Rating] | None:
    if record.verdict == UNGRADED:
        return None
    return _grade(record.kind == "open", record.score, record.self_rating, record.override)


@lru_cache(maxsize=4096)
def _grade(
    is_open: bool, score: int, self_rating: int | None, override: str | None
) -> tuple[int, Rating] | None:
    """(graded score, FSRS rating); memoised, as 100,000 answers share a few hundred keys."""
    rating = self_rating if self_rating in SELF_RATINGS else None  # a hand-edited 7: none
    if override is not None or not is_open:
        return _effective(score, override), rating_for(score, rating, override)
    if rating is None:
        return None
    return self_rating_score(rating), rating_for(self_rating_score(rating), rating, None)


class GradedAnswer(NamedTuple):
    """One graded answer as the scheduler and the stats see it."""

    when: datetime  # UTC
    score: int  # graded_score
    rating: Rating
    record: HistoryRecord


def answers_by_question(records: Iterable[HistoryRecord]) -> dict[str, list[GradedAnswer]]:
    """Each question's graded answers, oldest first (equal times keep history order).

    The hot loop of `stats` over a long history: answers are built with tuple.__new__
    (a NamedTuple's own constructor is a Python function) and the collector is paused.
    """
    grouped: dict[str, list[GradedAnswer]] = {}
    with gc_paused():
        for record in records:
            if record.verdict == UNGRADED:
                continue
            graded = _grade(record.kind == "open", record.score, record.self_rating, record.override)
            if graded is None:
                continue
            when = datetime.fromisoformat(record.ts)
            if when.tzinfo is not UTC:
                when = utc_time(record.ts)
            answer = _new_answer(GradedAnswer, (when, graded[0], graded[1], record))
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


def build_cards(records: Sequence[HistoryRecord]) -> dict[str, CardState]:
    """The card of every question with at least one graded answer (open answers included)."""
    return cards_from_answers(answers_by_question(records))


def cards_from_answers(grouped: dict[str, list[GradedAnswer]]) -> dict[str, CardState]:
    """Replay each question's answers (oldest first) through the FSRS scheduler."""
    replay = _replayer()
    return {qid: _card_state(qid, answers, replay(answers)) for qid, answers in grouped.items()}


def _card_state(question_id: str, answers: list[GradedAnswer], card: _Memory) -> CardState:
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


def _questions_cards(questions: Sequence[Question], records: Sequence[HistoryRecord]) -> dict[str, CardState]:
    """Cards of these questions only: other questions' answers are not replayed."""
    wanted = {q.id for q in questions}
    return build_cards([r for r in records if r.question_id in wanted])


def due_questions(
    questions: Sequence[Question], records: Sequence[HistoryRecord], now: datetime
) -> list[Question]:
    """Answered questions whose card is due by `now`, most overdue first.

    Never-answered questions are not due: they are new, and drills bring them in.
    """
    cards = _questions_cards(questions, records)
    due = [q for q in questions if q.id in cards and cards[q.id].due <= now]
    return sorted(due, key=lambda q: cards[q.id].due)


def due_counts(
    questions: Sequence[Question], records: Sequence[HistoryRecord], now: datetime
) -> dict[str, int]:
    """How many questions are due per topic slug (every topic of `questions`, zeros included)."""
    counts = dict.fromkeys((q.topic for q in questions), 0)
    for question in due_questions(questions, records, now):
        counts[question.topic] += 1
    return counts


# --- drills -----------------------------------------------------------------------------

RECENT_ANSWERS = 3  # how many of the latest answers make a question's "recent score"
OVERDUE_BONUS = 20  # points a due card's recent score is lowered by when ordering a drill


def drill_order(
    questions: Sequence[Question],
    records: Sequence[HistoryRecord],
    now: datetime,
    rng: random.Random,
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
    cards = cards_from_answers(grouped)
    keys = {q.id: (_weakness(grouped.get(q.id, []), cards.get(q.id), now), rng.random()) for q in questions}
    return sorted(questions, key=lambda q: keys[q.id])


def _weakness(answers: list[GradedAnswer], card: CardState | None, now: datetime) -> float:
    if not answers or card is None:
        return 0.0
    recent = [a.score for a in answers[-RECENT_ANSWERS:]]
    overdue = OVERDUE_BONUS if card.due <= now else 0
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
        self.asked = 0

    def next(self) -> Question | None:
        """The next question to ask, or None when the drill is over."""
        if not self._pending:
            return None
        self.asked += 1
        return self._pending.popleft()

    def report(self, question: Question, score: int) -> None:
        """Record the score of the question just asked; a miss brings it back later."""
        returned = self._returns.get(question.id, 0)
        if score >= HARD_BELOW or returned >= self.max_returns:
            return
        self._returns[question.id] = returned + 1
        self._pending.insert(min(self.requeue_gap, len(self._pending)), question)

    @property
    def remaining(self) -> int:
        """Questions still to ask, returns included."""
        return len(self._pending)

    def returns(self, question_id: str) -> int:
        """How many times this question has been sent back so far."""
        return self._returns.get(question_id, 0)


# --- the FSRS replay --------------------------------------------------------------------


_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class _Memory:
    """A card's mutable state during a replay (the fields of fsrs.Card we need)."""

    state: State = State.Learning
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: datetime = _LONG_AGO
    last_review: datetime | None = None


@cache
def _scheduler() -> fsrs.Scheduler:
    return fsrs.Scheduler(enable_fuzzing=False)


def _replay_with_fsrs(answers: Sequence[GradedAnswer]) -> _Memory:
    """The reference replay: fsrs.Scheduler.review_card, one answer at a time."""
    scheduler = _scheduler()
    card = fsrs.Card(card_id=0, due=answers[0].when)
    for answer in answers:
        card, _ = scheduler.review_card(card, answer.rating, answer.when)
    return _Memory(card.state, card.step, card.stability, card.difficulty, card.due, card.last_review)


_LEARNING, _REVIEW, _RELEARNING = int(State.Learning), int(State.Review), int(State.Relearning)
_RATINGS = _AGAIN, _HARD, _GOOD, _EASY = tuple(int(rating) for rating in Rating)
_STABILITY_MIN = fsrs.scheduler.STABILITY_MIN


_MIN_DIFFICULTY, _MAX_DIFFICULTY = fsrs.scheduler.MIN_DIFFICULTY, fsrs.scheduler.MAX_DIFFICULTY


def _clamp(difficulty: float) -> float:
    """min(max(d, 1), 10) as fsrs has it; comparisons, as builtin min/max calls are slow."""
    if difficulty < _MIN_DIFFICULTY:
        return _MIN_DIFFICULTY
    return _MAX_DIFFICULTY if difficulty > _MAX_DIFFICULTY else difficulty


def _first_hard_step(steps: tuple[timedelta, ...]) -> timedelta:
    """fsrs's interval for Hard on the first (re)learning step."""
    if not steps:
        return timedelta(0)
    return steps[0] * 1.5 if len(steps) == 1 else (steps[0] + steps[1]) / 2.0


class _FastReplay:
    """fsrs.Scheduler.review_card (no fuzzing) as plain arithmetic on a few local variables.

    The formulas are fsrs 6's, written term for term in the same order (constants that depend
    only on the parameters and the rating are worked out once, the same way), so the floats
    agree to the bit. What is left out is review_card's per-review copying, checking and
    logging: the replay is several times faster, which keeps `stats` over 100,000 answers
    well under a second. `_replayer()` checks it against fsrs itself before using it and
    falls back to fsrs when they disagree (a future fsrs release changing a formula, say).
    Tables indexed by rating have a dummy entry at 0, as ratings run 1-4.
    """

    def __init__(self, scheduler: fsrs.Scheduler) -> None:
        p = self.p = tuple(scheduler.parameters)
        self.decay = -p[20]
        self.factor = 0.9 ** (1 / self.decay) - 1
        self.retention_term = (scheduler.desired_retention ** (1 / self.decay)) - 1
        self.maximum_interval = scheduler.maximum_interval
        self.steps = {
            _LEARNING: tuple(scheduler.learning_steps),
            _RELEARNING: tuple(scheduler.relearning_steps),
        }
        self.first_hard = {state: _first_hard_step(steps) for state, steps in self.steps.items()}
        self.first_stability = (0.0, *(max(p[r - 1], _STABILITY_MIN) for r in _RATINGS))
        self.first_difficulty = (
            0.0,
            *(_clamp(p[4] - (math.e ** (p[5] * (r - 1))) + 1) for r in _RATINGS),
        )
        self.short_gain = (0.0, *(math.e ** (p[17] * (r - 3 + p[18])) for r in _RATINGS))
        self.difficulty_step = (0.0, *(-(p[6] * (r - 3)) for r in _RATINGS))
        self.reversion = p[7] * (p[4] - (math.e ** (p[5] * (_EASY - 1))) + 1)
        self.keep = 1 - p[7]
        self.recall_base = math.e ** p[8]
        self.recall_bonus = (1.0, 1.0, p[15], 1, p[16])  # Hard's penalty, Easy's bonus
        self.forget_short_term = math.e ** (p[17] * p[18])
        self.day_intervals: dict[int, timedelta] = {}

    def __call__(self, answers: Sequence[GradedAnswer]) -> _Memory:
        if not answers:
            return _Memory()
        state, step, due, last = _LEARNING, 0, _LONG_AGO, None
        stability = difficulty = 0.0
        relearns = bool(self.steps[_RELEARNING])
        for when, _, rating, _ in answers:
            if last is None:
                stability = self.first_stability[rating]
                difficulty = self.first_difficulty[rating]
            else:
                days = (when - last).days
                if days < 1:
                    stability = self._short_term(stability, rating)
                else:
                    stability = self._long_term(stability, difficulty, days, rating)
                difficulty = self._next_difficulty(difficulty, rating)
            if state == _REVIEW and (rating != _AGAIN or not relearns):
                interval = self._days(stability)  # the common case, kept short
            else:
                state, step, interval = self._advance(state, step, stability, rating)
            due, last = when + interval, when
        return _Memory(State(state), step, stability, difficulty, due, last)

    def _advance(
        self, state: int, step: int | None, stability: float, rating: int
    ) -> tuple[int, int | None, timedelta]:
        """The card's next state and step, and the interval until it is due."""
        if state == _REVIEW:
            if rating == _AGAIN and self.steps[_RELEARNING]:
                return _RELEARNING, 0, self.steps[_RELEARNING][0]
            return _REVIEW, None, self._days(stability)
        steps, step = self.steps[state], step or 0
        if not steps or (step >= len(steps) and rating != _AGAIN):
            return _REVIEW, None, self._days(stability)
        if rating == _AGAIN:
            return state, 0, steps[0]
        if rating == _HARD:
            return state, step, self.first_hard[state] if step == 0 else steps[step]
        if rating == _GOOD and step + 1 < len(steps):
            return state, step + 1, steps[step + 1]
        return _REVIEW, None, self._days(stability)

    def _days(self, stability: float) -> timedelta:
        """A review interval: whole days, at least 1, at most the maximum interval."""
        days = round((stability / self.factor) * self.retention_term)
        days = 1 if days < 1 else min(days, self.maximum_interval)
        interval = self.day_intervals.get(days)
        if interval is None:
            interval = self.day_intervals[days] = timedelta(days=days)
        return interval

    def _long_term(self, s: float, d: float, days: int, rating: int) -> float:
        """Stability after a review at least a day after the last one."""
        p = self.p
        r = (1 + self.factor * days / s) ** self.decay  # retrievability
        if rating == _AGAIN:
            forgot = p[11] * (d ** -p[12]) * (((s + 1) ** (p[13])) - 1)
            forgot = forgot * (math.e ** ((1 - r) * p[14]))
            stability = min(forgot, s / self.forget_short_term)
        else:
            growth = self.recall_base * (11 - d) * (s ** -p[9])
            growth = growth * ((math.e ** ((1 - r) * p[10])) - 1) * self.recall_bonus[rating]
            stability = s * (1 + growth)
        return stability if stability > _STABILITY_MIN else _STABILITY_MIN

    def _short_term(self, stability: float, rating: int) -> float:
        """Stability after a review less than a day after the last one."""
        increase = self.short_gain[rating] * (stability ** -self.p[19])
        if rating != _AGAIN and increase < 1.0:
            increase = 1.0
        stability = stability * increase
        return stability if stability > _STABILITY_MIN else _STABILITY_MIN

    def _next_difficulty(self, difficulty: float, rating: int) -> float:
        damped = difficulty + (10.0 - difficulty) * self.difficulty_step[rating] / 9.0
        return _clamp(self.reversion + self.keep * damped)


# Review scripts: (minutes after the first review, rating). Together they take a card through
# every state, step and rating, each both less and more than a day after the last review.
_CHECK_SCRIPTS = (
    ((0, 2), (3, 2), (6, 1), (8, 3), (3000, 3), (3005, 3), (3010, 4), (3015, 2), (9000, 1),
     (12000, 3), (12005, 1), (12010, 2), (12015, 1), (12020, 4), (20000, 2), (40000, 3),
     (90000, 4), (90010, 1), (90020, 3), (400000, 1), (403000, 2), (406000, 1), (409000, 4)),
    ((0, 1), (2, 4)),
    ((0, 3), (3000, 1), (6000, 2), (9000, 3), (12000, 4)),
    ((0, 4), (1, 1)),
    ((0, 3), (1, 2), (2, 1), (3000, 1), (6000, 4)),
    ((0, 3), (1, 4)),
    ((0, 3), (1, 3)),
    ((0, 3), (3000, 2)),
)  # fmt: skip

Replay = Callable[[Sequence[GradedAnswer]], _Memory]


@cache
def _replayer() -> Replay:
    """The fast replay when it agrees with fsrs after every review of `_CHECK_SCRIPTS`."""
    try:
        fast = _FastReplay(_scheduler())
        agrees = all(_agrees(fast, script) for script in _CHECK_SCRIPTS)
    except Exception:  # e.g. an fsrs with other parameters: its own replay is always right
        agrees = False
    return fast if agrees else _replay_with_fsrs


def _agrees(fast: _FastReplay, script: tuple[tuple[int, int], ...]) -> bool:
    start = datetime(2000, 1, 1, tzinfo=UTC)
    answers = [GradedAnswer(start + timedelta(minutes=m), 0, Rating(r), _CHECK_RECORD) for m, r in script]
    return all(fast(answers[:end]) == _replay_with_fsrs(answers[:end]) for end in range(1, len(answers) + 1))


_CHECK_RECORD = HistoryRecord("", "", "", "", "", "", 0, "")  # the replay never reads it
