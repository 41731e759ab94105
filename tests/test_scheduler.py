"""Spaced repetition: ratings, cards derived from the history as fsrs says, drill order, drills."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from fsrs import Rating
from hypothesis import given, settings
from hypothesis import strategies as st

from llmquiz.bank import Question
from llmquiz.cardcache import CardCache
from llmquiz.errors import BadInputError
from llmquiz.history import UNGRADED, HistoryRecord
from llmquiz.scheduler import (
    DrillQueue,
    build_cards,
    drill_order,
    due_questions,
    graded_score,
    rating_for,
    utc_time,
)

from .records import answer

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def at(days: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def question(qid: str, topic: str = "rag", text: str = "What is it?") -> Question:
    return Question(id=qid, topic=topic, question=text, answer="It is.")


def fsrs_card(reviews: Sequence[tuple[datetime, Rating]]) -> fsrs.Card:
    """What fsrs itself makes of a review sequence: the expectation of every replay test."""
    schedule = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card(card_id=1, due=reviews[0][0])
    for when, rating in reviews:
        card, _ = schedule.review_card(card, rating, when)
    return card


# --- the rating mapping -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "self_rating", "override", "expected"),
    [
        pytest.param(0, None, None, Rating.Again, id="score-0-again"),
        pytest.param(39, None, None, Rating.Again, id="score-39-again"),
        pytest.param(40, None, None, Rating.Hard, id="score-40-hard"),
        pytest.param(69, None, None, Rating.Hard, id="score-69-hard"),
        pytest.param(70, None, None, Rating.Good, id="score-70-good"),
        pytest.param(89, None, None, Rating.Good, id="score-89-good"),
        pytest.param(90, None, None, Rating.Easy, id="score-90-easy"),
        pytest.param(100, None, None, Rating.Easy, id="score-100-easy"),
        pytest.param(20, None, "correct", Rating.Easy, id="override-correct-is-100"),
        pytest.param(95, None, "incorrect", Rating.Again, id="override-incorrect-again"),
        pytest.param(95, 5, "incorrect", Rating.Again, id="override-incorrect-beats-self"),
        pytest.param(95, 1, None, Rating.Again, id="self-1-again-despite-grader"),
        pytest.param(95, 2, None, Rating.Hard, id="self-2-hard"),
        pytest.param(10, 3, None, Rating.Good, id="self-3-good-despite-grader"),
        pytest.param(80, 4, None, Rating.Easy, id="self-4-easy"),
        pytest.param(40, 5, None, Rating.Easy, id="self-5-easy-at-40"),
        pytest.param(39, 5, None, Rating.Good, id="self-5-capped-below-40"),
        pytest.param(39, 4, None, Rating.Good, id="self-4-capped-below-40"),
        pytest.param(10, 5, "correct", Rating.Easy, id="self-5-override-lifts-cap"),
        pytest.param(90, 1, "correct", Rating.Again, id="self-1-with-override-correct"),
    ],
)
def test_rating_mapping(score: int, self_rating: int | None, override: str | None, expected: Rating) -> None:
    assert rating_for(score, self_rating, override) == expected


@pytest.mark.parametrize("bad", [pytest.param(0, id="zero"), pytest.param(6, id="six")])
def test_rating_rejects_self_rating_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError, match="1-5"):
        rating_for(50, bad, None)


@pytest.mark.parametrize(
    ("record", "score", "rating"),
    [
        pytest.param(answer("q", T0, 75), 75, Rating.Good, id="auto-graded"),
        pytest.param(answer("q", T0, 30, override="correct"), 100, Rating.Easy, id="override-correct"),
        pytest.param(answer("q", T0, 80, override="incorrect"), 0, Rating.Again, id="override-incorrect"),
        pytest.param(answer("q", T0, 0, 4, kind="open"), 75, Rating.Easy, id="open-self-4"),
        pytest.param(answer("q", T0, 0, 2, kind="open"), 25, Rating.Hard, id="open-self-2"),
        pytest.param(answer("q", T0, 0, kind="open"), None, None, id="open-unrated-no-review"),
        pytest.param(answer("q", T0, 60, 9), 60, Rating.Hard, id="damaged-self-rating-ignored"),
    ],
)
def test_record_score_and_rating(record: HistoryRecord, score: int | None, rating: Rating | None) -> None:
    assert graded_score(record) == score
    cards = build_cards([record])  # the rating, as fsrs schedules it: no card for no review
    if rating is None:
        assert cards == {}
    else:
        assert cards["q"].due == fsrs_card([(T0, rating)]).due


@pytest.mark.parametrize(
    "ts",
    [
        pytest.param("2026-01-01T09:00:00Z", id="z"),
        pytest.param("2026-01-01T09:00:00+00:00", id="offset-zero"),
        pytest.param("2026-01-01T10:00:00+01:00", id="other-offset"),
        pytest.param("2026-01-01T09:00:00", id="naive-means-utc"),
    ],
)
def test_timestamps_become_utc(ts: str) -> None:
    moment = utc_time(ts)
    assert moment == T0
    assert moment.tzinfo is UTC


# --- cards from a scripted two-week history ---------------------------------------------

# (question, day, minute, automatic score, self-rating, override, the rating the table gives)
SCRIPT = [
    ("strong", 0, 0, 95, None, None, Rating.Easy),
    ("strong", 3, 0, 92, None, None, Rating.Easy),
    ("strong", 10, 0, 96, 4, None, Rating.Easy),
    ("weak", 0, 5, 20, None, None, Rating.Again),
    ("weak", 0, 15, 50, None, None, Rating.Hard),  # back within the same drill
    ("weak", 1, 0, 30, 2, None, Rating.Hard),
    ("weak", 2, 0, 75, None, None, Rating.Good),
    ("weak", 6, 0, 80, 3, None, Rating.Good),
    ("weak", 13, 0, 35, None, None, Rating.Again),
    ("mixed", 0, 10, 80, 2, None, Rating.Hard),
    ("mixed", 4, 0, 30, 5, None, Rating.Good),  # confident, but the grader says no: capped
    ("mixed", 9, 0, 35, None, "correct", Rating.Easy),
    ("mixed", 12, 30, 90, 1, None, Rating.Again),
    ("late", 11, 0, 60, None, None, Rating.Hard),
]
OPEN_SCRIPT = [("opinion", 1, 0, 3, Rating.Good), ("opinion", 8, 0, 5, Rating.Easy)]
BANK = [question(q) for q in ("strong", "weak", "mixed", "late", "opinion", "never", "unseen")]
NOW = at(14)


def scripted_history() -> list[HistoryRecord]:
    records = [
        answer(qid, at(day, minute), score, own, override)
        for qid, day, minute, score, own, override, _ in SCRIPT
    ]
    records += [answer(qid, at(day, minute), 0, own, kind="open") for qid, day, minute, own, _ in OPEN_SCRIPT]
    return sorted(records, key=lambda r: r.ts)


def expected_cards(until: datetime) -> dict[str, fsrs.Card]:
    """The script's ratings (written out above, not computed) fed to fsrs directly."""
    reviews: dict[str, list[tuple[datetime, Rating]]] = {}
    for qid, day, minute, *_, rating in SCRIPT:
        reviews.setdefault(qid, []).append((at(day, minute), rating))
    for qid, day, minute, _, rating in OPEN_SCRIPT:
        reviews.setdefault(qid, []).append((at(day, minute), rating))
    cards = {}
    for qid, sequence in reviews.items():
        done = [(when, rating) for when, rating in sorted(sequence) if when <= until]
        if done:
            cards[qid] = fsrs_card(done)
    return cards


