"""The history file: appended whole, never rewritten, damage skipped with a warning."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmquiz.history import HistoryRecord, append_record, read_history
from llmquiz.paths import history_file

from .records import CONTRACT_FIELDS

REPO = Path(__file__).resolve().parents[1]


def record(n: int = 0, **changes: object) -> HistoryRecord:
    base = {
        "ts": f"2026-01-01T09:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "session": "s1",
        "mode": "quiz",
        "question_id": f"demo-{n}",
        "topic": "demo",
        "answer": f"answer {n}",
        "score": n % 101,
        "verdict": "partial",
        "missed": ("a point",),
        "grader": "lexical:rapidfuzz",
    }
    base.update(changes)
    return HistoryRecord(**base)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field(llmquiz_home: Path) -> None:
    original = record(5, self_rating=4, override="correct", answer="emoji 🚀 and\ttabs\x07")
    append_record(llmquiz_home, original)
    log = read_history(llmquiz_home)
    assert log.warnings == []
    assert log.records == [original]
    line = json.loads(history_file(llmquiz_home).read_text(encoding="utf-8"))
    assert set(line) >= CONTRACT_FIELDS


def test_files_are_private(llmquiz_home: Path) -> None:
    append_record(llmquiz_home, record())
    assert stat.S_IMODE(history_file(llmquiz_home).stat().st_mode) == 0o600
    assert stat.S_IMODE(llmquiz_home.stat().st_mode) == 0o700


def test_torn_last_line_is_skipped_and_never_rewritten(llmquiz_home: Path) -> None:
    append_record(llmquiz_home, record(1))
    path = history_file(llmquiz_home)
    with path.open("ab") as handle:
        handle.write(b'{"ts": "2026-01-01T09:00:02Z", "question_')  # a write cut off by SIGKILL
    torn = path.read_bytes()

    log = read_history(llmquiz_home)
    assert [r.question_id for r in log.records] == ["demo-1"]
    assert log.warnings == [f"{path}:2: damaged record skipped"]

    append_record(llmquiz_home, record(3))
    assert path.read_bytes().startswith(torn)  # nothing before the new record changed
    log = read_history(llmquiz_home)
    assert [r.question_id for r in log.records] == ["demo-1", "demo-3"]
    assert len(log.warnings) == 1


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"not json at all\n", id="not-json"),
        pytest.param(b"[1, 2, 3]\n", id="json-list"),
        pytest.param(b'{"ts": "x"}\n', id="missing-fields"),
        pytest.param(b"\xff\xfe\x00\n", id="binary"),
        pytest.param(b'{"ts":"2026-01-01T00:00:00Z","question_id":"q","score":"high"}\n', id="bad-score"),
    ],
)
def test_damaged_lines_are_skipped(llmquiz_home: Path, garbage: bytes) -> None:
    append_record(llmquiz_home, record(1))
    with history_file(llmquiz_home).open("ab") as handle:
        handle.write(garbage)
    append_record(llmquiz_home, record(2))
    log = read_history(llmquiz_home)
    assert [r.question_id for r in log.records] == ["demo-1", "demo-2"]
    assert len(log.warnings) == 1 and ":2: damaged record skipped" in log.warnings[0]


def _append_many(home: str, worker: int, count: int) -> None:
    for n in range(count):
        append_record(Path(home), record(n, session=f"w{worker}", answer="x" * 3000))


def test_two_processes_appending_lose_nothing(llmquiz_home: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(llmquiz_home), w, 500)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    log = read_history(llmquiz_home)
    assert log.warnings == []
    assert len(log.records) == 1000
    for w in ("w1", "w2"):
        assert sorted(r.question_id for r in log.records if r.session == w) == sorted(
            f"demo-{n}" for n in range(500)
        )


WRITER = """
import sys
from pathlib import Path
from llmquiz.history import HistoryRecord, append_record
home = Path(sys.argv[1])
n = 0
while True:
    append_record(home, HistoryRecord(ts="2026-01-01T00:00:00Z", session="k", mode="quiz",
        question_id=f"q-{n}", topic="t", answer="y" * 5000, score=50, verdict="partial"))
    n += 1
"""


def test_sigkill_never_damages_earlier_records(llmquiz_home: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(llmquiz_home)], env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (
            not history_file(llmquiz_home).exists() or history_file(llmquiz_home).stat().st_size < 50_000
        ):
            time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    log = read_history(llmquiz_home)
    assert len(log.records) >= 10
    # only a last line cut by the kill may be damaged, never an earlier one
    assert len(log.warnings) <= 3
    assert all(len(r.answer) == 5000 for r in log.records)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.binary(max_size=400))
def test_reader_never_crashes_on_any_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    home = tmp_path_factory.mktemp("fuzz")
    append_record(home, record(1))
    with history_file(home).open("ab") as handle:
        handle.write(data)
    append_record(home, record(2))
    log = read_history(home)
    assert log.records[0].question_id == "demo-1"
    assert log.records[-1].question_id == "demo-2"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(answer=st.text(max_size=200), rating=st.none() | st.integers(1, 5))
def test_any_answer_text_round_trips(
    tmp_path_factory: pytest.TempPathFactory, answer: str, rating: int | None
) -> None:
    home = tmp_path_factory.mktemp("texts")
    original = record(7, answer=answer, self_rating=rating)
    append_record(home, original)
    assert read_history(home).records == [original]


@pytest.mark.parametrize(
    ("changes", "kept"),
    [
        pytest.param({"score": 0}, True, id="score-0"),
        pytest.param({"score": 100}, True, id="score-100"),
        pytest.param({"score": -500}, False, id="score-minus-500"),
        pytest.param({"score": 5000}, False, id="score-5000"),
        pytest.param({"score": 10**23}, False, id="score-1e23"),
        pytest.param({"ts": "1970-01-01T00:00:00Z"}, True, id="ts-1970"),
        pytest.param({"ts": "9999-12-31T23:59:59Z"}, False, id="ts-9999"),
        pytest.param({"ts": "0001-01-01T00:00:00+14:00"}, False, id="ts-0001-east"),
        pytest.param({"elapsed_s": 12.5}, True, id="elapsed-seconds"),
        pytest.param({"elapsed_s": "slow"}, False, id="elapsed-text"),
        pytest.param({"elapsed_s": -3}, False, id="elapsed-negative"),
        pytest.param({"v": "1"}, False, id="version-text"),
    ],
)
def test_records_are_validated_on_read(llmquiz_home: Path, changes: dict[str, object], kept: bool) -> None:
    data = {**record(1).to_dict(), **changes}
    llmquiz_home.mkdir(parents=True)
    history_file(llmquiz_home).write_text(json.dumps(data) + "\n", encoding="utf-8")
    log = read_history(llmquiz_home)
    assert (len(log.records), len(log.warnings)) == ((1, 0) if kept else (0, 1))
