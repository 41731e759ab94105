"""topics, stats and history: read the bank and the history, compute, return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmquiz.errors import warn
from llmquiz.history import HistoryRecord, read_history, utc_now
from llmquiz.settings import Settings

if TYPE_CHECKING:
    from llmquiz.stats import Stats


def history_records(settings: Settings) -> list[HistoryRecord]:
    """The history's good records, oldest first; damaged lines are reported as warnings."""
    log = read_history(settings.home)
    for warning in log.warnings:
        warn(warning)
    return log.records


def topic_rows(settings: Settings) -> list[dict[str, Any]]:
    from llmquiz.stats import topic_summaries

    bank = settings.bank()
    rows = []
    for summary in topic_summaries(bank, history_records(settings), utc_now()):
        rows.append(
            {
                "topic": summary.topic,
                "title": summary.title,
                "questions": summary.questions,
                "answered": summary.answered,
                "mastery": summary.mastery,
                "due": summary.due,
            }
        )
    return rows


def compute_user_stats(settings: Settings, topic: str | None) -> Stats:
    from llmquiz.stats import compute_stats

    return compute_stats(settings.bank(), history_records(settings), utc_now(), topic=topic)


def recent_records(settings: Settings, limit: int) -> list[HistoryRecord]:
    records = history_records(settings)
    return records[::-1][:limit]