@pytest.mark.parametrize("day", [pytest.param(d, id=f"day-{d:02d}") for d in range(15)])
def test_cards_match_fsrs_every_day_of_two_weeks(day: int) -> None:
    now = at(day, 23 * 60)
    history = [r for r in scripted_history() if utc_time(r.ts) <= now]
    cards = build_cards(history)
    expected = expected_cards(now)
    assert set(cards) == set(expected)
    for qid, card in cards.items():
        want = expected[qid]
        assert (card.due, card.stability, card.difficulty) == (want.due, want.stability, want.difficulty)
        assert card.last_review == want.last_review
        assert card.state == want.state.name.lower()


def test_due_questions_follow_fsrs_due_dates() -> None:
    expected = expected_cards(NOW)
    want = sorted((qid for qid, card in expected.items() if card.due <= NOW), key=lambda q: expected[q].due)
    got = [q.id for q in due_questions(BANK, scripted_history(), NOW)]
    assert got == want
    assert "never" not in got and "unseen" not in got  # new, not due


def test_card_counts_reviews_and_last_score() -> None:
    cards = build_cards(scripted_history())
    assert cards["weak"].reviews == 6
    assert cards["weak"].last_score == 35
    assert cards["mixed"].last_score == 90
    assert cards["opinion"].last_score == 100  # self-rating 5 on the 0-100 scale
    assert "never" not in cards


def test_after_again_the_card_is_due_within_a_day() -> None:
    card = build_cards([answer("q", T0, 10)])["q"]
    assert T0 < card.due <= T0 + timedelta(days=1)
    lapse = build_cards(scripted_history())["weak"]  # Again on day 13
    assert lapse.due <= at(13) + timedelta(days=1)
    assert lapse.state == "relearning"


