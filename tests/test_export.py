"""`llmquiz export`: the bank as an Anki package or TSV, stable ids, round trips, safe output."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import genanki
import pytest
import yaml
from typer.testing import CliRunner

from llmquiz.bank import load_bank
from llmquiz.cli import app
from llmquiz.paths import history_file

from .conftest import QUESTIONS

runner = CliRunner()
RAG = load_bank([QUESTIONS]).topic("rag")


def export(*args: str) -> None:
    result = runner.invoke(app, ["export", *args])
    assert result.exit_code == 0, result.stderr


def collection(package: Path, tmp_path: Path) -> sqlite3.Connection:
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist() == ["collection.anki2", "media"]
        data = archive.read("collection.anki2")
    path = tmp_path / f"{package.stem}.anki2"
    path.write_bytes(data)
    return sqlite3.connect(path)


def test_export_topic_rag_holds_one_note_per_question(tmp_path: Path) -> None:
    package = tmp_path / "rag.apkg"
    result = runner.invoke(app, ["export", "--topic", "rag", "-o", str(package)])
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {len(RAG.questions)} notes (apkg) to {package}" in result.stderr
    db = collection(package, tmp_path)
    rows = db.execute("SELECT guid, flds, tags FROM notes ORDER BY id").fetchall()
    assert len(rows) == len(RAG.questions)
    assert [guid for guid, _, _ in rows] == [genanki.guid_for("llmquiz", q.id) for q in RAG.questions]
    question, choices, answer, key_points, misconceptions, qid = rows[0][1].split("\x1f")
    first = RAG.questions[0]
    assert (question, qid) == (first.question, first.id) and answer.startswith(first.answer[:40])
    assert key_points == "<ul>" + "".join(f"<li>{point}</li>" for point in first.key_points) + "</ul>"
    assert choices == ""  # a free question
    assert first.misconceptions and all(m.claim in misconceptions for m in first.misconceptions)
    (choice,) = [q for q in RAG.questions if q.kind == "choice"]
    shown = rows[RAG.questions.index(choice)][1].split("\x1f")[1]
    assert shown == "<ol>" + "".join(f"<li>{text}</li>" for text in choice.choices) + "</ol>"
    models = json.loads(db.execute("SELECT models FROM col").fetchone()[0])
    (model,) = models.values()
    assert [field["name"] for field in model["flds"]][:3] == ["Question", "Choices", "Answer"]
    assert "{{type:Answer}}" in model["tmpls"][0]["qfmt"]
    decks = {deck["name"] for deck in json.loads(db.execute("SELECT decks FROM col").fetchone()[0]).values()}
    assert {"llmquiz", "llmquiz::Retrieval-augmented generation"} <= decks
    cards = db.execute("SELECT count(*) FROM cards").fetchone()[0]
    assert cards == len(RAG.questions)  # one type-in card per note


def test_exporting_twice_gives_the_same_guids_and_ids(tmp_path: Path) -> None:
    ids = []
    for name in ("first.apkg", "second.apkg"):
        export("--topic", "rag", "--topic", "chunking", "-o", str(tmp_path / name))
        db = collection(tmp_path / name, tmp_path)
        guids = [guid for (guid,) in db.execute("SELECT guid FROM notes ORDER BY id")]
        models = sorted(json.loads(db.execute("SELECT models FROM col").fetchone()[0]))
        decks = sorted(json.loads(db.execute("SELECT decks FROM col").fetchone()[0]))
        ids.append((guids, models, decks))
    assert ids[0] == ids[1]
    assert len(set(ids[0][0])) == len(ids[0][0])


def imported_back(path: Path, tmp_path: Path, *args: str) -> dict:
    out = tmp_path / f"{path.stem}-back.yaml"
    result = runner.invoke(app, ["import", str(path), "-o", str(out), *args])
    assert result.exit_code == 0, result.stderr
    assert runner.invoke(app, ["bank", "validate", str(out)]).exit_code == 0
    return yaml.safe_load(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("suffix", [pytest.param(".apkg", id="apkg"), pytest.param(".tsv", id="tsv")])
def test_round_trip_gives_the_same_questions_and_answers(tmp_path: Path, suffix: str) -> None:
    exported = tmp_path / f"rag{suffix}"
    export("--topic", "rag", "-o", str(exported))
    document = imported_back(exported, tmp_path, "--topic", "rag")
    back = [(q["id"], q["question"], q["answer"], q.get("key_points")) for q in document["questions"]]
    bank = [(q.id, q.question, q.answer, list(q.key_points)) for q in RAG.questions]
    assert back == bank
    assert document["title"] == RAG.title


def test_the_whole_bank_round_trips_through_tsv(tmp_path: Path) -> None:
    export("-o", str(tmp_path / "bank.tsv"))
    document = imported_back(tmp_path / "bank.tsv", tmp_path)
    bank = load_bank([QUESTIONS])
    assert document["topic"] == "llmquiz"  # the decks' common parent
    assert [(q["id"], q["question"], q["answer"]) for q in document["questions"]] == [
        (q.id, q.question, q.answer) for q in bank.questions
    ]
    rag_tag = {q["id"]: q["tags"][-1] for q in document["questions"]}["rag-what-is"]
    assert rag_tag == "retrieval-augmented-generation"  # its own deck, as a tag


MISCONCEPTION_BANK = """\
topic: decoding
title: Decoding
questions:
  - id: decoding-temperature
    question: What does the sampling temperature change?
    answer: It divides the logits before the softmax. Higher values flatten the distribution.
    key_points:
      - logits are divided by the temperature before the softmax
      - higher temperature gives a flatter distribution
    tags: [sampling, decoding strategies]
    misconceptions:
      - claim: temperature changes the model's weights
        correction: the weights are fixed; only the logits are rescaled at sampling time
