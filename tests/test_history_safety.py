"""The history on disk: never through a symlink, read in bounded pieces, privacy warned about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmquiz import historyfile
from llmquiz.cli import app
from llmquiz.errors import BadInputError
from llmquiz.history import HistoryRecord, append_record, read_history, read_recent
from llmquiz.historyfile import backward_lines, forward_lines, privacy_warnings
from llmquiz.paths import history_file

from .conftest import REPO

runner = CliRunner()
LEXICAL = ["--grader", "lexical"]


def record(n: int, **changes: object) -> HistoryRecord:
    base = {
        "ts": f"2026-01-01T09:00:{n % 60:02d}Z",
        "session": "s",
        "mode": "quiz",
        "question_id": f"q-{n}",
        "topic": "t",
        "answer": f"answer {n}",
        "score": n % 101,
        "verdict": "partial",
    }
    return HistoryRecord(**{**base, **changes})  # type: ignore[arg-type]


def line(n: int) -> bytes:
    return json.dumps(record(n).to_dict()).encode()


def test_append_never_writes_through_a_symlink(tmp_path: Path, llmquiz_home: Path) -> None:
    llmquiz_home.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"mine\n")
    history_file(llmquiz_home).symlink_to(elsewhere)
    with pytest.raises(BadInputError, match="the history is a symbolic link"):
        append_record(llmquiz_home, record(1))
    assert elsewhere.read_bytes() == b"mine\n"
    log = read_history(llmquiz_home)
    assert log.records == [] and "symbolic link" in log.warnings[0] and "not read" in log.warnings[0]


def test_a_fifo_history_is_refused_without_blocking(llmquiz_home: Path) -> None:
    llmquiz_home.mkdir(mode=0o700)
    os.mkfifo(history_file(llmquiz_home))
    with pytest.raises(BadInputError, match="not a regular file"):
        append_record(llmquiz_home, record(1))
    assert "not a regular file" in read_history(llmquiz_home).warnings[0]


def test_the_symlink_is_refused_before_grading(tmp_path: Path, llmquiz_home: Path) -> None:
    llmquiz_home.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_bytes(b"")
    history_file(llmquiz_home).symlink_to(elsewhere)
    result = runner.invoke(app, [*LEXICAL, "quiz", "--count", "1"], input="an answer\n\n")
    assert result.exit_code == 2 and "symbolic link" in result.stderr
    assert "Question 1" not in result.stdout  # nothing was asked
    assert elsewhere.read_bytes() == b""


@pytest.mark.parametrize(
    ("folder_mode", "file_mode", "warned"),
    [
        pytest.param(0o700, 0o600, None, id="private"),
        pytest.param(0o755, 0o600, "the data folder is open to other users (mode 0755)", id="folder-0755"),
        pytest.param(0o750, 0o600, "the data folder is open to other users (mode 0750)", id="folder-0750"),
        pytest.param(0o700, 0o644, "the history is readable by other users (mode 0644)", id="file-0644"),
    ],
)
def test_privacy_is_warned_about(
    llmquiz_home: Path, folder_mode: int, file_mode: int, warned: str | None
) -> None:
    append_record(llmquiz_home, record(1))
    llmquiz_home.chmod(folder_mode)
    history_file(llmquiz_home).chmod(file_mode)
    warnings = privacy_warnings(llmquiz_home)
    assert warnings == [] if warned is None else (len(warnings) == 1 and warned in warnings[0])
    for command in (["topics"], ["history"], [*LEXICAL, "grade", "rag-what-is", "retrieval"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.stderr
        assert (warned in result.stderr) if warned else ("Warning" not in result.stderr), (
            command,
            result.stderr,
        )
    assert (llmquiz_home.stat().st_mode & 0o777, history_file(llmquiz_home).stat().st_mode & 0o777) == (
        folder_mode,
        file_mode,
    )  # warned about, never changed behind the learner's back


def test_recent_records_are_read_from_the_end(llmquiz_home: Path) -> None:
    llmquiz_home.mkdir(mode=0o700)
    lines = [b"{damaged first line", *(line(n) for n in range(1, 8)), b"{damaged", line(8)]
    history_file(llmquiz_home).write_bytes(b"\n".join(lines) + b"\n")
    newest = read_recent(llmquiz_home, 3)
    assert [r.question_id for r in newest.records] == ["q-8", "q-7", "q-6"]
    assert newest.warnings == [f"{history_file(llmquiz_home)}:9: damaged record skipped"]  # line 1 never read
    everything = read_recent(llmquiz_home, 100)
    assert [r.question_id for r in everything.records] == [f"q-{n}" for n in range(8, 0, -1)]
    assert everything.warnings == read_history(llmquiz_home).warnings
    assert "2 damaged records skipped (lines 1, 9)" in everything.warnings[0]


def test_history_limit_over_a_huge_file_stays_small(tmp_path: Path, llmquiz_home: Path) -> None:
    """150 MB of one damaged line, then three records: `history --limit 2` reads a block or two.

    A gross-regression guard on memory (it read the whole file, 2.1 GB for 1 GB): < 120 MB.
    """
    llmquiz_home.mkdir(mode=0o700)
    with history_file(llmquiz_home).open("wb") as handle:
        for _ in range(150):
            handle.write(b"x" * (1 << 20))
        handle.write(b"\n" + b"\n".join(line(n) for n in (1, 2, 3)) + b"\n")
    history_file(llmquiz_home).chmod(0o600)
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'llmquiz', 'history', '--limit', '2', '--json'],"
        " capture_output=True, text=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(done.stdout)\n"
        "sys.stderr.write(done.stderr)\n"
    )
    env = {**os.environ, "LLMQUIZ_HOME": str(llmquiz_home), "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-c", measure], capture_output=True, text=True, env=env, timeout=120
    )
    code, peak_kb = result.stdout.split("\n", 1)[0].split()
    records = json.loads(result.stdout.split("\n", 1)[1])
    assert int(code) == 0, result.stderr
    assert [r["question_id"] for r in records] == ["q-3", "q-2"]
    assert result.stderr == ""  # the damaged first line was never reached
    assert int(peak_kb) < 120 * 1024


def test_a_line_too_long_is_damaged_and_never_held(
    llmquiz_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(historyfile, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(historyfile, "CHUNK_BYTES", 64)
    append_record(llmquiz_home, record(1))
    append_record(llmquiz_home, record(2, answer="y" * 2000))
    append_record(llmquiz_home, record(3))
    for log in (read_history(llmquiz_home), read_recent(llmquiz_home, 10)):
        assert sorted(r.question_id for r in log.records) == ["q-1", "q-3"]
        assert log.warnings == [f"{history_file(llmquiz_home)}:2: damaged record skipped"]


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    raw=st.lists(st.sampled_from([b"a", b"bb", b"\n", b"", b"ccccccc", b"\n\n"]), max_size=40).map(b"".join),
    chunk=st.integers(1, 9),
    longest=st.integers(1, 12),
)
def test_backward_lines_are_forward_lines_reversed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes, chunk: int, longest: int
) -> None:
    monkeypatch.setattr(historyfile, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(historyfile, "MAX_LINE_BYTES", longest)
    path = tmp_path / "lines"
    path.write_bytes(raw)
    expected = [piece if len(piece) <= longest else None for piece in raw.split(b"\n")]
    offsets, position = [], 0
    for piece in raw.split(b"\n"):
        offsets.append(position)
        position += len(piece) + 1
    fd = os.open(path, os.O_RDONLY)
    try:
        assert list(forward_lines(fd)) == expected
        assert list(backward_lines(fd)) == list(zip(offsets, expected, strict=True))[::-1]
        numbers = historyfile.line_numbers(fd, offsets)
        assert [numbers[offset] for offset in offsets] == list(range(1, len(offsets) + 1))
    finally:
        os.close(fd)


def test_many_damaged_lines_make_one_warning(llmquiz_home: Path) -> None:
    llmquiz_home.mkdir(mode=0o700)
    history_file(llmquiz_home).write_bytes(b"garbage\n" * 10_000 + line(1) + b"\n")
    log = read_history(llmquiz_home)
    assert [r.question_id for r in log.records] == ["q-1"]
    assert log.warnings == [
        f"{history_file(llmquiz_home)}:1: 10,000 damaged records skipped (lines 1, 2, 3, 4, 5, ...)"
    ]
