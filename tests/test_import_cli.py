"""`llmquiz import`: notes in, a bank file out that validates and can be quizzed on at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.cli import app
from llmquiz.history import read_history

from .conftest import shared_path

runner = CliRunner()


@pytest.mark.parametrize(
    ("prefix", "count"),
    [
        pytest.param("000", 21, id="numbered"),
        pytest.param("001", 50, id="markdown"),
        pytest.param("003", 42, id="flashcards"),
    ],
)
def test_import_writes_a_bank_that_validates_and_quizzes(
    tmp_path: Path, llmquiz_home: Path, prefix: str, count: int
) -> None:
    (notes,) = shared_path("seeds").glob(f"{prefix}_*.txt")
    out = tmp_path / "imported.yaml"
    result = runner.invoke(app, ["import", str(notes), "--topic", "mynotes", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {count} questions" in result.stderr
    assert runner.invoke(app, ["bank", "validate", str(out)]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["--bank", str(out), "list", "--json"]).stdout)
    assert len(listed) == count and {q["topic"] for q in listed} == {"mynotes"}
    quiz = runner.invoke(
        app,
        ["--bank", str(out), "--grader", "lexical", "quiz", "--count", "1", "--seed", "1"],
        input="some answer\n3\n",
    )
    assert quiz.exit_code == 0, quiz.stderr
    assert read_history(llmquiz_home).records[0].topic == "mynotes"


def test_flashcards_without_answers_warn(tmp_path: Path) -> None:
    (cards,) = shared_path("seeds").glob("003_*.txt")
    result = runner.invoke(app, ["import", str(cards), "--dry-run"])
    assert result.exit_code == 0
    assert "has no answer; imported as an open question" in result.stderr
    assert "open" in result.stdout and "42 questions" in result.stdout.replace("\n", " ")


def test_import_to_stdout(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text(
        "## What is a token?\n\nA token is a unit of text. Models read tokens.\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["import", str(notes)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("topic: notes")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"\x00\x01binary", "binary data", id="binary"),
        pytest.param(b"Just some prose without any question.\n", "no questions", id="prose"),
    ],
)
def test_bad_notes_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(content)
    result = runner.invoke(app, ["import", str(notes)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {notes}:") and message in result.stderr
