"""What the answer history says about the learner: mastery, trend, weak spots, streak.

Every score here is a graded score (`scheduler.graded_score`): the effective score of an
auto-graded answer (an override replaces the automatic score), or an open question's
self-rating on the 0-100 scale. Open answers nobody rated carry no score; they count toward
the streak only. Definitions:

- answered: distinct questions of the topic with at least one graded answer;
  answers: the topic's graded answers.
- mean_score: mean score of the topic's graded answers (None when there are none).
- mastery: mean over all the topic's questions of each question's latest score, a
  never-answered question counting 0; 0-100. Coverage counts as well as recall, and a
  question answered well again counts in full at once.
- due: questions whose FSRS card is due by `now` (`scheduler`).
- overrides, override_rate: graded answers whose automatic grade the learner overrode,
  and their share of the topic's graded answers.
- grader_mean_score, grader_mastery (topics), grader_mean_score (weakest, trend): the same
  figure with every disputed answer at its automatic score, so the screen can say where a
  dispute changed a figure ("0 (grader 94, disputed)"); equal to the figure when none did.
- weakest: the 10 answered questions with the lowest mean score (ties: lower latest score
  first, then id).
- streak_days: consecutive UTC days with at least one answer, ending today or yesterday
  (a streak is not broken until a whole day has passed without an answer); else 0.
- trend: one point per UTC day with graded answers: date, mean score, answers that day.
- confidence: answers to auto-graded questions that have a self-rating. The self-rating on
  the 0-100 scale ((rating - 1) * 25) against the automatic score: over-confident when it
  is at least 25 points above, under-confident when at least 25 points below.

Answers to questions no longer in the bank still count in trend, streak, confidence,
overrides and totals (they are the learner's history), not in per-topic or per-question
figures. With a topic, every figure covers that topic's answers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from llmquiz.bank import Bank, Topic
from llmquiz.cardcache import CardCache
from llmquiz.history import CUT_OFF, OVERRIDES, UNGRADED, HistoryRecord
from llmquiz.scheduler import (
    SELF_RATINGS,
    CardState,
    GradedAnswer,
    answers_by_question,
    cards_from_answers,
    graded_score,
    self_rating_score,
    utc_time,
)

WEAKEST_COUNT = 10
CONFIDENCE_GAP = 25  # points between self-rating and automatic score that count as a miss
Grouped = dict[str, list[GradedAnswer]]  # each question's graded answers, oldest first


@dataclass(frozen=True)
class TopicStats:
    topic: str
    title: str
    questions: int
    answered: int
    mean_score: float | None
    mastery: float
    due: int
    overrides: int
    override_rate: float | None
    answers: int = 0
    grader_mean_score: float | None = None
    grader_mastery: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WeakQuestion:
    id: str
    topic: str
    mean_score: float
    answers: int
    last_score: int
    grader_mean_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrendPoint:
    date: str  # ISO date, UTC
    mean_score: float
    answered: int
    grader_mean_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Confidence:
    """Self-rating against the automatic score, over answers that have both."""

    pairs: int
    mean_self: float | None  # the self-rating on the 0-100 scale
    mean_auto: float | None
    over_confident: int
    under_confident: int

    @property
    def calibrated(self) -> int:
        return self.pairs - self.over_confident - self.under_confident

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "calibrated": self.calibrated}


@dataclass(frozen=True)
class Overrides:
    """How often the learner disputed the automatic grade."""

    count: int
    rate: float | None  # share of graded answers
    to_correct: int
    to_incorrect: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "rate": self.rate,
            "to_correct": self.to_correct,
            "to_incorrect": self.to_incorrect,
        }


@dataclass(frozen=True)
class Stats:
    topics: tuple[TopicStats, ...]
    weakest: tuple[WeakQuestion, ...]
    streak_days: int
    trend: tuple[TrendPoint, ...]
    confidence: Confidence
    overrides: Overrides
    total_answered: int  # graded answers
    topic: str | None = None  # the topic the figures are limited to, if any

    def to_dict(self) -> dict[str, Any]:
        return {
            "topics": [t.to_dict() for t in self.topics],
            "weakest": [w.to_dict() for w in self.weakest],
            "streak_days": self.streak_days,
            "trend": [p.to_dict() for p in self.trend],
            "confidence": self.confidence.to_dict(),
            "overrides": self.overrides.to_dict(),
            "total_answered": self.total_answered,
            "topic": self.topic,
        }


def compute_stats(
    bank: Bank,
    records: Sequence[HistoryRecord],
    now: datetime,
    topic: str | None = None,
    cache: CardCache | None = None,
) -> Stats:
    """Every figure `stats` shows; `topic` limits them to one (UnknownTopicError); `cache`: kept cards."""
    topics = (bank.topic(topic),) if topic is not None else bank.topics
    topic = topics[0].slug if topic is not None else None  # `Rag` is the topic `rag`
    scoped = _topic_records(bank, records, topic) if topic is not None else records
    grouped = answers_by_question(scoped)
    cards = _bank_cards(topics, grouped, cache)
    tally = _tally(grouped)
    days = {date.fromordinal(day) for day in tally.days} | _ungraded_days(scoped)
    return Stats(
        topics=tuple(_topic_stats(t, grouped, tally, cards, now) for t in topics),
        weakest=_weakest(topics, grouped, tally),
        streak_days=streak(days, now),
        trend=_trend(tally),
        confidence=_confidence(tally),
        overrides=_overrides(tally),
        total_answered=tally.answers,
        topic=topic,
    )


def topic_summaries(
    bank: Bank, records: Sequence[HistoryRecord], now: datetime, cache: CardCache | None = None
) -> list[TopicStats]:
    """One line per topic for `topics`: questions, answered, mastery, due."""
    everything = answers_by_question(records)  # then keep the bank's: one test per question, not per answer
    grouped = {qid: answers for qid, answers in everything.items() if bank.has_question(qid)}
    cards = _bank_cards(bank.topics, grouped, cache)
    tally = _tally(grouped)
    return [_topic_stats(t, grouped, tally, cards, now) for t in bank.topics]


def mastery(topic: Topic, grouped: Grouped, *, undisputed: bool = False) -> float:
    """Mean over the topic's questions of the latest score (never answered: 0), 0-100.

    `undisputed`: a disputed latest answer counts with its automatic score instead.
    """
    if not topic.questions:
        return 0.0
    score = _undisputed if undisputed else _graded
    latest = [score(grouped[q.id][-1]) if q.id in grouped else 0 for q in topic.questions]
    return round(sum(latest) / len(latest), 1)


def _graded(answer: GradedAnswer) -> int:
    return answer.score


def _undisputed(answer: GradedAnswer) -> int:
    """The answer's score as the grader gave it: a dispute set aside."""
    return answer.record.score if answer.record.override is not None else answer.score


