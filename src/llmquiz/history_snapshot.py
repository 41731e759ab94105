"""A derived snapshot of a long history's parsed records, so they are not parsed again.

The history file stays the only store. The snapshot holds the records parsed from the
file's first N bytes (whole lines only) with the CRC-32 of those bytes, and is used only
while the file still begins with exactly those bytes: appending keeps it valid, editing
or replacing the file makes it stale, and a stale, damaged or missing snapshot only means
a full parse. Deleting it loses nothing.

Records are stored with `marshal` as plain tuples, which load about three times as fast as
the history's JSON and need no second round of checks: they were checked when first read.
Damaged lines are stored as line numbers, so their warnings come back as well. marshal runs
no code when loading (unlike pickle) and its format belongs to one Python version, which
the snapshot records. The file lives in the user's private data folder (0700).
"""

from __future__ import annotations

import contextlib
import marshal
import sys
import zlib
from pathlib import Path
from typing import Any, NamedTuple

from llmquiz.paths import cache_dir, write_private

SNAPSHOT_VERSION = 1
MIN_RECORDS = 10_000  # a shorter history parses in well under 0.1 s: no snapshot
MIN_NEW_LINES = 5_000  # lines read past the snapshot before it is written again (~20 ms to parse)
_ROW_LENGTH = 16  # HistoryRecord's fields
_VERSION = (SNAPSHOT_VERSION, marshal.version, sys.implementation.cache_tag)


class Snapshot(NamedTuple):
    """Parsed records of the history's first `size` bytes, which hold `lines` whole lines."""

    size: int
    lines: int
    rows: list[tuple[Any, ...]]  # one per good record: HistoryRecord's fields, in order
    damaged: list[int]  # line numbers of damaged lines


def snapshot_file(home: Path) -> Path:
    return cache_dir(home) / "history-snapshot.marshal"


def load_snapshot(home: Path, history: bytes) -> Snapshot | None:
    """The snapshot, if it describes the start of `history` (the file's bytes); else None."""
    try:
        data = marshal.loads(snapshot_file(home).read_bytes())
        size, lines, crc = data["size"], data["lines"], data["crc32"]
        rows, damaged = data["records"], data["damaged"]
        valid = (
            data["version"] == _VERSION
            and 0 < size <= len(history)
            and history[size - 1 : size] == b"\n"
            and zlib.crc32(memoryview(history)[:size]) == crc
            and isinstance(rows, list)
            and all(row.__class__ is tuple and len(row) == _ROW_LENGTH for row in rows)
            and all(isinstance(number, int) for number in damaged)
        )
    except (OSError, EOFError, ValueError, KeyError, TypeError):
        return None
    return Snapshot(size, lines, rows, damaged) if valid else None


def save_snapshot(home: Path, history: bytes, snapshot: Snapshot) -> None:
    """Write the snapshot of `history`'s first `snapshot.size` bytes; a failure is only slower."""
    payload = {
        "version": _VERSION,
        "size": snapshot.size,
        "lines": snapshot.lines,
        "crc32": zlib.crc32(memoryview(history)[: snapshot.size]),
        "damaged": snapshot.damaged,
        "records": snapshot.rows,
    }
    with contextlib.suppress(OSError, ValueError):  # ValueError: a value marshal cannot write
        write_private(snapshot_file(home), marshal.dumps(payload))


def worth_saving(records: int, new_lines: int) -> bool:
    """A snapshot pays for itself on a long history, once enough has been read past it."""
    return records >= MIN_RECORDS and new_lines >= MIN_NEW_LINES
