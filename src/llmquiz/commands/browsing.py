"""topics, list, show, stats and history: read the bank and the history, compute, return."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from llmquiz.context import Context
from llmquiz.history import HistoryRecord, gc_paused, read_history, read_recent, utc_now
from llmquiz.historyfile import privacy_warnings

if TYPE_CHECKING:
    from llmquiz.bank import Question, Topic
    from llmquiz.stats import Stats


Warn = Callable[[str], None]  # where warnings go: the CLI prints them on stderr


def history_records(context: Context, on_warning: Warn) -> list[HistoryRecord]:
    """The history's good records, oldest first; warnings (damage, privacy) go to `on_warning`."""
    log = read_history(context.home)
    for warning in [*privacy_warnings(context.home), *log.warnings]:
        on_warning(warning)
    return log.records


def check_privacy(context: Context, on_warning: Warn) -> None:
    """Warn when other users can read the data folder or the history (commands that only append)."""
    for warning in privacy_warnings(context.home):
        on_warning(warning)


@dataclass(frozen=True)
class TopicRow:
    """One line of `topics`."""

    topic: str
    title: str
    questions: int
    answered: int
    mastery: float
    due: int
    grader_mastery: float  # the mastery with disputed answers undisputed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def topic_rows(context: Context, on_warning: Warn) -> list[TopicRow]:
    from llmquiz.stats import topic_summaries

    bank = context.bank()
    with gc_paused():  # see compute_user_stats
        summaries = topic_summaries(bank, history_records(context, on_warning), utc_now(), context.cards())
    return [
        TopicRow(s.topic, s.title, s.questions, s.answered, s.mastery, s.due, s.grader_mastery)
        for s in summaries
    ]


@dataclass(frozen=True)
class QuestionRow:
    """One line of `list`."""

    id: str
    topic: str
    kind: str
    difficulty: str
    question: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def question_rows(context: Context, topics: Sequence[str]) -> list[QuestionRow]:
    """The bank's questions (of `topics`, if any), in bank order."""
    return [
        QuestionRow(q.id, q.topic, q.kind, q.difficulty, q.question) for q in context.bank().select(topics)
    ]


def question_detail(context: Context, question_id: str) -> tuple[Question, Topic]:
    """A question and its topic, for `show` (UnknownQuestionError with suggestions)."""
    bank = context.bank()
    question = bank.question(question_id)
    return question, bank.topic(question.topic)


def compute_user_stats(context: Context, topic: str | None, on_warning: Warn) -> Stats:
    from llmquiz.stats import compute_stats

    bank = context.bank()
    # No garbage collection until the records are gone again: none of them is in a cycle, and
    # the collector would otherwise walk all of them (100,000 records: 0.05 s) several times.
    with gc_paused():
        records = history_records(context, on_warning)
        return compute_stats(bank, records, utc_now(), topic=topic, cache=context.cards())


def recent_records(context: Context, limit: int, on_warning: Warn) -> list[HistoryRecord]:
    """The newest `limit` records, newest first, read from the end of the history."""
    log = read_recent(context.home, limit)
    for warning in [*privacy_warnings(context.home), *log.warnings]:
        on_warning(warning)
    return log.records