def streak(days: Iterable[date], now: datetime) -> int:
    """Consecutive days with an answer, ending today or yesterday (UTC)."""
    active = set(days)
    day = now.astimezone(UTC).date()
    if day not in active:
        day -= timedelta(days=1)
    count = 0
    while day in active:
        count += 1
        day -= timedelta(days=1)
    return count


# --- the parts --------------------------------------------------------------------------


@dataclass
class _Calibration:
    """Sums over (self-rating on the 0-100 scale, automatic score) pairs."""

    pairs: int = 0
    self_total: int = 0
    auto_total: int = 0
    over: int = 0
    under: int = 0

    def add(self, own: int, auto: int, times: int) -> None:
        self.pairs += times
        self.self_total += own * times
        self.auto_total += auto * times
        if own >= auto + CONFIDENCE_GAP:
            self.over += times
        if own <= auto - CONFIDENCE_GAP:
            self.under += times


@dataclass
class _Tally:
    """Sums over the graded answers, gathered in one pass (the hot loop of `stats`)."""

    answers: int = 0
    # id: (total, overrides, total with disputed answers at their automatic score)
    questions: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    days: dict[int, list[int]] = field(default_factory=dict)  # ordinal day: [total, answers, undisputed]
    overrides: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OVERRIDES, 0))
    calibration: _Calibration = field(default_factory=_Calibration)


def _tally(grouped: Grouped) -> _Tally:
    tally = _Tally()
    days, overrides = tally.days, tally.overrides
    rated: dict[tuple[int, int], int] = {}  # (self-rating, automatic score): answers
    for question_id, answers in grouped.items():
        total = overridden = changed = 0  # changed: what disputes added to the total
        for when, score, _, record in answers:
            total += score
            day = when.toordinal()
            if day in days:
                sums = days[day]
                sums[0] += score
                sums[1] += 1
            else:
                sums = days[day] = [score, 1, 0]
            if record.override is not None:
                overridden += 1
                overrides[record.override] = overrides.get(record.override, 0) + 1
                changed += score - record.score
                sums[2] += score - record.score
            if record.self_rating is not None and record.kind != "open":
                pair = (record.self_rating, record.score)
                rated[pair] = rated.get(pair, 0) + 1
        tally.questions[question_id] = (total, overridden, total - changed)
        tally.answers += len(answers)
    for (rating, score), times in rated.items():  # a few hundred pairs, not one per answer
        if rating in SELF_RATINGS:
            tally.calibration.add(self_rating_score(rating), score, times)
    return tally


