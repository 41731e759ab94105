"""The answer history: JSON Lines, appended whole under a lock, never rewritten."""

from __future__ import annotations

import gc
import json
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import repeat
from operator import add, attrgetter
from pathlib import Path
from typing import Any, Literal, NamedTuple

import msgspec
from msgspec.structs import astuple

from llmquiz.bank import Question
from llmquiz.errors import BadInputError
from llmquiz.paths import ensure_private_dir, history_file

FORMAT_VERSION = 1
UNRATED = "unrated"  # an open question the learner did not rate: no score
UNGRADED = "ungraded"  # an answer whose grading was interrupted: kept, but no score
SELF_RATINGS = (1, 2, 3, 4, 5)

OVERRIDES = ("correct", "incorrect")


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
    def when(self) -> datetime:
        return parse_ts(self.ts)

    @property
    def effective_score(self) -> int:
        """The score the learner stands by: an override replaces the automatic score here only."""
        if self.override == "correct":
            return 100
        if self.override == "incorrect":
            return 0
        return self.score

    def to_dict(self) -> dict[str, Any]:
        data = self._asdict()
        extra = data.pop("extra") or {}
        data["missed"] = list(self.missed)
        return {**extra, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryRecord:
        """A record from its JSON object; raises KeyError / ValueError / TypeError if damaged.

        The rule for what a record is. `read_history` decodes lines as this version writes
        them faster in C (`_PlainLine`); every other line comes here.
        """
        (ts, session, mode, question_id, topic, answer, score, verdict,
         rating, missed, grader, override, kind, elapsed_s, v) = _fields_with_defaults(data)  # fmt: skip
        _from_iso(ts)  # a record with a timestamp nobody can read is damaged (TypeError, ValueError)
        score = int(score)
        if rating is not None and rating not in SELF_RATINGS:
            raise ValueError(f"self_rating {rating!r} is not 1-5")
        if missed is None:
            missed = ()
        elif missed.__class__ is not list and missed.__class__ is not tuple:
            raise ValueError("missed is not a list")
        if override is not None and override not in OVERRIDES:
            override = None
        texts = (session, mode, question_id, topic, answer, verdict, grader, kind)
        session, mode, question_id, topic, answer, verdict, grader, kind = map(str, texts)
        return cls(ts, session, mode, question_id, topic, answer, score, verdict, rating, tuple(missed),
                   grader, override, kind, elapsed_s, v, _extra(data))  # fmt: skip


_from_iso = datetime.fromisoformat
_STORED_FIELD_NAMES = tuple(f for f in HistoryRecord._fields if f != "extra")  # what a line holds
_STORED_FIELDS = frozenset(_STORED_FIELD_NAMES)


def _fields_with_defaults(data: dict[str, Any]) -> tuple[Any, ...]:
    """Every field's value, its default where the record has none; KeyError for a required one.

    The required fields and the defaults are `_PlainLine`'s, so both ways of reading agree.
    """
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
        answer=answer,
        score=score,
        verdict=verdict,
        missed=tuple(missed),
        grader=grader,
        kind=question.kind,
        **learner,
    )


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


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    """An exclusive advisory lock on an open file, for the length of one append."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        try:
            yield
        finally:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def append_record(home: Path, record: HistoryRecord) -> None:
    """Append one record whole: lock, one write, fsync. A torn last line is left as it is."""
    line = json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        _append_line(home, line.encode("utf-8"))
    except OSError as exc:
        raise BadInputError(
            f"{history_file(home)}: cannot write the history: {exc.strerror or exc}"
        ) from None


def _append_line(home: Path, payload: bytes) -> None:
    ensure_private_dir(home)
    fd = os.open(history_file(home), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        with _locked(fd):
            size = os.fstat(fd).st_size
            if size and _last_byte(home) != b"\n":
                payload = b"\n" + payload  # keep a torn line apart from this record
            written = os.write(fd, payload)
            while written < len(payload):  # pragma: no cover - partial writes are rare
                written += os.write(fd, payload[written:])
            os.fsync(fd)
    finally:
        os.close(fd)


def _last_byte(home: Path) -> bytes:
    with open(history_file(home), "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


@dataclass(frozen=True)
class HistoryLog:
    """What was read from the history: the good records (oldest first) and warnings."""

    records: list[HistoryRecord]
    warnings: list[str]


def read_history(home: Path) -> HistoryLog:
    """Read every record; a damaged line is skipped with a warning, never rewritten."""
    path = history_file(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return HistoryLog([], [])
    except OSError as exc:
        return HistoryLog([], [f"{path}: cannot read the history: {exc.strerror or exc}"])
    records: list[HistoryRecord] = []
    damaged: list[int] = []
    lines = raw.split(b"\n")
    with gc_paused():  # the collector would rescan every record built so far, again and again
        for first in range(0, len(lines), _BATCH_LINES):
            batch = lines[first : first + _BATCH_LINES]
            decoded = _decode_plain_lines(batch)
            if decoded is None:
                _parse_lines(batch, first + 1, records, damaged)
            else:
                records += decoded
    return HistoryLog(records, [f"{path}:{number}: damaged record skipped" for number in damaged])


_BATCH_LINES = 1_000  # a damaged line sends only its batch down the slow path


class _PlainLine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A line exactly as this version writes it: HistoryRecord's stored fields, in its order.

    msgspec decodes such lines straight into these in C, checking every type, about three
    times as fast as parsing to a dict and building the record in Python. Anything else (a
    key from another version, a value `from_dict` would convert or refuse) fails here, and
    its batch of lines is read by `from_dict`, which has the last word on what a record is.
    """

    ts: str
    session: str = ""
    mode: str = ""
    question_id: str
    topic: str = ""
    answer: str = ""
    score: int
    verdict: str = ""
    self_rating: Literal[1, 2, 3, 4, 5] | None = None
    missed: tuple[str, ...] = ()
    grader: str = ""
    override: Literal["correct", "incorrect"] | None = None
    kind: str = "free"
    elapsed_s: int | float | None = None
    v: int = FORMAT_VERSION


