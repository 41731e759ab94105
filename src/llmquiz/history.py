"""The answer history: JSON Lines, appended whole under a lock, never rewritten."""

from __future__ import annotations

import gc
import json
import math
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from llmquiz.bank import Question
from llmquiz.errors import BadInputError
from llmquiz.historyfile import (
    UnsafeHistoryError,
    append_line,
    backward_lines,
    forward_lines,
    line_numbers,
    open_history,
)
from llmquiz.paths import history_file
from llmquiz.safetext import storable_text

FORMAT_VERSION = 1
UNRATED = "unrated"  # an open question the learner did not rate: no score
UNGRADED = "ungraded"  # an answer whose grading was interrupted: kept, but no score
CUT_OFF = "cut-off"  # text typed but not sent when an exam's time ran out: kept, no score
SELF_RATINGS = (1, 2, 3, 4, 5)

OVERRIDES = ("correct", "incorrect")
# a record outside these is damaged: dates nobody answered on, that date arithmetic cannot reach
OLDEST = datetime(1970, 1, 1, tzinfo=UTC)
NEWEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_SCORE = 100
MAX_ELAPSED_S = 10**9


class HistoryRecord(NamedTuple):
    """One graded answer. `score` is always the automatic score; the learner's view sits beside it.

    A NamedTuple rather than a dataclass: `stats` builds 100,000 of these, and tuples are
    several times cheaper to construct.
    """

    ts: str
    session: str
    mode: str
    question_id: str
    topic: str
    answer: str
    score: int
    verdict: str
    self_rating: int | None = None
    missed: tuple[str, ...] = ()
    grader: str = ""
    override: str | None = None
    kind: str = "free"
    elapsed_s: float | None = None
    v: int = FORMAT_VERSION
    extra: dict[str, Any] | None = None  # keys written by other versions, kept as they are

    @property
    def effective_score(self) -> int:
        return effective_score(self.score, self.override)

    def to_dict(self) -> dict[str, Any]:
        data = self._asdict()
        extra = data.pop("extra") or {}
        data["missed"] = list(self.missed)
        return {**extra, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryRecord:
        """A record from its JSON object; raises KeyError / ValueError / TypeError if damaged.

        The rule for what a record is: every line of the history is read through it.
        """
        (ts, session, mode, question_id, topic, answer, score, verdict,
         rating, missed, grader, override, kind, elapsed_s, v) = _fields_with_defaults(data)  # fmt: skip
        check_ts(ts)
        score = int(score)  # OverflowError for an infinite score: damaged too
        if not 0 <= score <= MAX_SCORE:
            raise ValueError(f"score {score} is not 0-{MAX_SCORE}")
        if rating is not None and rating not in SELF_RATINGS:
            raise ValueError(f"self_rating {rating!r} is not 1-5")
        if missed is None:
            missed = ()
        elif missed.__class__ is not list and missed.__class__ is not tuple:
            raise ValueError("missed is not a list")
        if override is not None and override not in OVERRIDES:
            override = None
        if elapsed_s is not None and not _is_duration(elapsed_s):
            raise ValueError(f"elapsed_s {elapsed_s!r} is not a number of seconds")
        if v.__class__ is not int:
            raise ValueError(f"format version {v!r} is not a number")
        texts = (session, mode, question_id, topic, answer, verdict, grader, kind)
        session, mode, question_id, topic, answer, verdict, grader, kind = map(str, texts)
        return cls(ts, session, mode, question_id, topic, answer, score, verdict, rating,
                   tuple(map(str, missed)), grader, override, kind, elapsed_s, v, _extra(data))  # fmt: skip


def _is_duration(value: Any) -> bool:
    return value.__class__ in (int, float) and math.isfinite(value) and 0 <= value <= MAX_ELAPSED_S


def check_ts(ts: Any) -> datetime:
    """A history timestamp as aware UTC; ValueError (TypeError) unless it is one in OLDEST-NEWEST."""
    try:
        moment = parse_ts(ts)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first moment UTC can hold
        raise ValueError(f"timestamp {ts!r} is out of range") from None
    if not OLDEST <= moment < NEWEST:
        raise ValueError(f"timestamp {ts!r} is out of range")
    return moment


_STORED_FIELDS = frozenset(f for f in HistoryRecord._fields if f != "extra")  # what a line holds


def _fields_with_defaults(data: dict[str, Any]) -> tuple[Any, ...]:
    """Every field's value, its default where the record has none; KeyError for a required one."""
    get = data.get
    return tuple(
        data[name] if default is _REQUIRED else get(name, default) for name, default in _LINE_DEFAULTS
    )


def _extra(data: dict[str, Any]) -> dict[str, Any] | None:
    """Keys written by other versions, kept as they are."""
    return {k: v for k, v in data.items() if k not in _STORED_FIELDS} or None


def answer_record(
    question: Question,
    answer: str,
    *,
    session: str,
    mode: str,
    score: int,
    verdict: str,
    missed: Sequence[str],
    grader: str,
    when: datetime | None = None,
    **learner: Any,
) -> HistoryRecord:
    """The history record of one answer to a bank question (learner: self_rating, override, elapsed_s)."""
    return HistoryRecord(
        ts=format_ts(when or utc_now()),
        session=session,
        mode=mode,
        question_id=question.id,
        topic=question.topic,
        answer=storable_text(answer),
        score=score,
        verdict=verdict,
        missed=tuple(missed),
        grader=grader,
        kind=question.kind,
        **learner,
    )


def effective_score(score: int, override: str | None) -> int:
    """The score the learner stands by: an override replaces the automatic score here only."""
    if override == "correct":
        return 100
    if override == "incorrect":
        return 0
    return score


def self_rating_score(rating: int) -> int:
    """A 1-5 self-rating on the 0-100 score scale: 1 -> 0, 3 -> 50, 5 -> 100."""
    return (rating - 1) * 25


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_ts(text: str) -> datetime:
    """A history timestamp as an aware UTC datetime; a naive one means UTC."""
    moment = datetime.fromisoformat(text)  # Python 3.11+ reads a trailing "Z" too
    if moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def append_record(home: Path, record: HistoryRecord) -> None:
    """Append one record whole (see historyfile.append_line); never through a symlink."""
    line = json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        append_line(home, line.encode("utf-8"))  # UnsafeHistoryError for a symlink or a FIFO
    except OSError as exc:
        raise BadInputError(
            f"{history_file(home)}: cannot write the history: {exc.strerror or exc}"
        ) from None


@dataclass(frozen=True)
class HistoryLog:
    """What was read from the history: the good records (oldest first) and warnings."""

    records: list[HistoryRecord]
    warnings: list[str]


def damage_warnings(path: Path, numbers: Sequence[int]) -> list[str]:
    """One warning for all the damaged lines of a read, naming the first FILE:LINE."""
    if not numbers:
        return []
    if len(numbers) == 1:
        return [f"{path}:{numbers[0]}: damaged record skipped"]
    shown = ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")
    return [f"{path}:{numbers[0]}: {len(numbers):,} damaged records skipped (lines {shown})"]


def _opened(home: Path) -> tuple[int | None, list[str]]:
    try:
        return open_history(home, append=False), []
    except UnsafeHistoryError as exc:
        return None, [f"{exc}; not read"]
    except OSError as exc:
        return None, [f"{history_file(home)}: cannot read the history: {exc.strerror or exc}"]


def read_history(home: Path) -> HistoryLog:
    """Read every record; damaged lines are skipped with one warning, never rewritten."""
    fd, warnings = _opened(home)
    if fd is None:
        return HistoryLog([], warnings)
    records: list[HistoryRecord] = []
    damaged: list[int] = []
    try:
        _parse_lines(forward_lines(fd), 1, records, damaged)
    except OSError as exc:
        warnings.append(f"{history_file(home)}: cannot read the history: {exc.strerror or exc}")
    finally:
        os.close(fd)
    return HistoryLog(records, warnings + damage_warnings(history_file(home), damaged))


def read_recent(home: Path, limit: int) -> HistoryLog:
    """The newest `limit` good records, newest first, read from the end of the file.

    Only the lines needed are read (and line numbers are counted only for damaged ones),
    so `history --limit 5` over a 1 GB history reads a few blocks.
    """
    fd, warnings = _opened(home)
    if fd is None:
        return HistoryLog([], warnings)
    records: list[HistoryRecord] = []
    damaged: list[int] = []  # offsets, until they are turned into line numbers
    try:
        for offset, line in backward_lines(fd):
            if len(records) >= limit:
                break
            bad: list[int] = []
            _parse_lines([line], 1, records, bad)
            if bad:
                damaged.append(offset)
        numbers = line_numbers(fd, damaged)
    except OSError as exc:
        return HistoryLog(records, [*warnings, f"{history_file(home)}: cannot read the history: {exc}"])
    finally:
        os.close(fd)
    ordered = sorted(numbers[offset] for offset in damaged)
    return HistoryLog(records, warnings + damage_warnings(history_file(home), ordered))


_REQUIRED = object()
# a line's keys in the order a record holds them, with the default of each optional one
_LINE_DEFAULTS = (
    ("ts", _REQUIRED),
    ("session", ""),
    ("mode", ""),
    ("question_id", _REQUIRED),
    ("topic", ""),
    ("answer", ""),
    ("score", _REQUIRED),
    ("verdict", ""),
    ("self_rating", None),
    ("missed", ()),
    ("grader", ""),
    ("override", None),
    ("kind", "free"),
    ("elapsed_s", None),
    ("v", FORMAT_VERSION),
)


def _parse_lines(
    lines: Iterable[bytes | None], first_line: int, records: list[HistoryRecord], damaged: list[int]
) -> None:
    """Append the good records of these lines to `records`, damaged line numbers to `damaged`."""
    keep, parse, build = records.append, msgspec.json.decode, HistoryRecord.from_dict
    for number, line in enumerate(lines, start=first_line):
        if line is None:  # longer than historyfile.MAX_LINE_BYTES
            damaged.append(number)
            continue
        if not line or line.isspace():
            continue
        try:
            data = parse(line)
            if data.__class__ is not dict:
                raise ValueError("not an object")
            keep(build(data))
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
            damaged.append(number)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while building many small objects that form no cycles.

    Over 100,000 records the collector would run again and again, rescanning every record
    built so far. It is switched back on (if it was on) even when an exception escapes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
