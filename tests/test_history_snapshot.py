"""The history snapshot: a long history reads the same with or without it, and never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmquiz import history, history_snapshot
from llmquiz.history import HistoryLog, append_record, read_history
from llmquiz.history_snapshot import snapshot_file
from llmquiz.paths import history_file

from .test_history import record


@pytest.fixture
def small_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots for histories of a few records, so tests stay fast."""
    monkeypatch.setattr(history, "_SNAPSHOT_MIN_BYTES", 0)
    monkeypatch.setattr(history_snapshot, "MIN_RECORDS", 5)
    monkeypatch.setattr(history_snapshot, "MIN_NEW_LINES", 3)


def write_history(home: Path, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        append_record(home, record(n, answer=f"answer {n} \u00e9 🚀", self_rating=n % 5 + 1))


def fresh_read(home: Path) -> HistoryLog:
    """The history parsed from scratch: what any snapshot must reproduce."""
    snapshot_file(home).unlink(missing_ok=True)
    saved = history_snapshot.MIN_RECORDS
    history_snapshot.MIN_RECORDS = 10**9  # parse without writing a snapshot
    try:
        return read_history(home)
    finally:
        history_snapshot.MIN_RECORDS = saved


def with_damaged_line(home: Path) -> None:
    with history_file(home).open("ab") as handle:
        handle.write(b"not a record\n")


@pytest.mark.usefixtures("small_snapshots")
def test_a_long_history_gets_a_snapshot_that_reads_the_same(llmquiz_home: Path) -> None:
    write_history(llmquiz_home, 6)
    with_damaged_line(llmquiz_home)
    write_history(llmquiz_home, 4, start=6)
    first = read_history(llmquiz_home)
    assert snapshot_file(llmquiz_home).is_file()
    again = read_history(llmquiz_home)  # from the snapshot
    assert again == first
    assert len(again.records) == 10
    assert again.warnings == [f"{history_file(llmquiz_home)}:7: damaged record skipped"]


@pytest.mark.usefixtures("small_snapshots")
def test_records_appended_after_the_snapshot_are_read(llmquiz_home: Path) -> None:
    write_history(llmquiz_home, 8)
    read_history(llmquiz_home)
    written = snapshot_file(llmquiz_home).read_bytes()
    write_history(llmquiz_home, 1, start=8)
    with_damaged_line(llmquiz_home)  # two new lines: too few to write the snapshot again
    log = read_history(llmquiz_home)
    assert snapshot_file(llmquiz_home).read_bytes() == written
    assert [r.question_id for r in log.records] == [f"demo-{n}" for n in range(9)]
    assert log.warnings == [f"{history_file(llmquiz_home)}:10: damaged record skipped"]
    assert log == fresh_read(llmquiz_home)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda raw: raw.replace(b"answer 2 ", b"answer 9 ", 1), id="edited-same-length"),
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: raw.replace(b'"demo-3"', b'"demo-33"', 1), id="edited-longer"),
        pytest.param(lambda raw: b"", id="emptied"),
    ],
)
@pytest.mark.usefixtures("small_snapshots")
def test_a_changed_history_never_reads_from_a_stale_snapshot(llmquiz_home: Path, change) -> None:
    write_history(llmquiz_home, 8)
    read_history(llmquiz_home)
    path = history_file(llmquiz_home)
    path.write_bytes(change(path.read_bytes()))
    snapshot = snapshot_file(llmquiz_home).read_bytes()
    log = read_history(llmquiz_home)
    snapshot_file(llmquiz_home).write_bytes(snapshot)  # fresh_read deletes it: compare both ways
    assert log == fresh_read(llmquiz_home)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\x01garbage", id="garbage"),
        pytest.param(None, id="truncated"),
    ],
)
@pytest.mark.usefixtures("small_snapshots")
def test_a_damaged_snapshot_is_ignored(llmquiz_home: Path, damage: bytes | None) -> None:
    write_history(llmquiz_home, 8)
    expected = read_history(llmquiz_home)
    path = snapshot_file(llmquiz_home)
    path.write_bytes(path.read_bytes()[:100] if damage is None else damage)
    assert read_history(llmquiz_home) == expected


@pytest.mark.usefixtures("small_snapshots")
def test_a_torn_last_line_is_never_snapshotted(llmquiz_home: Path) -> None:
    write_history(llmquiz_home, 8)
    path = history_file(llmquiz_home)
    with path.open("ab") as handle:
        handle.write(b'{"ts": "2026-01-01T09:00:02Z", "question_')
    torn = read_history(llmquiz_home)
    assert torn.warnings == [f"{path}:9: damaged record skipped"]
    append_record(llmquiz_home, record(20))  # starts on a new line, after the torn one
    log = read_history(llmquiz_home)
    assert [r.question_id for r in log.records][-1] == "demo-20"
    assert log == fresh_read(llmquiz_home)


def test_a_short_history_gets_no_snapshot(llmquiz_home: Path) -> None:
    write_history(llmquiz_home, 20)
    read_history(llmquiz_home)
    assert not snapshot_file(llmquiz_home).exists()
