"""FSRS cards replayed by fsrs itself, with a disposable cache of the cards already derived.

A question's card is the replay of its graded answers, oldest first, through
`fsrs.Scheduler(enable_fuzzing=False).review_card`. Replaying 100,000 answers that way takes
seconds, and the history only grows: so the card each question was left with is kept in
`<home>/cache/cards.json`, with how many answers it replays and a hash of them. The next
replay of that question starts from the kept card when its answers still begin with those
(the usual case: new answers are appended) and replays only the new ones; any other case
(an answer inserted earlier, a damaged line skipped, another fsrs or Python) replays it
from the start. The cache is only ever a shortcut: deleting it loses nothing.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import fsrs
from fsrs import Rating

from llmquiz.errors import InputFileError
from llmquiz.inputfiles import read_input_bytes
from llmquiz.outputfiles import write_private
from llmquiz.paths import cache_dir

if TYPE_CHECKING:
    from llmquiz.history import HistoryRecord

CACHE_NAME = "cards.json"
MAX_CACHE_BYTES = 256 * 1024**2


class GradedAnswer(NamedTuple):
    """One graded answer as the replay, the scheduler and the stats see it."""

    when: datetime  # UTC
    score: int  # graded_score
    rating: Rating
    record: HistoryRecord


_REVIEW = itemgetter(0, 2)  # (when, rating): all a replay reads of an answer


@cache
def _scheduler() -> fsrs.Scheduler:
    return fsrs.Scheduler(enable_fuzzing=False)


@cache
def _stamp() -> str:
    """What a kept card depends on besides the answers: the installed fsrs and hash()'s Python.

    fsrs's scheduler file by size and time stands for its version (importlib.metadata would
    add tens of milliseconds to every `stats`).
    """
    import fsrs.scheduler

    code = os.stat(fsrs.scheduler.__file__)
    return f"1 fsrs {code.st_size} {code.st_mtime_ns} {sys.implementation.name} {sys.version_info[:3]}"


def _digest(answers: Sequence[GradedAnswer]) -> int:
    # hash() of datetimes and ints is not salted per process (only str and bytes are)
    return hash(tuple(map(_REVIEW, answers)))


class CardCache:
    """The kept cards of one data folder (`home` None: kept in memory only, for this run)."""

    def __init__(self, home: Path | None) -> None:
        self._path = cache_dir(home) / CACHE_NAME if home is not None else None
        self._kept: dict[str, list[Any]] | None = None
        self._changed = False

    def card(self, question_id: str, answers: Sequence[GradedAnswer]) -> fsrs.Card:
        """The card `answers` (oldest first, at least one) leave behind."""
        kept = self._entries().get(question_id)
        start, card = 0, None
        if kept is not None:
            count, digest, stored = kept
            if count == len(answers) and digest == _digest(answers):
                return fsrs.Card.from_dict(stored)
            if count < len(answers) and digest == _digest(answers[:count]):
                start, card = count, fsrs.Card.from_dict(stored)
        card = replay(answers[start:], card)
        self._entries()[question_id] = [len(answers), _digest(answers), card.to_dict()]
        self._changed = True
        return card

    def save(self) -> None:
        """Keep the cards for the next run; a cache that cannot be written is simply not kept."""
        if self._path is None or not self._changed:
            return
        data = {"stamp": _stamp(), "cards": self._entries()}
        try:
            write_private(self._path, json.dumps(data, separators=(",", ":")).encode("utf-8"))
        except OSError:
            return
        self._changed = False

    def _entries(self) -> dict[str, list[Any]]:
        if self._kept is None:
            self._kept = self._read()
        return self._kept

    def _read(self) -> dict[str, list[Any]]:
        if self._path is None:
            return {}
        try:
            data = json.loads(read_input_bytes(self._path, MAX_CACHE_BYTES).decode("utf-8"))
        except (InputFileError, ValueError, RecursionError):  # missing, damaged, not a file
            return {}
        if (
            not isinstance(data, dict)
            or data.get("stamp") != _stamp()
            or not isinstance(data.get("cards"), dict)
        ):
            return {}
        return {qid: entry for qid, entry in data["cards"].items() if _well_formed(entry)}


def _well_formed(entry: Any) -> bool:
    if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], dict)):
        return False
    count, digest, card = entry
    if not (isinstance(count, int) and count > 0 and isinstance(digest, int)):
        return False
    try:
        fsrs.Card.from_dict(card)
    except (KeyError, TypeError, ValueError):
        return False
    return True


def replay(answers: Sequence[GradedAnswer], card: fsrs.Card | None = None) -> fsrs.Card:
    """fsrs's card after reviewing `answers` in order, from `card` (default: a new card)."""
    scheduler = _scheduler()
    if card is None:
        card = fsrs.Card(card_id=0, due=answers[0].when)
    for when, _score, rating, _record in answers:
        card, _ = scheduler.review_card(card, rating, when)
    return card
