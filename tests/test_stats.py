"""Stats from a small hand-made history, the JSON shapes, and the time budget at 100,000 answers."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from llmquiz.bank import Bank, Question, Topic
from llmquiz.cardcache import CardCache
from llmquiz.errors import UnknownTopicError
from llmquiz.history import UNGRADED, HistoryRecord, format_ts
from llmquiz.scheduler import due_questions
from llmquiz.stats import compute_stats, streak, topic_summaries

from .records import answer

JAN = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def day(n: int, hour: int = 0) -> datetime:
    return JAN + timedelta(days=n, hours=hour)


def make_bank(text: str = "What is {}?") -> Bank:
    def question(qid: str, topic: str, kind: str = "free") -> Question:
        return Question(id=qid, topic=topic, question=text.format(qid), answer="...", kind=kind)

    rag = Topic(
        "rag", "Retrieval", "rag.yaml", tuple(question(q, "rag") for q in ("rag-a", "rag-b", "rag-c"))
    )
    sft = Topic(
        "sft", "Fine-tuning", "sft.yaml", (question("sft-a", "sft"), question("sft-b", "sft", "open"))
    )
    return Bank((rag, sft))


# Jan 1, 2, 4, 5: the gap on Jan 3 breaks the streak.
HISTORY = [
    answer("rag-a", day(0), 80),
    answer("rag-b", day(0, 1), 30, self_rating=5),  # over-confident: 100 against 30
    answer("rag-a", day(1), 60, self_rating=1),  # under-confident: 0 against 60
    answer("rag-b", day(1, 1), 50, override="correct"),  # counts as 100
    answer("sft-a", day(3), 90, self_rating=4, topic="sft"),  # 75 against 90: close enough
    answer("sft-b", day(3, 1), 0, self_rating=3, kind="open", topic="sft"),  # open: scores 50
    answer("rag-a", day(4), 100),
    answer("gone", day(4, 1), 10),  # a question since removed from the bank
]
NOW = day(4, 10)


@pytest.fixture
def stats():
    return compute_stats(make_bank(), HISTORY, NOW)


def test_topic_figures(stats) -> None:
    rag, sft = stats.topics
    assert (rag.topic, rag.title, rag.questions, rag.answered, rag.answers) == ("rag", "Retrieval", 3, 2, 5)
    assert rag.mean_score == 74.0  # (80 + 60 + 100 + 30 + 100) / 5; "gone" is not in the bank
    assert rag.mastery == 66.7  # latest: 100, 100 (override), never answered: 0
    assert (rag.overrides, rag.override_rate) == (1, 0.2)
    assert (sft.answered, sft.mean_score, sft.mastery) == (2, 70.0, 70.0)
    assert (sft.overrides, sft.override_rate) == (0, 0.0)


def test_due_counts_agree_with_the_scheduler(stats) -> None:
    bank = make_bank()
    due = due_questions(bank.questions, HISTORY, NOW)
    assert {t.topic: t.due for t in stats.topics} == {
        t.slug: sum(q.topic == t.slug for q in due) for t in bank.topics
    }


def test_weakest_by_mean_score(stats) -> None:
    assert [(w.id, w.mean_score) for w in stats.weakest] == [
        ("sft-b", 50.0),
        ("rag-b", 65.0),
        ("rag-a", 80.0),
        ("sft-a", 90.0),
    ]
    assert stats.weakest[1].answers == 2
    assert stats.weakest[1].last_score == 100


def test_trend_per_day(stats) -> None:
    assert [(p.date, p.mean_score, p.answered) for p in stats.trend] == [
        ("2026-01-01", 55.0, 2),
        ("2026-01-02", 80.0, 2),
        ("2026-01-04", 70.0, 2),
        ("2026-01-05", 55.0, 2),  # includes the removed question: it is still history
    ]


def test_confidence(stats) -> None:
    confidence = stats.confidence
    assert confidence.pairs == 3  # the open answer's self-rating is its score, not a pair
    assert (confidence.mean_self, confidence.mean_auto) == (58.3, 60.0)
    assert (confidence.over_confident, confidence.under_confident, confidence.calibrated) == (1, 1, 1)


def test_the_same_answers_twice_count_twice(stats) -> None:
    """Equal (self-rating, score) pairs are summed once with their count: each still counts."""
    twice = compute_stats(make_bank(), HISTORY + HISTORY, NOW)
    once, doubled = stats.confidence, twice.confidence
    assert (doubled.pairs, doubled.over_confident, doubled.under_confident) == (6, 2, 2)
    assert (doubled.mean_self, doubled.mean_auto) == (once.mean_self, once.mean_auto)
    assert twice.overrides.count == 2 * stats.overrides.count
    assert [p.answered for p in twice.trend] == [2 * p.answered for p in stats.trend]


def test_overrides_and_totals(stats) -> None:
    assert stats.total_answered == 8
    assert (stats.overrides.count, stats.overrides.rate) == (1, 0.125)
    assert (stats.overrides.to_correct, stats.overrides.to_incorrect) == (1, 0)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(day(4, 10), 2, id="today-counts"),
        pytest.param(day(5, 10), 2, id="yesterday-still-counts"),
        pytest.param(day(6, 10), 0, id="a-whole-day-missed"),
        pytest.param(day(1, 10), 2, id="before-the-gap"),
        pytest.param(day(2, 10), 2, id="the-gap-day-itself"),
    ],
)
def test_streak_across_a_gap(now: datetime, expected: int) -> None:
    history = [r for r in HISTORY if r.ts <= format_ts(now)]
    assert compute_stats(make_bank(), history, now).streak_days == expected


def test_streak_counts_utc_days_not_24_hour_spans() -> None:
    days = {day(0).date(), day(1).date()}
    late = datetime(2026, 1, 2, 23, 59, tzinfo=UTC)
    assert streak(days, late) == 2
    assert streak(days, late.astimezone(timezone(timedelta(hours=5)))) == 2  # Jan 3 there


def test_an_unrated_open_answer_keeps_the_streak_but_has_no_score() -> None:
    history = [*HISTORY, answer("sft-b", day(5), 0, kind="open", topic="sft")]
    stats = compute_stats(make_bank(), history, day(5, 10))
    assert stats.streak_days == 3
    assert stats.total_answered == 8
    assert stats.trend[-1].date == "2026-01-05"


def test_an_interrupted_grading_keeps_the_streak_but_has_no_score() -> None:
    interrupted = answer("rag-c", day(5), 0)._replace(verdict=UNGRADED)
    stats = compute_stats(make_bank(), [*HISTORY, interrupted], day(5, 10))
    assert stats.streak_days == 3
    assert stats.total_answered == 8
    assert stats.trend[-1].date == "2026-01-05"  # no score on Jan 6: no trend point
    rag = stats.topics[0]
    assert (rag.answered, rag.mastery) == (2, round((100 + 100 + 0) / 3, 1))


def test_one_topic() -> None:
    stats = compute_stats(make_bank(), HISTORY, NOW, topic="rag")
    assert [t.topic for t in stats.topics] == ["rag"]
    assert {w.id for w in stats.weakest} == {"rag-a", "rag-b"}
    assert stats.total_answered == 6  # the removed question's record says topic "rag"
    assert stats.streak_days == 1  # rag: Jan 1, 2 and 5
    assert stats.confidence.pairs == 2


def test_unknown_topic_is_an_error() -> None:
    with pytest.raises(UnknownTopicError, match="nope"):
        compute_stats(make_bank(), HISTORY, NOW, topic="nope")


def test_empty_history() -> None:
    stats = compute_stats(make_bank(), [], NOW)
    assert [(t.answered, t.mean_score, t.mastery, t.due, t.override_rate) for t in stats.topics] == [
        (0, None, 0.0, 0, None),
        (0, None, 0.0, 0, None),
    ]
    assert (stats.weakest, stats.trend, stats.streak_days, stats.total_answered) == ((), (), 0, 0)
    assert stats.confidence.mean_self is None
    json.dumps(stats.to_dict())


def test_stats_json_has_the_contract_shape(stats) -> None:
    data = json.loads(json.dumps(stats.to_dict()))
    assert {"topics", "weakest", "streak_days", "trend"} <= set(data)
    assert {"topic", "answered", "mean_score", "mastery", "due"} <= set(data["topics"][0])
    assert set(data["weakest"][0]) >= {"id", "mean_score"}
    assert set(data["trend"][0]) >= {"date", "mean_score", "answered"}
    assert isinstance(data["streak_days"], int)
    assert {"confidence", "overrides", "total_answered"} <= set(data)
    assert {"override_rate", "overrides"} <= set(data["topics"][0])


def test_topic_summaries_for_topics_json() -> None:
    summaries = topic_summaries(make_bank(), HISTORY, NOW)
    rows = json.loads(json.dumps([s.to_dict() for s in summaries]))
    assert [row["topic"] for row in rows] == ["rag", "sft"]
    assert {"topic", "title", "questions", "answered", "mastery", "due"} <= set(rows[0])
    assert summaries == list(compute_stats(make_bank(), HISTORY, NOW).topics)


def test_editing_question_text_keeps_stats() -> None:
    edited = make_bank(text="Reworded: explain {} in your own words.")
    assert compute_stats(edited, HISTORY, NOW) == compute_stats(make_bank(), HISTORY, NOW)


# --- the time budget --------------------------------------------------------------------


def big_history(answers: int, questions: list[Question], seed: int = 11) -> list[HistoryRecord]:
    rng = random.Random(seed)
    when = datetime(2023, 1, 1, tzinfo=UTC)
    records = []
    for _ in range(answers):
        when += timedelta(seconds=rng.randint(60, 1800))
        q = rng.choice(questions)
        records.append(
            answer(
                q.id,
                when,
                rng.randint(0, 100),
                self_rating=rng.choice((None, None, 1, 2, 3, 4, 5)),
                override=rng.choice((None,) * 18 + ("correct", "incorrect")),
                topic=q.topic,
            )
        )
    return records


def test_stats_over_100k_answers_is_fast(tmp_path) -> None:
    """A gross-regression guard: the first run after a cache loss replays every answer through fsrs."""
    topics = tuple(
        Topic(f"t{t}", f"Topic {t}", "", tuple(Question(f"t{t}-q{n}", f"t{t}", "?", "!") for n in range(25)))
        for t in range(10)
    )
    bank = Bank(topics)
    records = big_history(100_000, bank.questions)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    cold = compute_stats(bank, records, now, cache=CardCache(tmp_path))
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    stats = compute_stats(bank, records, now, cache=CardCache(tmp_path))  # the cards kept on disk
    elapsed = time.perf_counter() - started
    assert stats == cold
    assert stats.total_answered == 100_000
    assert cold_s < 20.0, f"compute_stats after a cache loss took {cold_s:.2f} s"  # about 3 s here
    assert elapsed < 3.0, f"compute_stats took {elapsed:.2f} s"  # about 0.3-0.4 s on a laptop


def test_stats_json_is_the_same_with_the_card_cache_kept_or_lost(llmquiz_home: Path) -> None:
    from typer.testing import CliRunner

    from llmquiz.cli import app

    history = [answer("rag-what-is", day(n), 30 + 10 * n, topic="rag") for n in range(6)]
    history += [answer("rag-pipeline-steps", day(n, 5), 90, topic="rag") for n in range(3)]
    llmquiz_home.mkdir(mode=0o700)
    lines = [json.dumps(r.to_dict()) for r in history]
    (llmquiz_home / "history.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["stats", "--json"])
    assert first.exit_code == 0, first.output
    assert (llmquiz_home / "cache" / "cards.json").is_file()
    kept = runner.invoke(app, ["stats", "--json"])
    (llmquiz_home / "cache" / "cards.json").unlink()
    lost = runner.invoke(app, ["stats", "--json"])
    assert json.loads(first.stdout) == json.loads(kept.stdout) == json.loads(lost.stdout)
    assert json.loads(first.stdout)["topics"]
