"""`llmquiz import` of tab- and comma-separated decks: Quizlet, Anki's "Notes in plain text"."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llmquiz.bank import parse_bank_text
from llmquiz.cli import app
from llmquiz.importing import import_notes

runner = CliRunner()


def imported(tmp_path: Path, name: str, text: str, *args: str) -> tuple[dict, str]:
    """Write `text`, import it through the CLI; the bank validates. Returns (document, stderr)."""
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = runner.invoke(app, ["import", str(source), "-o", str(out), *args])
    assert result.exit_code == 0, result.stderr
    bank_text = out.read_text(encoding="utf-8")
    assert parse_bank_text(bank_text, str(out))[1] == []
    return yaml.safe_load(bank_text), result.stderr


def test_a_two_line_quizlet_export_gives_two_questions(tmp_path: Path) -> None:
    document, stderr = imported(
        tmp_path,
        "quizlet.txt",
        "What is a token?\tA unit of text the model reads, often a piece of a word.\n"
        "What does RAG stand for?\tRetrieval-augmented generation, a pattern. It retrieves documents at query time.\n",
    )
    assert "(tsv)" in stderr
    assert document["topic"] == "quizlet" and document["title"] == "Imported from quizlet.txt"
    first, second = document["questions"]
    assert first["question"] == "What is a token?"
    assert first["answer"] == "A unit of text the model reads, often a piece of a word."
    assert first["sources"] == ["quizlet.txt:1"] and second["sources"] == ["quizlet.txt:2"]
    assert second["key_points"] == [
        "Retrieval-augmented generation, a pattern.",
        "It retrieves documents at query time.",
    ]


def test_anki_plain_text_headers_are_honoured(tmp_path: Path) -> None:
    document, _ = imported(
        tmp_path,
        "anki-notes.txt",
        "#separator:Semicolon\n"
        "#html:true\n"
        "#deck column:3\n"
        "#tags column:4\n"
        'What is <b>top-p</b> sampling?;"Sampling from the smallest set of tokens<br>whose probability sums to p.";'
        "Interview::Decoding;sampling decoding\n"
        "\n"
        "What is greedy decoding?;Always taking the most likely token.;Interview::Decoding;decoding\n",
    )
    assert document["topic"] == "decoding" and document["title"] == "Decoding"
    first, second = document["questions"]
    assert first["question"] == "What is top-p sampling?"
    assert first["answer"] == "Sampling from the smallest set of tokens whose probability sums to p."
    assert first["tags"] == ["imported", "sampling", "decoding"]
    assert first["sources"] == ["anki-notes.txt:5"] and second["sources"] == ["anki-notes.txt:7"]


def test_html_off_keeps_angle_brackets(tmp_path: Path) -> None:
    document, _ = imported(
        tmp_path,
        "plain.txt",
        "#separator:tab\n#html:false\nWhen is a < b true?\tWhen a is smaller than b, as in 1 < 2.\n",
    )
    assert document["questions"][0]["answer"] == "When a is smaller than b, as in 1 < 2."


def test_quoted_fields_may_span_lines_and_hold_separators(tmp_path: Path) -> None:
    document, _ = imported(
        tmp_path,
        "deck.csv",
        'What are the parts of a RAG pipeline?,"Indexing, retrieval and generation.\nEach can fail alone."\n'
        "What is a vector database?,A store that searches embeddings by similarity.\n",
    )
    first, second = document["questions"]
    assert first["answer"] == "Indexing, retrieval and generation.\nEach can fail alone."
    assert second["sources"] == ["deck.csv:3"]  # the row after a two-line field


def test_cloze_rows_of_a_cloze_notetype(tmp_path: Path) -> None:
    document, _ = imported(
        tmp_path,
        "cloze.txt",
        "#separator:tab\n#notetype:Cloze\n{{c1::BM25}} is a {{c2::sparse}} retrieval score.\tFrom Okapi.\n",
    )
    questions = {q["question"]: q for q in document["questions"]}
    assert questions["[...] is a sparse retrieval score."]["accept"] == ["BM25"]
    assert questions["BM25 is a [...] retrieval score."]["answer"] == "sparse\nFrom Okapi."


def test_a_row_without_an_answer_is_an_open_question(tmp_path: Path) -> None:
    document, stderr = imported(
        tmp_path, "cards.tsv", "What is RLHF?\t\nWhat is DPO?\tA preference loss without a reward model.\n"
    )
    assert document["questions"][0]["kind"] == "open"
    assert "cards.tsv:1: the answer is empty; imported as an open question" in stderr


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("## What is a token?\n\nA unit of text.\n", id="markdown"),
        pytest.param("1. What is a token?\n- a unit of text\n", id="numbered"),
        pytest.param("1. What is a token?\tnotes\n- a unit of text\n", id="a-line-without-tab"),
    ],
)
def test_notes_are_not_mistaken_for_tables(tmp_path: Path, text: str) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text(text, encoding="utf-8")
    assert import_notes(notes).format in ("markdown", "numbered", "flashcards")


def test_commas_alone_do_not_make_a_table(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("1. What is a token, really?\n- a unit of text, often a word piece\n", encoding="utf-8")
    assert import_notes(notes).format == "numbered"


def test_nested_clozes_give_one_question_per_number(tmp_path: Path) -> None:
    document, _ = imported(
        tmp_path,
        "nested.txt",
        "#separator:tab\n#notetype:Cloze\n{{c1::Grouped-query {{c2::attention}}}} shares keys.\t\n",
    )
    accepted = {q["question"]: q["accept"] for q in document["questions"]}
    assert accepted == {
        "[...] shares keys.": ["Grouped-query attention"],
        "Grouped-query [...] shares keys.": ["attention"],
    }


def test_a_huge_question_is_skipped_with_a_warning(tmp_path: Path) -> None:
    document, stderr = imported(
        tmp_path,
        "big.tsv",
        f"{'word ' * 2000}?\tanswer text here\nWhat is BPE?\tByte-pair encoding merges frequent pairs.\n",
    )
    assert [q["question"] for q in document["questions"]] == ["What is BPE?"]
    assert "big.tsv:1: the question is longer than 5000 characters; skipped" in stderr