_decode_plain = msgspec.json.Decoder(_PlainLine).decode
_REQUIRED = msgspec.NODEFAULT
_LINE_DEFAULTS = tuple((field.encode_name, field.default) for field in msgspec.structs.fields(_PlainLine))
_ts_of = attrgetter("ts")
_NO_EXTRA = (None,)
_as_record = partial(tuple.__new__, HistoryRecord)


def _decode_plain_lines(lines: list[bytes]) -> list[HistoryRecord] | None:
    """The records of these lines, or None unless every non-empty line is a plain line.

    One line, one JSON document: each line is decoded alone (a JSON-lines decoder would
    also take two objects on one line, or one spread over two). The loops run in C.
    """
    try:
        plain = list(map(_decode_plain, filter(None, lines)))
        for _ in map(_from_iso, map(_ts_of, plain)):  # a timestamp from_dict would refuse
            pass
    except (ValueError, TypeError):  # msgspec's errors are ValueErrors
        return None
    return list(map(_as_record, map(add, map(astuple, plain), repeat(_NO_EXTRA))))


def _parse_lines(
    lines: list[bytes], first_line: int, records: list[HistoryRecord], damaged: list[int]
) -> None:
    """Append the good records of these lines to `records`, damaged line numbers to `damaged`."""
    keep, parse, build = records.append, msgspec.json.decode, HistoryRecord.from_dict
    for number, line in enumerate(lines, start=first_line):
        if not line or line.isspace():
            continue
        try:
            data = parse(line)
            if data.__class__ is not dict:
                raise ValueError("not an object")
            keep(build(data))
        except (ValueError, KeyError, TypeError):
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
