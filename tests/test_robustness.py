"""Nothing lost, no crash: Ctrl-C and Ctrl-D at every prompt, odd answers, torch missing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.cli import app
from llmquiz.history import read_history

from .conftest import REPO

runner = CliRunner()
LEXICAL = ["--grader", "lexical"]

# Makes the imports of BLOCKED fail, as on a machine without those packages.
BLOCKER = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, _Block())
"""


# Without these, semantic grading cannot run at all (torch is needed only for cuda and other models).
NO_GRADING_STACK = ("torch", "sentence_transformers", "tokenizers", "safetensors")


def cli_env(home: Path, *, blocked: tuple[str, ...] = (), tmp: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "LLMQUIZ_HOME": str(home), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    paths = [str(REPO / "src")]
    if blocked:
        assert tmp is not None
        code = f"BLOCKED = {blocked!r}\n{BLOCKER}"
        (tmp / "sitecustomize.py").write_text(code, encoding="utf-8")
        paths.insert(0, str(tmp))
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "llmquiz", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_records(home: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(read_history(home).records) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} records after {timeout}s")


@pytest.mark.parametrize(
    ("typed", "kept", "rating"),
    [
        pytest.param("", 0, None, id="at-first-answer-prompt"),
        pytest.param("an answer\n", 1, None, id="at-rating-prompt"),
        pytest.param("an answer\n3\n", 1, 3, id="at-second-answer-prompt"),
    ],
)
def test_ctrl_c_exits_130_and_keeps_answers(
    llmquiz_home: Path, typed: str, kept: int, rating: int | None
) -> None:
    process = start([*LEXICAL, "quiz", "--count", "3", "--seed", "5"], cli_env(llmquiz_home))
    assert process.stdin is not None
    process.stdin.write(typed)
    process.stdin.flush()
    if kept:
        wait_for_records(llmquiz_home, kept) if rating is not None else time.sleep(2.0)
    else:
        time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    records = read_history(llmquiz_home).records
    assert len(records) == kept
    if kept:
        assert records[0].answer == "an answer" and records[0].self_rating == rating


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("", id="eof-at-first-answer"),
        pytest.param("first answer\n", id="eof-at-rating"),
        pytest.param("first answer\n2\n", id="eof-at-second-answer"),
    ],
)
def test_ctrl_d_ends_the_session_cleanly(llmquiz_home: Path, typed: str) -> None:
    result = runner.invoke(app, [*LEXICAL, "quiz", "--count", "3", "--seed", "5"], input=typed)
    assert result.exit_code == 0
    assert [r.answer for r in read_history(llmquiz_home).records] == (["first answer"] if typed else [])


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("emoji 🚀🔥 and accents é ü", id="emoji"),
        pytest.param("bell\x07 escape\x1b[31m red", id="control-characters"),
        pytest.param("   ", id="blank"),
        pytest.param("x" * 200_000, id="200k-characters"),
        pytest.param("[bold]not markup[/bold] {braces} %s", id="markup-lookalike"),
    ],
)
def test_odd_answers_are_kept_exactly(llmquiz_home: Path, answer: str) -> None:
    result = runner.invoke(app, [*LEXICAL, "quiz", "--count", "1", "--seed", "2"], input=answer + "\n\n")
    assert result.exit_code == 0, result.stderr
    (record,) = read_history(llmquiz_home).records
    assert record.answer == answer.strip()


def test_one_megabyte_answer_in_an_exam_file(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"rag-what-is": "retrieval " * 100_000}), encoding="utf-8")
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(answers), "--json"])
    assert result.exit_code in (0, 1), result.stderr
    assert json.loads(result.stdout)["questions"][0]["id"] == "rag-what-is"