def test_easy_first_answer_waits_days() -> None:
    card = build_cards([answer("q", T0, 100)])["q"]
    assert card.state == "review"
    assert card.due >= T0 + timedelta(days=2)


def test_unrated_open_answers_are_not_reviews() -> None:
    history = [answer("q", T0, 0, kind="open"), answer("q", at(1), 0, 3, kind="open")]
    card = build_cards(history)["q"]
    assert card.reviews == 1
    assert card.due == fsrs_card([(at(1), Rating.Good)]).due


def test_interrupted_gradings_are_not_reviews() -> None:
    interrupted = answer("q", at(1), 0)._replace(verdict=UNGRADED)
    card = build_cards([answer("q", T0, 80), interrupted])["q"]
    assert card.reviews == 1
    assert card.last_score == 80


def test_history_order_does_not_matter() -> None:
    history = scripted_history()
    assert build_cards(list(reversed(history))) == build_cards(history)


def test_editing_question_text_keeps_progress() -> None:
    edited = [question(q.id, text=f"Reworded: {q.id}?") for q in BANK]
    history = scripted_history()
    assert [q.id for q in due_questions(edited, history, NOW)] == [
        q.id for q in due_questions(BANK, history, NOW)
    ]
    before = [q.id for q in drill_order(BANK, history, NOW, random.Random(7))]
    after = [q.id for q in drill_order(edited, history, NOW, random.Random(7))]
    assert before == after


# --- drill order ------------------------------------------------------------------------


def documented_key(qid: str, now: datetime) -> float:
    """The ordering key as the docstring states it, from the script and fsrs's due dates."""
    scores = [
        100 if override == "correct" else (own - 1) * 25 if kind_open else score
        for kind_open, (q, day, minute, score, own, override) in _script_scores()
        if q == qid and at(day, minute) <= now
    ]
    card = expected_cards(now).get(qid)
    if not scores or card is None:
        return 0.0
    recent = scores[-3:]
    return sum(recent) / len(recent) - (20 if card.due <= now else 0)


def _script_scores() -> list[tuple[bool, tuple[str, int, int, int, int | None, str | None]]]:
    rows = [(False, (q, d, m, s, o, v)) for q, d, m, s, o, v, _ in SCRIPT]
    rows += [(True, (q, d, m, 0, o, None)) for q, d, m, o, _ in OPEN_SCRIPT]
    return sorted(rows, key=lambda row: at(row[1][1], row[1][2]))


def test_drill_order_follows_the_documented_key() -> None:
    order = [q.id for q in drill_order(BANK, scripted_history(), NOW, random.Random(1))]
    keys = [documented_key(qid, NOW) for qid in order]
    assert keys == sorted(keys)
    assert keys[-1] == documented_key("strong", NOW)


def test_drill_order_puts_weak_and_new_before_strong() -> None:
    order = [q.id for q in drill_order(BANK, scripted_history(), NOW, random.Random(3))]
    assert order.index("strong") > max(order.index("never"), order.index("unseen"), order.index("weak"))
    assert order[-1] == "strong"


def test_drill_order_ties_are_broken_by_the_seed() -> None:
    fresh = [question(f"new-{n}") for n in range(8)]
    first = [q.id for q in drill_order(fresh, [], NOW, random.Random(5))]
    again = [q.id for q in drill_order(fresh, [], NOW, random.Random(5))]
    other = [q.id for q in drill_order(fresh, [], NOW, random.Random(6))]
    assert first == again
    assert first != other
    assert sorted(first) == sorted(q.id for q in fresh)


def test_drill_order_puts_due_before_equally_weak_not_due() -> None:
    history = [answer("due", at(0), 60), answer("fresh", NOW - timedelta(minutes=1), 60)]
    order = drill_order([question("fresh"), question("due")], history, NOW, random.Random(0))
    assert [q.id for q in order] == ["due", "fresh"]


# --- the drill queue --------------------------------------------------------------------


def run_drill(queue: DrillQueue, misses: dict[str, int]) -> list[str]:
    """Ask until the queue runs dry; a question in `misses` fails that many times, then passes."""
    asked: list[str] = []
    while (current := queue.next()) is not None:
        asked.append(current.id)
        failing = misses.get(current.id, 0) > 0
        misses[current.id] = misses.get(current.id, 0) - 1
        queue.report(current, 20 if failing else 90)
    return asked


LETTERS = [question(letter) for letter in "abcdefg"]


