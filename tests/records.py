"""Hand-made history records for scheduler and stats tests."""

from __future__ import annotations

from datetime import datetime

from llmquiz.history import HistoryRecord, format_ts

# The fields the contract promises in every history record.
CONTRACT_FIELDS = frozenset(
    {
        "ts",
        "session",
        "mode",
        "question_id",
        "topic",
        "answer",
        "score",
        "verdict",
        "self_rating",
        "missed",
        "grader",
    }
)


def answer(
    qid: str,
    when: datetime,
    score: int,
    self_rating: int | None = None,
    override: str | None = None,
    kind: str = "free",
    topic: str = "rag",
) -> HistoryRecord:
    """One answer to question `qid` at `when`, as the history would hold it."""
    return HistoryRecord(
        ts=format_ts(when),
        session="s",
        mode="quiz",
        question_id=qid,
        topic=topic,
        answer="...",
        score=score,
        verdict="",
        self_rating=self_rating,
        override=override,
        kind=kind,
    )