def test_without_the_grading_stack_interactive_quiz_falls_back_to_lexical(
    llmquiz_home: Path, tmp_path: Path
) -> None:
    process = start(
        ["quiz", "--count", "1", "--seed", "2"], cli_env(llmquiz_home, blocked=NO_GRADING_STACK, tmp=tmp_path)
    )
    _, stderr = process.communicate("retrieval of documents\n\n", timeout=120)
    assert process.returncode == 0, stderr
    assert "lexical grader instead" in stderr
    (record,) = read_history(llmquiz_home).records
    assert record.grader.startswith("lexical")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["grade", "rag-what-is", "retrieval"], id="grade"),
        pytest.param(["exam", "--answers", "ANSWERS"], id="exam-answers"),
        pytest.param(["calibrate", "CSV"], id="calibrate"),
    ],
)
def test_without_the_grading_stack_pipelines_fail_instead_of_changing_grader(
    llmquiz_home: Path, tmp_path: Path, args: list[str]
) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("rag-what-is: retrieval of documents\n", encoding="utf-8")
    csv_file = tmp_path / "g.csv"
    csv_file.write_text("question,reference,answer,score\nq,r,a,1\nq,r,b,2\n", encoding="utf-8")
    args = [{"ANSWERS": str(answers), "CSV": str(csv_file)}.get(a, a) for a in args]
    env = cli_env(llmquiz_home, blocked=NO_GRADING_STACK, tmp=tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "llmquiz", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Error: ") and "--grader lexical" in result.stderr
    assert "Traceback" not in result.stderr
    lexical = subprocess.run(
        [sys.executable, "-m", "llmquiz", "--grader", "lexical", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert lexical.returncode in (0, 1), lexical.stderr


@pytest.mark.slow
def test_without_torch_the_bundled_model_still_grades_semantically(model_home: Path, tmp_path: Path) -> None:
    """On CPU the bundled model and the claim judge need numpy, tokenizers and safetensors only."""
    env = cli_env(model_home, blocked=("torch", "sentence_transformers"), tmp=tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmquiz",
            "grade",
            "rag-what-is",
            "retrieval of documents at query time",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["grader"].startswith("semantic")


def test_sessions_never_write_bank_files(tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_text(
        "topic: demo\ntitle: Demo\nquestions:\n"
        "  - id: demo-1\n    question: What is RAG?\n    answer: Retrieval then generation.\n",
        encoding="utf-8",
    )
    bank.chmod(0o444)
    before = (bank.read_bytes(), bank.stat().st_mtime_ns)
    for args, typed in (
        (["quiz", "--count", "1"], "retrieval\n4\n"),
        (["drill", "demo"], "retrieval\n\n"),
        (["exam", "--count", "1"], "retrieval\n"),
    ):
        result = runner.invoke(app, ["--bank", str(bank), *LEXICAL, *args], input=typed)
        assert result.exit_code in (0, 1), result.stderr
    assert (bank.read_bytes(), bank.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.yaml", "home"]


def test_markup_lookalike_text_never_breaks_rendering(llmquiz_home: Path, tmp_path: Path) -> None:
    answer = "use [/bold] tags and [red]colour[/red]"
    assert runner.invoke(app, [*LEXICAL, "grade", "rag-what-is", answer]).exit_code == 0
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 0, result.stderr
    assert "[/bold]" in result.stdout
    notes = tmp_path / "notes.md"
    notes.write_text("## What does [/b] do?\n\nIt closes [b]bold[/b]. Nothing else.\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(notes), "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "[/b]" in result.stdout


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('{"ts":"yesterday","question_id":"rag-what-is","score":5}', id="bad-timestamp"),
        pytest.param(
            '{"ts":"2026-01-01T00:00:00Z","question_id":"rag-what-is","score":5,"self_rating":9}',
            id="rating-out-of-range",
        ),
        pytest.param(
            '{"ts":"2026-01-01T00:00:00Z","question_id":"rag-what-is","score":5,"missed":"abc"}',
            id="missed-not-a-list",
        ),
    ],
)
def test_records_that_parse_but_are_damaged_are_skipped(llmquiz_home: Path, line: str) -> None:
    llmquiz_home.mkdir(parents=True)
    (llmquiz_home / "history.jsonl").write_text(line + "\n", encoding="utf-8")
    for command in (["stats", "--json"], ["topics", "--json"], ["history", "--json"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.stderr)
        assert "damaged record skipped" in result.stderr


def test_unwritable_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = runner.invoke(app, ["--home", str(blocker), *LEXICAL, "grade", "rag-what-is", "retrieval"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "cannot write the history" in result.stderr


def test_debug_shows_the_traceback_and_keeps_the_exit_code() -> None:
    result = runner.invoke(app, ["--debug", "show", "nope-1"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "Error: unknown question id" in result.stderr


def test_no_color_on_a_terminal_prints_no_escape_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmquiz.ui import render

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    console = render.make_console()
    with console.capture() as captured:
        console.print(render.verdict_text("correct"), "[bold]x[/bold]")
    assert "\x1b[" not in captured.get()


def test_calibrate_with_constant_gold_gives_valid_json(tmp_path: Path) -> None:
    csv_file = tmp_path / "flat.csv"
    csv_file.write_text("question,reference,answer,score\nq,r,a,3\nq,r,b,3\nq,r,c,3\n", encoding="utf-8")
    result = runner.invoke(app, [*LEXICAL, "calibrate", str(csv_file), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["pearson"] is None
