"""Replaying a question's graded answers through FSRS 6: the card they leave behind.

`replayer()` gives the replay to use. It is `FastReplay`, fsrs.Scheduler.review_card (no
fuzzing) redone as plain arithmetic and bit-exact, once it has agreed with fsrs itself on a
set of check scripts at first use; should it ever disagree (a future fsrs changing a
formula), it is `replay_with_fsrs`, fsrs.Scheduler's own replay, slower but always right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple

import fsrs
from fsrs import Rating, State

from llmquiz.history import HistoryRecord


class GradedAnswer(NamedTuple):
    """One graded answer as the replay, the scheduler and the stats see it."""

    when: datetime  # UTC
    score: int  # graded_score
    rating: Rating
    record: HistoryRecord


_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Memory:
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


def replay_with_fsrs(answers: Sequence[GradedAnswer]) -> Memory:
    """The reference replay: fsrs.Scheduler.review_card, one answer at a time."""
    scheduler = _scheduler()
    card = fsrs.Card(card_id=0, due=answers[0].when)
    for answer in answers:
        card, _ = scheduler.review_card(card, answer.rating, answer.when)
    return Memory(card.state, card.step, card.stability, card.difficulty, card.due, card.last_review)


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


class FastReplay:
    """fsrs.Scheduler.review_card (no fuzzing) as plain arithmetic on a few local variables.

    The formulas are fsrs 6's, written term for term in the same order (constants that depend
    only on the parameters and the rating are worked out once, the same way), so the floats
    agree to the bit. What is left out is review_card's per-review copying, checking and
    logging: the replay is several times faster, which keeps `stats` over 100,000 answers
    well under a second. `replayer()` checks it against fsrs itself before using it and
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

    def __call__(self, answers: Sequence[GradedAnswer]) -> Memory:
        """The card after these answers, oldest first.

        The hot loop of `stats`: the stability and difficulty formulas are written out here
        on local names (a method call per review cost a third of the replay).
        """
        if not answers:
            return Memory()
        p, e = self.p, math.e
        decay, factor = self.decay, self.factor
        first_stability, first_difficulty = self.first_stability, self.first_difficulty
        short_gain, difficulty_step, recall_bonus = self.short_gain, self.difficulty_step, self.recall_bonus
        recall_base, forget_short_term, reversion, keep = (
            self.recall_base, self.forget_short_term, self.reversion, self.keep
        )  # fmt: skip
        minus_p9, p10, p11, minus_p12, p13, p14, minus_p19 = -p[9], p[10], p[11], -p[12], p[13], p[14], -p[19]
        state, step, last = _LEARNING, 0, None
        interval: timedelta | None = None
        stability = difficulty = 0.0
        relearns = bool(self.steps[_RELEARNING])
        for when, _, rating, _ in answers:
            if last is None:
                stability = first_stability[rating]
                difficulty = first_difficulty[rating]
            else:
                elapsed = (when - last).days
                if elapsed < 1:  # short-term stability
                    increase = short_gain[rating] * (stability**minus_p19)
                    if rating != _AGAIN and increase < 1.0:
                        increase = 1.0
                    stability = stability * increase
                else:
                    retrievability = (1 + factor * elapsed / stability) ** decay
                    if rating == _AGAIN:  # stability after forgetting
                        forgot = p11 * (difficulty**minus_p12) * (((stability + 1) ** p13) - 1)
                        forgot = forgot * (e ** ((1 - retrievability) * p14))
                        ceiling = stability / forget_short_term
                        stability = ceiling if ceiling < forgot else forgot  # min(), as fsrs has it
                    else:  # stability after recalling
                        growth = recall_base * (11 - difficulty) * (stability**minus_p9)
                        growth = growth * ((e ** ((1 - retrievability) * p10)) - 1) * recall_bonus[rating]
                        stability = stability * (1 + growth)
                if not stability > _STABILITY_MIN:
                    stability = _STABILITY_MIN
                damped = difficulty + (10.0 - difficulty) * difficulty_step[rating] / 9.0
                difficulty = reversion + keep * damped
                if difficulty < _MIN_DIFFICULTY:
                    difficulty = _MIN_DIFFICULTY
                elif difficulty > _MAX_DIFFICULTY:
                    difficulty = _MAX_DIFFICULTY
            if state == _REVIEW and (rating != _AGAIN or not relearns):  # the common case
                interval = None  # a review interval, worked out below for the last review only
            else:
                state, step, interval = self._advance(state, step, stability, rating)
            last = when
        if interval is None:
            interval = self._days(stability)
        return Memory(State(state), step, stability, difficulty, last + interval, last)

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

Replay = Callable[[Sequence[GradedAnswer]], Memory]


@cache
def replayer() -> Replay:
    """The fast replay when it agrees with fsrs after every review of `_CHECK_SCRIPTS`."""
    try:
        fast = FastReplay(_scheduler())
        agrees = all(_agrees(fast, script) for script in _CHECK_SCRIPTS)
    except Exception:  # e.g. an fsrs with other parameters: its own replay is always right
        agrees = False
    return fast if agrees else replay_with_fsrs


def _agrees(fast: FastReplay, script: tuple[tuple[int, int], ...]) -> bool:
    start = datetime(2000, 1, 1, tzinfo=UTC)
    answers = [GradedAnswer(start + timedelta(minutes=m), 0, Rating(r), _CHECK_RECORD) for m, r in script]
    return all(fast(answers[:end]) == replay_with_fsrs(answers[:end]) for end in range(1, len(answers) + 1))


_CHECK_RECORD = HistoryRecord("", "", "", "", "", "", 0, "")  # the replay never reads it