@pytest.mark.parametrize(
    ("count", "misses", "expected"),
    [
        pytest.param(4, {}, "abcd", id="all-right"),
        pytest.param(6, {"a": 1}, "abcdaef", id="miss-comes-back-after-three"),
        pytest.param(6, {"a": 5}, "abcdaefa", id="at-most-two-returns"),
        pytest.param(3, {"c": 1}, "abcc", id="miss-at-the-end"),
        pytest.param(5, {"b": 1, "c": 1}, "abcdebc", id="two-misses"),
        pytest.param(20, {}, "abcdefg", id="count-above-bank"),
    ],
)
def test_drill_queue(count: int, misses: dict[str, int], expected: str) -> None:
    # "abcdaefa": after two returns "a" is not sent back again however often it fails
    queue = DrillQueue(LETTERS, count)
    assert "".join(run_drill(queue, dict(misses))) == expected
    assert queue.next() is None


def test_drill_queue_partial_score_counts_as_missed_below_70() -> None:
    queue = DrillQueue(LETTERS, 2, requeue_gap=0)
    first = queue.next()
    assert first is not None
    queue.report(first, 69)
    assert queue.next() == first
    queue.report(first, 70)
    assert [queue.next(), queue.next()] == [LETTERS[1], None]


def test_drill_queue_drops_duplicates_and_rejects_bad_count() -> None:
    queue = DrillQueue([LETTERS[0], LETTERS[1], LETTERS[0]], 5)
    assert sorted(run_drill(queue, {})) == ["a", "b"]  # each once
    with pytest.raises(BadInputError, match="count"):
        DrillQueue(LETTERS, 0)


# --- cards agree with fsrs, replayed whole or from the card cache ------------------------

SCORE_OF = {Rating.Again: 0, Rating.Hard: 50, Rating.Good: 80, Rating.Easy: 95}
GAPS = st.one_of(
    st.integers(0, 600),  # seconds: the same drill
    st.integers(600, 86_400 * 2),  # hours to two days
    st.integers(86_400, 86_400 * 400),  # days to a year
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(GAPS, st.sampled_from(list(Rating))), min_size=1, max_size=40),
    st.integers(0, 40),
)
def test_replay_agrees_with_fsrs_to_the_bit(steps: list[tuple[int, Rating]], kept: int) -> None:
    """Also when the first `kept` answers' card comes from the cache and only the rest are replayed."""
    when, reviews = T0, []
    for gap, rating in steps:
        when += timedelta(seconds=gap)
        reviews.append((when, rating))
    history = [answer("q", moment, SCORE_OF[rating]) for moment, rating in reviews]
    cache = CardCache(None)
    if history[:kept]:
        build_cards(history[:kept], cache)
    card, want = build_cards(history, cache)["q"], fsrs_card(reviews)
    assert (card.due, card.stability, card.difficulty) == (want.due, want.stability, want.difficulty)
    assert card.state == want.state.name.lower()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda h: h, id="unchanged"),
        pytest.param(lambda h: [*h, answer("strong", at(13), 20), answer("new", at(13), 90)], id="appended"),
        pytest.param(lambda h: [answer("strong", at(-1), 10), *h], id="an-earlier-answer"),
        pytest.param(lambda h: h[1:], id="first-answer-gone"),
    ],
)
def test_kept_cards_are_the_cards_of_a_full_replay(tmp_path, change) -> None:
    history = scripted_history()
    build_cards(history, CardCache(tmp_path))  # keeps the cards in tmp_path/cache
    assert (tmp_path / "cache" / "cards.json").is_file()
    changed = change(history)
    assert build_cards(changed, CardCache(tmp_path)) == build_cards(changed)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b'{"stamp": "other fsrs", "cards": {}}', id="other-fsrs"),
        pytest.param(b"[1, 2]", id="not-an-object"),
    ],
)
def test_a_damaged_or_foreign_cache_is_replayed_away(tmp_path, content: bytes) -> None:
    history = scripted_history()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "cards.json").write_bytes(content)
    assert build_cards(history, CardCache(tmp_path)) == build_cards(history)
    assert build_cards(history, CardCache(tmp_path)) == build_cards(history)  # and rewritten


def test_damaged_entries_are_replayed(tmp_path) -> None:
    history = scripted_history()
    build_cards(history, CardCache(tmp_path))
    path = tmp_path / "cache" / "cards.json"
    data = json.loads(path.read_text())
    data["cards"]["strong"] = [2, "x", {}]
    data["cards"]["weak"][2] = {"state": 99}
    path.write_text(json.dumps(data))
    assert build_cards(history, CardCache(tmp_path)) == build_cards(history)
