"""How the command line reads as a newcomer types it: options anywhere, plain usage, clear messages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich import box
from typer.testing import CliRunner

from llmquiz.cli import app
from llmquiz.cli_args import hoist_global_options
from llmquiz.history import read_history

from .conftest import QUESTIONS

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, prog_name="llmquiz")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["quiz", "--grader", "lexical"], ["--grader", "lexical", "quiz"], id="after"),
        pytest.param(
            ["quiz", "--grader=lexical", "-n", "2"], ["--grader=lexical", "quiz", "-n", "2"], id="equals"
        ),
        pytest.param(
            ["--home", "h", "grade", "--bank", "b/", "ID", "ANSWER", "--debug"],
            ["--home", "h", "--bank", "b/", "--debug", "grade", "ID", "ANSWER"],
            id="before-and-after",
        ),
        pytest.param(
            ["bank", "validate", "--bank", "x"], ["--bank", "x", "bank", "validate"], id="sub-group"
        ),
        pytest.param(["grade", "ID", "--", "--debug"], ["grade", "ID", "--", "--debug"], id="after-dashes"),
        pytest.param(["--bank", "quiz", "list"], ["--bank", "quiz", "list"], id="value-named-like-a-command"),
        pytest.param(["quiz", "--bank"], ["quiz", "--bank"], id="missing-value"),
        pytest.param(["--help"], ["--help"], id="no-command"),
    ],
)
def test_global_options_are_moved_before_the_command(args: list[str], expected: list[str]) -> None:
    assert hoist_global_options(args) == expected


def test_global_options_after_the_command_work(tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    result = invoke(
        "grade",
        "rag-what-is",
        "documents are retrieved",
        "--grader",
        "lexical",
        "--bank",
        str(QUESTIONS),
        "--home",
        str(home),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["grader"] == "lexical"
    assert [r.question_id for r in read_history(home).records] == ["rag-what-is"]
    quiz = invoke("quiz", "--count", "1", "--seed", "2", "--grader", "lexical", input="")
    assert quiz.exit_code == 0, quiz.stderr


def test_a_missing_value_of_a_global_option_after_the_command_is_named() -> None:
    result = invoke("quiz", "--bank")
    assert result.exit_code == 2
    assert "Invalid value for '--bank': a value must follow it" in result.stderr


def test_help_says_global_options_may_follow_the_command() -> None:
    assert "Global options may also follow the command" in invoke("--help").stdout
    quiz_help = " ".join(invoke("quiz", "--help").stdout.split())
    assert "Global options work here too: --bank, --home, --grader, --model, --device, --debug" in quiz_help


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        pytest.param(["drill", "--help"], "Usage: llmquiz drill [OPTIONS] TOPIC", id="drill"),
        pytest.param(["grade", "--help"], "Usage: llmquiz grade [OPTIONS] QUESTION_ID ANSWER", id="grade"),
        pytest.param(["import", "--help"], "Usage: llmquiz import [OPTIONS] FILE", id="import"),
        pytest.param(
            ["bank", "validate", "--help"], "Usage: llmquiz bank validate [OPTIONS] [PATH]...", id="bank"
        ),
        pytest.param(["drill"], "Usage: llmquiz drill [OPTIONS] TOPIC", id="missing-argument"),
    ],
)
def test_usage_lines_name_arguments_plainly(args: list[str], usage: str) -> None:
    result = invoke(*args)
    output = result.stdout + result.stderr
    assert usage in output
    assert "{" not in output.split("\n\n")[0]


def test_option_values_are_named_in_help() -> None:
    text = invoke("exam", "--help").stdout
    for shown in ("--topic TOPIC", "--count N", "--time-limit MINUTES", "--seed N", "--answers FILE"):
        assert shown in text
    assert "int range" not in text and "<" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["quiz", "--seed", "abc"], "Invalid value for '--seed': 'abc' is not a whole number", id="seed"
        ),
        pytest.param(["quiz", "--count", "x"], "'x' is not a whole number", id="count"),
        pytest.param(["quiz", "-n", "0"], "0 is too small: it must be at least 1", id="count-zero"),
        pytest.param(["history", "--limit", "-3"], "-3 is too small: it must be at least 1", id="limit"),
        pytest.param(["exam", "--time-limit", "soon"], "'soon' is not a number of minutes", id="minutes"),
        pytest.param(
            ["exam", "--time-limit", "0"],
            "--time-limit must be a number of minutes, more than 0",
            id="no-time",
        ),
    ],
)
def test_bad_numbers_get_a_plain_message(args: list[str], message: str) -> None:
    result = invoke("--grader", "lexical", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "int range" not in result.stderr and "Traceback" not in result.stderr


def test_counts_are_singular_for_one(tmp_path: Path) -> None:
    bank = tmp_path / "one.yaml"
    bank.write_text(
        "topic: one\ntitle: One\nquestions:\n  - id: one-q\n    question: Why?\n    answer: Because.\n",
        encoding="utf-8",
    )
    assert invoke("bank", "validate", str(bank)).stdout.strip() == "OK: 1 topic, 1 question."
    broken = tmp_path / "broken.yaml"
    broken.write_text(bank.read_text(encoding="utf-8").replace("answer: Because.", "answer: ''"), "utf-8")
    assert invoke("bank", "validate", str(broken)).stderr.splitlines()[-1] == "1 problem found."
    two = broken.read_text(encoding="utf-8").replace("question: Why?", "question: ''")
    broken.write_text(two, encoding="utf-8")
    result = invoke("--bank", str(broken), "list")
    assert result.stderr.strip().endswith("(and 1 more problem)")


def test_no_color_bars_are_ascii_like_the_borders() -> None:
    from rich.console import Console

    from llmquiz.stats import Confidence, Overrides, Stats, TrendPoint
    from llmquiz.ui import render
    from llmquiz.ui.stats import trend_chart

    stats = Stats(
        (),
        (),
        0,
        (TrendPoint("2026-01-01", 90.0, 1),),
        Confidence(0, None, None, 0, 0),
        Overrides(0, None, 0, 0),
        1,
    )
    for no_color, bar, spark in [(True, "##..", "@"), (False, "██░░", "█")]:
        console = Console(file=io.StringIO(), force_terminal=True, no_color=no_color)  # a UTF-8 terminal
        assert render.table_box(console) == (box.ASCII if no_color else box.ROUNDED)
        assert str(render.score_bar(50, console, width=4)) == f"{bar}  50/100"
        assert f" {spark} " in str(trend_chart(stats, console))


def test_an_answer_without_a_score_shows_a_dash_not_0(llmquiz_home: Path) -> None:
    from rich.console import Console

    from llmquiz.bank import Question
    from llmquiz.history import UNGRADED, answer_record
    from llmquiz.session import Outcome, SessionSummary
    from llmquiz.ui import render

    question = Question(id="q-1", topic="t", question="Why?", answer="Because.")
    record = answer_record(
        question,
        "an answer",
        session="s",
        mode="quiz",
        score=0,
        verdict=UNGRADED,
        missed=(),
        grader="lexical",
    )
    summary = SessionSummary("s", "quiz", [Outcome(question, "an answer", None, record)])
    console = Console(file=io.StringIO(), width=100)
    for table in (render.session_summary(summary, console), render.history_table([record], console)):
        console.print(table)
    lines = [line for line in console.file.getvalue().splitlines() if "q-1" in line]
    assert len(lines) == 2
    for line in lines:
        cells = [cell.strip() for cell in line.split("|")]
        assert "ungraded" in cells and "-" in cells and "0" not in cells
