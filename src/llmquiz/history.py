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
from pathlib import Path
from typing import Any, NamedTuple

from llmquiz.bank import Question
from llmquiz.errors import BadInputError
from llmquiz.paths import ensure_private_dir, history_file

FORMAT_VERSION = 1
UNRATED = "unrated"  # an open question the learner did not rate: no score
UNGRADED = "ungraded"  # an answer whose grading was interrupted: kept, but no score
SELF_RATINGS = (1, 2, 3, 4, 5)

try:  # orjson parses a long history several times faster; json is the fallback
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a dependency, but not a required one
    _loads = json.loads
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

        Written for speed (`stats` reads 100,000 of these): plain type checks, no copies.
        """
        get = data.get
        ts = data["ts"]
        _from_iso(ts)  # a record with a timestamp nobody can read is damaged (TypeError, ValueError)
        score = data["score"]
        if score.__class__ is not int:
            score = int(score)
        rating = get("self_rating")
        if rating is not None and rating not in SELF_RATINGS:
            raise ValueError(f"self_rating {rating!r} is not 1-5")
        missed = get("missed") or ()
        if missed.__class__ is not list and missed.__class__ is not tuple:
            raise ValueError("missed is not a list")
        override = get("override")
        extra = (
            None
            if _RECORD_FIELDS.issuperset(data)
            else {k: v for k, v in data.items() if k not in _RECORD_FIELDS}
        )
        return _new_tuple(
            cls,
            (
                ts,
                str(get("session", "")),
                str(get("mode", "")),
                str(data["question_id"]),
                str(get("topic", "")),
                str(get("answer", "")),
                score,
                str(get("verdict", "")),
                rating,
                tuple(missed),
                str(get("grader", "")),
                override if override in OVERRIDES else None,
                str(get("kind", "free")),
                get("elapsed_s"),
                get("v", FORMAT_VERSION),
                extra,
            ),
        )


_new_tuple = tuple.__new__
_from_iso = datetime.fromisoformat
_RECORD_FIELDS = frozenset(f for f in HistoryRecord._fields if f != "extra")


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
    with _no_gc():  # the collector would rescan every record built so far, again and again
        numbered = [(n, line) for n, line in enumerate(raw.split(b"\n"), start=1) if line.strip()]
        objects = _parse_all_at_once([line for _, line in numbered])
        records: list[HistoryRecord] = []
        warnings: list[str] = []
        for index, (number, line) in enumerate(numbered):
            try:
                data = objects[index] if objects is not None else _loads(line)
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                records.append(HistoryRecord.from_dict(data))
            except (ValueError, KeyError, TypeError):
                warnings.append(f"{path}:{number}: damaged record skipped")
    return HistoryLog(records, warnings)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that form no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_all_at_once(lines: list[bytes]) -> list[Any] | None:
    """Parse all lines in one JSON call (fast); None when any line is damaged."""
    try:
        objects = _loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        return None
    return objects if len(objects) == len(lines) else None