"""


@pytest.mark.parametrize("suffix", [pytest.param(".apkg", id="apkg"), pytest.param(".tsv", id="tsv")])
def test_misconceptions_travel_with_their_corrections(tmp_path: Path, suffix: str) -> None:
    bank = tmp_path / "decoding.yaml"
    bank.write_text(MISCONCEPTION_BANK, encoding="utf-8")
    exported = tmp_path / f"decoding{suffix}"
    result = runner.invoke(app, ["--bank", str(bank), "export", "-o", str(exported)])
    assert result.exit_code == 0, result.stderr
    if suffix == ".apkg":
        (fields, tags) = collection(exported, tmp_path).execute("SELECT flds, tags FROM notes").fetchone()
        assert (
            "<b>Not so:</b> temperature changes the model's weights<br><b>In fact:</b> the weights" in fields
        )
        assert tags.split() == ["sampling", "decoding_strategies"]
    (question,) = imported_back(exported, tmp_path)["questions"]
    assert question["misconceptions"] == [
        {
            "claim": "temperature changes the model's weights",
            "correction": "the weights are fixed; only the logits are rescaled at sampling time",
        }
    ]


def test_the_format_follows_the_file_name_unless_given(tmp_path: Path) -> None:
    export("--topic", "rag", "-o", str(tmp_path / "rag.tsv"))
    assert (tmp_path / "rag.tsv").read_text(encoding="utf-8").startswith("#separator:tab\n#html:true\n")
    export("--topic", "rag", "--format", "apkg", "-o", str(tmp_path / "rag.txt"))
    assert zipfile.is_zipfile(tmp_path / "rag.txt")


def test_an_existing_export_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "rag.apkg"
    target.write_bytes(b"old")
    export("--topic", "rag", "-o", str(target))
    assert zipfile.is_zipfile(target)


def refused(tmp_path: Path, target: Path, *global_args: str) -> str:
    result = runner.invoke(app, [*global_args, "export", "--topic", "rag", "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    return result.stderr


def test_the_history_file_is_never_an_export_target(tmp_path: Path, llmquiz_home: Path) -> None:
    history = history_file(llmquiz_home)
    history.parent.mkdir(parents=True)
    history.write_text('{"keep": true}\n', encoding="utf-8")
    assert "refusing to write over the history" in refused(tmp_path, history)
    assert history.read_text(encoding="utf-8") == '{"keep": true}\n'


def test_a_bank_file_being_exported_is_not_overwritten(tmp_path: Path) -> None:
    bank = tmp_path / "decoding.yaml"
    bank.write_text(MISCONCEPTION_BANK, encoding="utf-8")
    result = runner.invoke(app, ["--bank", str(bank), "export", "-o", str(bank)])
    assert result.exit_code == 2 and "refusing to write over an input of this command" in result.stderr
    assert bank.read_text(encoding="utf-8") == MISCONCEPTION_BANK


def test_folders_are_refused_and_links_followed_to_a_regular_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.apkg"
    folder.mkdir()
    assert "is a folder" in refused(tmp_path, folder)
    real = tmp_path / "real.apkg"
    real.write_bytes(b"keep")
    link = tmp_path / "link.apkg"
    link.symlink_to(real)
    export("--topic", "rag", "-o", str(link))  # through a link to a regular file: its target
    assert link.is_symlink() and zipfile.is_zipfile(real)


def test_an_unknown_topic_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x.apkg"
    result = runner.invoke(app, ["export", "--topic", "nope", "-o", str(target)])
    assert result.exit_code == 2 and "unknown topic: 'nope'" in result.stderr
    assert not target.exists()
