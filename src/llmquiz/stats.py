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
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from llmquiz.bank import Bank, Topic
from llmquiz.history import HistoryRecord
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WeakQuestion:
    id: str
    topic: str
    mean_score: float
    answers: int
    last_score: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrendPoint:
    date: str  # ISO date, UTC
    mean_score: float
    answered: int

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
        return asdict(self)


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
    bank: Bank, records: Sequence[HistoryRecord], now: datetime, topic: str | None = None
) -> Stats:
    """Every figure `stats` shows; `topic` limits them to one topic (UnknownTopicError)."""
    topics = (bank.topic(topic),) if topic is not None else bank.topics
    scoped = _topic_records(bank, records, topic) if topic is not None else records
    grouped = answers_by_question(scoped)
    cards = _bank_cards(topics, grouped)
    answers = [answer for question in grouped.values() for answer in question]
    return Stats(
        topics=tuple(_topic_stats(t, grouped, cards, now) for t in topics),
        weakest=_weakest(topics, grouped),
        streak_days=streak(_answer_days(answers, scoped), now),
        trend=_trend(answers),
        confidence=_confidence(answers),
        overrides=_overrides(answers),
        total_answered=len(answers),
        topic=topic,
    )


def topic_summaries(
    bank: Bank, records: Sequence[HistoryRecord], now: datetime
) -> list[TopicStats]:
    """One line per topic for `topics`: questions, answered, mastery, due."""
    grouped = answers_by_question(r for r in records if bank.has_question(r.question_id))
    cards = _bank_cards(bank.topics, grouped)
    return [_topic_stats(t, grouped, cards, now) for t in bank.topics]


def mastery(topic: Topic, grouped: dict[str, list[GradedAnswer]]) -> float:
    """Mean over the topic's questions of the latest score (never answered: 0), 0-100."""
    if not topic.questions:
        return 0.0
    latest = [grouped[q.id][-1].score if q.id in grouped else 0 for q in topic.questions]
    return round(sum(latest) / len(latest), 1)


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


def _topic_records(bank: Bank, records: Sequence[HistoryRecord], slug: str) -> list[HistoryRecord]:
    """A topic's records: by the bank's topic of the question, else the record's own."""
    topic_of = {q.id: t.slug for t in bank.topics for q in t.questions}
    return [r for r in records if topic_of.get(r.question_id, r.topic) == slug]


def _bank_cards(
    topics: Iterable[Topic], grouped: dict[str, list[GradedAnswer]]
) -> dict[str, CardState]:
    """Cards of the topics' questions only; other answers need no replay."""
    wanted = {q.id: grouped[q.id] for t in topics for q in t.questions if q.id in grouped}
    return cards_from_answers(wanted)


def _topic_stats(
    topic: Topic,
    grouped: dict[str, list[GradedAnswer]],
    cards: dict[str, CardState],
    now: datetime,
) -> TopicStats:
    answers = [a for q in topic.questions for a in grouped.get(q.id, ())]
    overrides = sum(1 for a in answers if a.record.override is not None)
    return TopicStats(
        topic=topic.slug,
        title=topic.title,
        questions=len(topic.questions),
        answered=sum(1 for q in topic.questions if q.id in grouped),
        mean_score=_mean(a.score for a in answers),
        mastery=mastery(topic, grouped),
        due=sum(1 for q in topic.questions if q.id in cards and cards[q.id].is_due(now)),
        overrides=overrides,
        override_rate=round(overrides / len(answers), 3) if answers else None,
        answers=len(answers),
    )


def _weakest(
    topics: Iterable[Topic], grouped: dict[str, list[GradedAnswer]]
) -> tuple[WeakQuestion, ...]:
    weak = [
        WeakQuestion(
            id=q.id,
            topic=q.topic,
            mean_score=_mean(a.score for a in grouped[q.id]) or 0.0,
            answers=len(grouped[q.id]),
            last_score=grouped[q.id][-1].score,
        )
        for t in topics
        for q in t.questions
        if q.id in grouped
    ]
    weak.sort(key=lambda w: (w.mean_score, w.last_score, w.id))
    return tuple(weak[:WEAKEST_COUNT])


def _answer_days(answers: Sequence[GradedAnswer], records: Iterable[HistoryRecord]) -> set[date]:
    """UTC days with an answer, ungraded open answers included."""
    days = {a.when.date() for a in answers}
    ungraded = (r for r in records if r.kind == "open" and graded_score(r) is None)
    days.update(utc_time(r.ts).date() for r in ungraded)
    return days


def _trend(answers: Iterable[GradedAnswer]) -> tuple[TrendPoint, ...]:
    by_day: dict[date, list[int]] = {}
    for answer in answers:
        by_day.setdefault(answer.when.date(), []).append(answer.score)
    return tuple(
        TrendPoint(day.isoformat(), round(sum(scores) / len(scores), 1), len(scores))
        for day, scores in sorted(by_day.items())
    )


def _confidence(answers: Iterable[GradedAnswer]) -> Confidence:
    pairs = [
        (self_rating_score(a.record.self_rating), a.record.score)
        for a in answers
        if a.record.kind != "open" and a.record.self_rating in SELF_RATINGS
    ]
    return Confidence(
        pairs=len(pairs),
        mean_self=_mean(own for own, _ in pairs),
        mean_auto=_mean(auto for _, auto in pairs),
        over_confident=sum(1 for own, auto in pairs if own >= auto + CONFIDENCE_GAP),
        under_confident=sum(1 for own, auto in pairs if own <= auto - CONFIDENCE_GAP),
    )


def _overrides(answers: Sequence[GradedAnswer]) -> Overrides:
    kinds = [a.record.override for a in answers if a.record.override is not None]
    return Overrides(
        count=len(kinds),
        rate=round(len(kinds) / len(answers), 3) if answers else None,
        to_correct=kinds.count("correct"),
        to_incorrect=kinds.count("incorrect"),
    )


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 1) if items else None