def _topic_records(bank: Bank, records: Sequence[HistoryRecord], slug: str) -> list[HistoryRecord]:
    """A topic's records: by the bank's topic of the question, else the record's own."""
    topic_of = {q.id: t.slug for t in bank.topics for q in t.questions}
    return [r for r in records if topic_of.get(r.question_id, r.topic) == slug]


def _bank_cards(topics: Iterable[Topic], grouped: Grouped, cache: CardCache | None) -> dict[str, CardState]:
    """Cards of the topics' questions only; other answers need no replay."""
    wanted = {q.id: grouped[q.id] for t in topics for q in t.questions if q.id in grouped}
    return cards_from_answers(wanted, cache)


def _topic_stats(
    topic: Topic, grouped: Grouped, tally: _Tally, cards: dict[str, CardState], now: datetime
) -> TopicStats:
    answered = [q.id for q in topic.questions if q.id in grouped]
    answers = sum(len(grouped[qid]) for qid in answered)
    total = sum(tally.questions[qid][0] for qid in answered)
    overrides = sum(tally.questions[qid][1] for qid in answered)
    undisputed = sum(tally.questions[qid][2] for qid in answered)
    return TopicStats(
        topic=topic.slug,
        title=topic.title,
        questions=len(topic.questions),
        answered=len(answered),
        mean_score=_ratio(total, answers, 1),
        mastery=mastery(topic, grouped),
        due=sum(1 for qid in answered if qid in cards and cards[qid].is_due(now)),
        overrides=overrides,
        override_rate=_ratio(overrides, answers, 3),
        answers=answers,
        grader_mean_score=_ratio(undisputed, answers, 1),
        grader_mastery=mastery(topic, grouped, undisputed=True),
    )


def _weakest(topics: Iterable[Topic], grouped: Grouped, tally: _Tally) -> tuple[WeakQuestion, ...]:
    weak = [
        WeakQuestion(
            id=q.id,
            topic=q.topic,
            mean_score=round(tally.questions[q.id][0] / len(grouped[q.id]), 1),
            answers=len(grouped[q.id]),
            last_score=grouped[q.id][-1].score,
            grader_mean_score=round(tally.questions[q.id][2] / len(grouped[q.id]), 1),
        )
        for t in topics
        for q in t.questions
        if q.id in grouped
    ]
    weak.sort(key=lambda w: (w.mean_score, w.last_score, w.id))
    return tuple(weak[:WEAKEST_COUNT])


def _ungraded_days(records: Iterable[HistoryRecord]) -> set[date]:
    """UTC days of answers without a score, which count for the streak all the same.

    These are open answers nobody rated, answers whose grading was interrupted and answers
    cut off by an exam's time limit.
    """
    unscored = (UNGRADED, CUT_OFF)
    ungraded = (r for r in records if (r.kind == "open" or r.verdict in unscored) and graded_score(r) is None)
    return {utc_time(r.ts).date() for r in ungraded}


def _trend(tally: _Tally) -> tuple[TrendPoint, ...]:
    return tuple(
        TrendPoint(
            date.fromordinal(day).isoformat(),
            round(total / count, 1),
            count,
            round((total - changed) / count, 1),
        )
        for day, (total, count, changed) in sorted(tally.days.items())
    )


def _confidence(tally: _Tally) -> Confidence:
    sums = tally.calibration
    return Confidence(
        pairs=sums.pairs,
        mean_self=_ratio(sums.self_total, sums.pairs, 1),
        mean_auto=_ratio(sums.auto_total, sums.pairs, 1),
        over_confident=sums.over,
        under_confident=sums.under,
    )


def _overrides(tally: _Tally) -> Overrides:
    count = sum(tally.overrides.values())
    return Overrides(
        count=count,
        rate=_ratio(count, tally.answers, 3),
        to_correct=tally.overrides["correct"],
        to_incorrect=tally.overrides["incorrect"],
    )


def _ratio(part: float, whole: int, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None
