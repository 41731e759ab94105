"""Every answer given is in the history: undecodable bytes, the time limit, a failing grader.

Also the caches: a FIFO where a cache file should be is ignored, never waited on.
"""

from __future__ import annotations

import concurrent.futures
import os
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.bank import Question
from llmquiz.cli import app
from llmquiz.grading.lexical import LexicalGrader
from llmquiz.grading.store import EmbeddingCache, read_json
from llmquiz.history import CUT_OFF, read_history
from llmquiz.scheduler import graded_score
from llmquiz.session import Assessment, GradingService, ListSource, Session, SessionPlan, TimeUp

from .conftest import REPO

runner = CliRunner()
LEXICAL = ["--grader", "lexical"]


def cli_env(home: Path) -> dict[str, str]:
    return {**os.environ, "LLMQUIZ_HOME": str(home), "NO_COLOR": "1", "PYTHONPATH": str(REPO / "src")}


def test_an_undecodable_argument_is_graded_and_kept_escaped(llmquiz_home: Path) -> None:
    """`grade rag-what-is $'retrieval \\xff'`: the byte reaches Python as a lone surrogate."""
    result = subprocess.run(
        [sys.executable, "-m", "llmquiz", *LEXICAL, "grade", "rag-what-is", b"retrieval \xff"],
        capture_output=True,
        env=cli_env(llmquiz_home),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    (record,) = read_history(llmquiz_home).records
    assert record.answer == "retrieval \\xff"  # the byte, as a backslash escape
    shown = runner.invoke(app, ["history"])
    assert "retrieval \\xff" in shown.stdout


def test_undecodable_typed_bytes_do_not_end_the_session(llmquiz_home: Path) -> None:
    """A terminal in another encoding: the first answer has a byte that is not UTF-8."""
    result = subprocess.run(
        [sys.executable, "-m", "llmquiz", *LEXICAL, "quiz", "--count", "2", "--seed", "3"],
        input=b"caf\xe9 retrieval\n3\nsecond answer\n\n",
        capture_output=True,
        env=cli_env(llmquiz_home),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [r.answer for r in read_history(llmquiz_home).records] == ["caf\\xe9 retrieval", "second answer"]
    assert read_history(llmquiz_home).records[0].self_rating == 3


def test_utf8_typed_in_an_ascii_locale_is_kept_as_the_characters(llmquiz_home: Path) -> None:
    env = {
        **cli_env(llmquiz_home),
        "LANG": "C",
        "LC_CTYPE": "C",
        "PYTHONCOERCECLOCALE": "0",
        "PYTHONUTF8": "0",
    }
    env.pop("LC_ALL", None)
    result = subprocess.run(
        [sys.executable, "-m", "llmquiz", *LEXICAL, "quiz", "--count", "1", "--seed", "3"],
        input="café retrieval\n\n".encode(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [r.answer for r in read_history(llmquiz_home).records] == ["café retrieval"]


def test_a_grader_that_fails_keeps_the_answer_first(
    tmp_path: Path, llmquiz_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: LexicalGrader, question: Question, answer: str) -> None:
        raise RuntimeError("grader bug")

    monkeypatch.setattr(LexicalGrader, "grade", broken)
    # one free question: a random pick from the whole bank could be one graded without the
    # grader (a choice, or an open question), and then nothing fails
    bank = tmp_path / "t.yaml"
    bank.write_text(
        "topic: t\ntitle: T\nquestions:\n  - id: t-why\n    question: Why is it so?\n"
        "    answer: It is so because of a reason.\n    key_points: [it is so, there is a reason]\n"
        "    difficulty: easy\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, [*LEXICAL, "--bank", str(bank), "quiz", "--count", "1"], input="my answer\n")
    assert isinstance(result.exception, RuntimeError)
    (record,) = read_history(llmquiz_home).records
    assert (record.answer, record.verdict) == ("my answer", "ungraded")


class ClockUI:
    """A UI whose answers take `seconds` each on a fake clock; `unsent` is typed when time is up."""

    def __init__(self, clock: list[datetime], seconds: float, answers: list[str], unsent: str = "") -> None:
        self.clock, self.seconds, self.answers, self.unsent = clock, seconds, answers, unsent

    def ask(self, question: Question, position: int, total: int | None) -> str | None:
        self.clock[0] += timedelta(seconds=self.seconds)
        if not self.answers:
            raise TimeUp(self.unsent)
        return self.answers.pop(0)

    def grade(self, service: GradingService, question: Question, answer: str):
        return service.grade(question, answer)

    def wait_for_grades(self, service: GradingService, pending: list) -> None:
        concurrent.futures.wait(pending)

    def feedback(self, question: Question, result: object) -> None:
        return None

    def assess(self, question: Question, result: object) -> Assessment:
        return Assessment()


QUESTIONS = [
    Question(
        id=f"t-{n}",
        topic="t",
        question=f"Question {n}?",
        answer="Retrieval of documents.",
        key_points=("retrieval",),
    )
    for n in range(3)
]


@pytest.mark.parametrize(
    ("seconds", "answers", "unsent", "expected"),
    [
        pytest.param(10, ["retrieval"], "half an ans", [("retrieval", "correct"), ("half an ans", CUT_OFF)], id="unsent-text"),
        pytest.param(10, ["retrieval"], "", [("retrieval", "correct")], id="nothing-typed"),
        pytest.param(90, ["late answer"], "", [("late answer", CUT_OFF)], id="sent-after-the-bell"),
    ],
)  # fmt: skip
def test_the_time_limit_keeps_what_was_typed(
    llmquiz_home: Path, seconds: float, answers: list[str], unsent: str, expected: list[tuple[str, str]]
) -> None:
    clock = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    plan = SessionPlan(
        "exam",
        ListSource(QUESTIONS),
        len(QUESTIONS),
        feedback=False,
        deadline=clock[0] + timedelta(seconds=60),
    )
    service = GradingService(LexicalGrader(), QUESTIONS).start()
    summary = Session(
        plan, ClockUI(clock, seconds, answers, unsent), service, llmquiz_home, lambda: clock[0]
    ).run()
    assert summary.timed_out
    records = read_history(llmquiz_home).records
    assert [(r.answer, r.verdict) for r in records] == expected
    cut = [r for r in records if r.verdict == CUT_OFF]
    assert all(r.score == 0 and graded_score(r) is None for r in cut)  # kept, but no grade and no review


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a POSIX pseudo-terminal")
def test_a_timed_exam_takes_the_unsent_text_out_of_the_terminal(llmquiz_home: Path) -> None:
    """In a real terminal: what was typed when time ran out is kept, and never reaches the shell."""
    import termios

    master, slave = os.openpty()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmquiz",
            *LEXICAL,
            "exam",
            "--count",
            "2",
            "--seed",
            "1",
            "--time-limit",
            "0.05",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=cli_env(llmquiz_home),
        start_new_session=True,
    )
    shown = b""

    def read_for(seconds: float, until: bytes | None = None) -> None:
        nonlocal shown
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and process.poll() is None:
            if select.select([master], [], [], 0.05)[0]:
                shown += os.read(master, 65536)
            if until is not None and shown.count(until) >= 1:
                return

    try:
        read_for(30, until=b"> ")
        os.write(master, b"first answer\n")
        read_for(1)
        os.write(master, b"Curate and document training data")  # no Enter: time runs out
        read_for(30)
        process.wait(timeout=30)
        assert process.returncode == 1, shown.decode(errors="replace")
        attributes = termios.tcgetattr(slave)
        attributes[3] &= ~termios.ICANON  # whatever is still queued becomes readable
        attributes[6][termios.VMIN], attributes[6][termios.VTIME] = 0, 0
        termios.tcsetattr(slave, termios.TCSANOW, attributes)
        assert os.read(slave, 4096) == b""  # nothing left for the shell to run
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
        os.close(slave)
    records = read_history(llmquiz_home).records
    assert [(r.answer, r.verdict) for r in records][-1] == ("Curate and document training data", CUT_OFF)
    assert records[0].answer == "first answer"


def test_a_fifo_in_the_cache_is_ignored_not_waited_on(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "some/model")
    (tmp_path / "embeddings").mkdir()
    index, vectors = cache._json, cache._npz  # where this model's cache files go
    assert index is not None and vectors is not None
    os.mkfifo(index)
    os.mkfifo(vectors)
    started = time.monotonic()
    assert read_json(index) is None
    assert cache.get("any text") is None
    assert time.monotonic() - started < 5  # a gross guard: reading a FIFO would block for ever
