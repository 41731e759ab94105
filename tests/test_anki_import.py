"""`llmquiz import` of Anki packages: genanki-made decks, the newer zstd format, hostile zips."""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llmquiz.bank import parse_bank_text
from llmquiz.cli import app
from llmquiz.importing import apkg, import_notes, render_bank_yaml

from .anki_decks import (
    BASIC,
    BASIC_ID,
    CLOZE,
    CLOZE_ID,
    REVERSED,
    TYPE_ID,
    TYPE_IN,
    anki21b_package,
    genanki_package,
    note,
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def private_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """genanki leaves a temporary SQLite file behind: keep it inside the test's folder."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))


def bank_of(path: Path, *args: str) -> tuple[dict, CliRunner]:
    """Import through the CLI into a YAML file; return the document and check it validates."""
    out = path.with_suffix(".yaml")
    result = runner.invoke(app, ["import", str(path), "-o", str(out), *args])
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    topic, problems = parse_bank_text(text, str(out))
    assert problems == [] and topic is not None
    return yaml.safe_load(text), result


@pytest.fixture
def mixed_deck(tmp_path: Path) -> Path:
    return genanki_package(
        tmp_path / "mixed.apkg",
        {
            "Interview::Transformers": [
                note(
                    BASIC,
                    "What is <b>self-attention</b>?",
                    "<div>Every token attends to every other token.</div>"
                    "<div>The weights come from a softmax over query-key scores.&nbsp;</div>"
                    '<img src="attention.png"><ul><li>queries &amp; keys</li><li>softmax weights</li></ul>',
                    tags=["attention", "core"],
                ),
                note(TYPE_IN, "Which 2017 paper introduced the Transformer?", "Attention Is All You Need"),
                note(
                    REVERSED,
                    "What does LoRA train?",
                    "Two small low-rank matrices beside each frozen weight.",
                ),
                note(BASIC, '<img src="diagram.png">', "The encoder stack.[sound:encoder.mp3]"),
                note(BASIC, "Name the parts of this diagram.", '<img src="parts.png">'),
                note(
                    CLOZE,
                    "The {{c1::KV cache}} stores keys and values of {{c2::past tokens::which tokens?}}.",
                    "",
                ),
            ]
        },
    )


def test_a_mixed_deck_imports_into_a_bank_with_no_html(mixed_deck: Path) -> None:
    document, result = bank_of(mixed_deck)
    questions = {q["question"]: q for q in document["questions"]}
    assert document["topic"] == "transformers" and document["title"] == "Transformers"
    attention = questions["What is self-attention?"]
    assert attention["answer"].splitlines() == [
        "Every token attends to every other token.",
        "The weights come from a softmax over query-key scores.",
        "- queries & keys",
        "- softmax weights",
    ]
    assert attention["tags"] == ["imported", "attention", "core"]
    assert attention["key_points"][0] == "Every token attends to every other token."
    paper = questions["Which 2017 paper introduced the Transformer?"]
    assert paper["answer"] == "Attention Is All You Need" and "kind" not in paper  # 5 words: free
    assert "What does LoRA train?" in questions  # the reversed card type: front asks, back answers
    blank = questions["The [...] stores keys and values of past tokens."]
    assert blank["kind"] == "short" and blank["accept"] == ["KV cache"] and blank["answer"] == "KV cache"
    hinted = questions["The KV cache stores keys and values of [which tokens?]."]
    assert hinted["accept"] == ["past tokens"]
    assert questions["Name the parts of this diagram."]["kind"] == "open"
    dumped = json.dumps(document)
    for leftover in ("<", ">", "&nbsp;", "&amp;", "[sound:", ".png"):
        assert leftover not in dumped
    assert len(document["questions"]) == 6  # the image-only question is skipped
    note_ids = [q["sources"][0].split(":")[1] for q in document["questions"]]
    assert all(source.startswith("mixed.apkg:") for q in document["questions"] for source in q["sources"])
    assert all(note_id.isdigit() for note_id in note_ids)
    assert "the question is only an image or a sound; skipped" in result.stderr
    assert "the answer is only an image or a sound; imported as an open question" in result.stderr


def test_a_one_word_answer_becomes_a_short_question(tmp_path: Path) -> None:
    deck = genanki_package(
        tmp_path / "capitals.apkg", {"Geography": [note(TYPE_IN, "Capital of France?", "Paris")]}
    )
    (question,) = bank_of(deck)[0]["questions"]
    assert question["kind"] == "short" and question["accept"] == ["Paris"]


def test_topic_option_wins_over_the_deck_name(mixed_deck: Path) -> None:
    document, _ = bank_of(mixed_deck, "--topic", "attention")
    assert document["topic"] == "attention"
    assert all(q["id"].startswith("attention-") for q in document["questions"])


def test_several_decks_share_their_parent_as_topic_and_are_tagged(tmp_path: Path) -> None:
    deck = genanki_package(
        tmp_path / "ml.apkg",
        {
            "ML::RAG": [note(BASIC, "What is RAG?", "Retrieval, then generation from the retrieved text.")],
            "ML::Prompting": [
                note(BASIC, "What is few-shot prompting?", "Examples in the prompt show the task.")
            ],
        },
    )
    document, _ = bank_of(deck)
    assert document["topic"] == "ml" and document["title"] == "ML"
    tags = {q["question"]: q["tags"] for q in document["questions"]}
    assert tags == {
        "What is RAG?": ["imported", "rag"],
        "What is few-shot prompting?": ["imported", "prompting"],
    }


def test_ids_are_stable_across_imports(mixed_deck: Path) -> None:
    first = [item.id for item in import_notes(mixed_deck).items]
    assert first == [item.id for item in import_notes(mixed_deck).items]
    assert len(set(first)) == len(first)


def test_dry_run_lists_notes_by_id(mixed_deck: Path) -> None:
    result = runner.invoke(app, ["import", str(mixed_deck), "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "6 questions (anki), topic transformers" in " ".join(result.stdout.split())
    assert re.search(r"^\|\s+note\s+\| kind", result.stdout, re.MULTILINE)  # notes have ids, not lines


# --- the newer format: zstd-compressed collection.anki21b ---------------------------------------


NEWER_NOTES = [
    (
        1_700_000_000_001,
        BASIC_ID,
        " transformers attention ",
        [
            "What is <i>multi-head</i> attention?",
            "Several attention heads run in parallel.<br>Each learns its own projections.",
        ],
    ),
    (
        1_700_000_000_002,
        CLOZE_ID,
        "",
        ["{{c1::Layer normalisation}} keeps activations in range.", "Applied per token."],
    ),
    (1_700_000_000_003, TYPE_ID, "", ["What does GQA share between heads?", "keys and values"]),
    (1_700_000_000_004, BASIC_ID, "", ["", ""]),
]


def test_newer_anki_packages_read_the_zstd_collection(tmp_path: Path) -> None:
    package = anki21b_package(tmp_path / "newer.apkg", NEWER_NOTES)
    document, result = bank_of(package)
    assert (
        document["topic"] == "transformers" and document["title"] == "Transformers"
    )  # "Interview\x1fTransformers"
    questions = {q["question"]: q for q in document["questions"]}
    assert "Please update to the latest Anki version." not in questions  # the old-format stub is not read
    multi_head = questions["What is multi-head attention?"]
    assert (
        multi_head["answer"] == "Several attention heads run in parallel.\nEach learns its own projections."
    )
    assert multi_head["tags"] == ["imported", "transformers", "attention"]
    assert multi_head["sources"] == ["newer.apkg:1700000000001"]
    norm = questions["[...] keeps activations in range."]
    assert norm["kind"] == "short" and norm["accept"] == ["Layer normalisation"]
    assert norm["answer"] == "Layer normalisation\nApplied per token."
    assert questions["What does GQA share between heads?"]["accept"] == ["keys and values"]
    assert "newer.apkg:1700000000004: the question is empty; skipped" in result.stderr


def test_a_bare_collection_file_imports_too(tmp_path: Path) -> None:
    from .anki_decks import schema18_collection

    collection = schema18_collection(tmp_path / "collection.anki2", NEWER_NOTES[:1])
    (question,) = bank_of(collection)[0]["questions"]
    assert question["question"] == "What is multi-head attention?"


# --- a package is hostile until read ---------------------------------------------------------


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(
            lambda p: zipped(p, {"notes.txt": b"hello"}),
            "a zip file without an Anki collection",
            id="no-collection",
        ),
        pytest.param(
            lambda p: zipped(p, {"collection.anki2": b"not sqlite at all"}),
            "not an SQLite database",
            id="not-sqlite",
        ),
        pytest.param(
            lambda p: zipped(p, {"collection.anki21b": b"\x28\xb5\x2f\xfd garbage"}),
            "damaged collection",
            id="bad-zstd",
        ),
        pytest.param(
            lambda p: zipped(p, {"collection.anki2": b"SQLite format 3\x00" + b"\x00" * 200}),
            "damaged collection",
            id="bad-sqlite",
        ),
        pytest.param(
            lambda p: p.write_bytes(b"PK\x03\x04 truncated") and p, "damaged or truncated zip", id="truncated"
        ),
        pytest.param(
            lambda p: p.write_bytes(b"\x93\x07 random bytes"), "not an Anki package", id="not-a-zip"
        ),
        pytest.param(
            lambda p: zipped(p, {"../../collection.anki2": b"x", "/etc/collection.anki21": b"y"}),
            "without an Anki collection",
            id="traversal-names",
        ),
    ],
)
def test_bad_packages_exit_2_with_one_line(tmp_path: Path, build, message: str) -> None:
    package = tmp_path / "deck.apkg"
    build(package)
    result = runner.invoke(app, ["import", str(package)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {package}: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "collection.anki2").exists()  # nothing is extracted by the zip's names


def test_a_truncated_real_package_exits_2(mixed_deck: Path) -> None:
    data = mixed_deck.read_bytes()
    mixed_deck.write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["import", str(mixed_deck)])
    assert result.exit_code == 2 and result.stderr.startswith(f"Error: {mixed_deck}: ")


def test_a_collection_over_the_size_cap_is_refused(mixed_deck: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apkg, "MAX_COLLECTION_BYTES", 4096)  # the real cap is 512 MB
    result = runner.invoke(app, ["import", str(mixed_deck)])
    assert result.exit_code == 2
    assert "collection.anki2 is larger than 0 MB once unpacked" in result.stderr


def test_a_zip_bomb_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apkg, "MAX_COLLECTION_BYTES", 1024 * 1024)
    bomb = zipped(
        tmp_path / "bomb.apkg", {"collection.anki21": b"SQLite format 3\x00" + b"\x00" * (8 * 1024 * 1024)}
    )
    assert bomb.stat().st_size < 64 * 1024
    result = runner.invoke(app, ["import", str(bomb)])
    assert result.exit_code == 2 and "larger than 1 MB once unpacked" in result.stderr


def test_a_view_posing_as_the_notes_table_is_not_read(tmp_path: Path) -> None:
    """Only real tables are read: a `notes` view (which could call functions) is refused."""
    import sqlite3

    path = tmp_path / "evil.anki2"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE col (models text, decks text); INSERT INTO col VALUES ('{}', '{}');"
        "CREATE VIEW notes AS SELECT 1 AS id, 1 AS mid, '' AS tags, load_extension('x') AS flds;"
    )
    db.close()
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 2 and "the collection has no notes table" in result.stderr


def test_render_keeps_html_out_of_yaml(mixed_deck: Path) -> None:
    text = render_bank_yaml(import_notes(mixed_deck))
    assert "<b>" not in text and "<div>" not in text and "<img" not in text


def test_an_imported_deck_can_be_quizzed_at_once(mixed_deck: Path, llmquiz_home: Path) -> None:
    from llmquiz.history import read_history

    bank = mixed_deck.with_suffix(".yaml")
    bank_of(mixed_deck)
    quiz = runner.invoke(
        app,
        ["--bank", str(bank), "--grader", "lexical", "quiz", "--count", "6", "--seed", "1"],
        input="KV cache\n5\n" * 6,
    )
    assert quiz.exit_code == 0, quiz.stderr
    records = read_history(llmquiz_home).records
    assert len(records) == 6 and {record.topic for record in records} == {"transformers"}
