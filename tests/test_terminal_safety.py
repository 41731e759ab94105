"""Nothing read from a file drives the terminal: every command's output from a hostile bank.

The bank, its file name, the history, the answers, the notes and the CSV are full of what a
terminal acts on (OSC 52 clipboard writes, OSC 2 titles, CSI screen clears, C1 CSI, BIDI
overrides, carriage returns, backspaces, bells). Every command's stdout and stderr must hold
none of it; the text itself must still be there, its controls shown as escapes.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llmquiz.cli import app
from llmquiz.safetext import json_text, storable_text, terminal_line, terminal_text, xml_text

runner = CliRunner()
LEXICAL = ["--grader", "lexical"]

CLIPBOARD = "\x1b]52;c;ZWNobyBvd25lZA==\x1b\\"
TITLE = "\x1b]2;owned\x07"
CLEAR = "\x1b[2J"
EVIL = f"{CLIPBOARD} {TITLE} {CLEAR} \x9b31m \u202eevil\u202c \u2066iso\u2069 \r\x08\x7f"
SHORT_EVIL = f"{CLEAR}\x9b1m\u202e"
# what must never reach the terminal (tab and newline are layout)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def hostile_bank(folder: Path) -> Path:
    """A bank folder whose one file (itself oddly named) has controls in every text."""
    document = {
        "topic": "evil",
        "title": "Evil " + EVIL,
        "questions": [
            {
                "id": "evil-free",
                "question": "What is retrieval? " + EVIL,
                "answer": "Retrieval fetches documents. " + EVIL,
                "key_points": ["documents are fetched " + EVIL, "context is given to the model " + EVIL],
                "tags": [EVIL],
                "sources": [EVIL],
                "keywords": ["retrieval"],
                "misconceptions": [{"claim": "it retrains the weights " + SHORT_EVIL, "correction": EVIL}],
            },
            {
                "id": "evil-choice",
                "kind": "choice",
                "question": "Pick one " + EVIL,
                "answer": "The first. " + EVIL,
                "choices": ["first " + EVIL, "second " + EVIL],
                "correct": 0,
            },
            {
                "id": "evil-short",
                "kind": "short",
                "question": "Name it " + EVIL,
                "answer": "NF4 " + EVIL,
                "accept": ["NF4", "4-bit " + EVIL],
            },
            {"id": "evil-open", "kind": "open", "question": "Opinion? " + EVIL, "answer": "Both. " + EVIL},
        ],
    }
    folder.mkdir()
    name = f"evil{TITLE}.yaml"
    (folder / name).write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return folder


def hostile_history(home: Path) -> None:
    home.mkdir(mode=0o700)
    base = {
        "ts": "2026-01-01T09:00:00Z",
        "session": EVIL,
        "mode": EVIL,
        "question_id": "evil-free",
        "topic": "evil",
        "answer": "my answer " + EVIL,
        "score": 30,
        "verdict": "incorrect",
        "missed": [EVIL],
        "grader": EVIL,
    }
    lines = [base, {**base, "question_id": "gone-" + EVIL, "verdict": EVIL}]
    path = home / "history.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    path.chmod(0o600)


def assert_nothing_unsafe(output: str, where: str) -> None:
    found = UNSAFE.search(output)
    assert found is None, (
        f"{where}: {found.group()!r} at {found.start()}: {output[max(0, found.start() - 80) : found.end() + 80]!r}"
    )  # type: ignore[union-attr]


@pytest.fixture
def files(tmp_path: Path, llmquiz_home: Path) -> dict[str, Path]:
    hostile_history(llmquiz_home)
    notes = tmp_path / f"notes{CLEAR}.md"
    notes.write_text(
        f"# Notes {EVIL}\n\n## What is a token? {EVIL}\n\nA token is a unit of text. {EVIL}\n\n"
        f"- first {EVIL}\n- second {EVIL}\n\n## What is unanswered {SHORT_EVIL}?\n",
        encoding="utf-8",
    )
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        yaml.safe_dump({"evil-free": "retrieval of documents " + EVIL, "evil-choice": "1"}), encoding="utf-8"
    )
    csv_file = tmp_path / "graded.csv"
    csv_file.write_text(
        f'question,reference,answer,score\n"What {EVIL}","Ref {EVIL}","retrieval {EVIL}",5\nq,r,no idea,0\n',
        encoding="utf-8",
    )
    return {
        "bank": hostile_bank(tmp_path / "bank"),
        "notes": notes,
        "answers": answers,
        "csv": csv_file,
        "junit": tmp_path / "report.xml",
    }


COMMANDS = [
    pytest.param(["list"], "", id="list"),
    pytest.param(["list", "--json"], "", id="list-json"),
    pytest.param(["show", "evil-free"], "", id="show-free"),
    pytest.param(["show", "evil-choice"], "", id="show-choice"),
    pytest.param(["show", "evil-short"], "", id="show-short"),
    pytest.param(["show", "nope" + EVIL], "", id="show-unknown-id"),
    pytest.param(["topics"], "", id="topics"),
    pytest.param(["topics", "--json"], "", id="topics-json"),
    pytest.param(["stats"], "", id="stats"),
    pytest.param(["stats", "--json"], "", id="stats-json"),
    pytest.param(["history"], "", id="history"),
    pytest.param(["history", "--json"], "", id="history-json"),
    pytest.param(["grade", "evil-free", "documents are fetched " + EVIL], "", id="grade"),
    pytest.param(["grade", "evil-free", "documents " + EVIL, "--json"], "", id="grade-json"),
    pytest.param(
        ["quiz", "--count", "4", "--seed", "1"], f"one {EVIL}\n3\ntwo {EVIL}\nr\n1\n\n4\n", id="quiz"
    ),
    pytest.param(["drill", "evil", "--count", "2"], f"no idea {EVIL}\n\n", id="drill"),
    pytest.param(["review"], f"again {EVIL}\n2\n", id="review"),
    pytest.param(["exam", "--topic", "evil", "--count", "3"], f"a {EVIL}\n1\nb\n", id="exam-interactive"),
    pytest.param(["exam", "--answers", "ANSWERS"], "", id="exam-answers"),
    pytest.param(["exam", "--answers", "ANSWERS", "--json"], "", id="exam-json"),
    pytest.param(["exam", "--answers", "ANSWERS", "--junit", "JUNIT"], "", id="exam-junit"),
    pytest.param(["bank", "validate", "BANK"], "", id="bank-validate"),
    pytest.param(["import", "NOTES", "--dry-run"], "", id="import-dry-run"),
    pytest.param(["import", "NOTES"], "", id="import-to-stdout"),
    pytest.param(["calibrate", "CSV"], "", id="calibrate"),
    pytest.param(["calibrate", "CSV", "--json"], "", id="calibrate-json"),
]


@pytest.mark.parametrize(("command", "typed"), COMMANDS)
def test_no_control_sequence_from_a_file_reaches_the_terminal(
    files: dict[str, Path], command: list[str], typed: str
) -> None:
    names = {"ANSWERS": "answers", "JUNIT": "junit", "BANK": "bank", "NOTES": "notes", "CSV": "csv"}
    args = [str(files[names[arg]]) if arg in names else arg for arg in command]
    result = runner.invoke(app, ["--bank", str(files["bank"]), *LEXICAL, *args], input=typed)
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert_nothing_unsafe(result.stdout, "stdout")
    assert_nothing_unsafe(result.stderr, "stderr")
    if "--json" in args:
        json.loads(result.stdout)  # still one valid JSON document


def test_the_texts_are_shown_with_their_controls_as_escapes(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["--bank", str(files["bank"]), "show", "evil-free"])
    assert result.exit_code == 0
    assert "\\x1b]52;c;ZWNobyBvd25lZA==\\x1b\\" in result.stdout  # visible, so the learner sees it
    assert "\\u202eevil\\u202c" in result.stdout and "\\x9b31m" in result.stdout
    listed = json.loads(runner.invoke(app, ["--bank", str(files["bank"]), "list", "--json"]).stdout)
    assert listed[0]["question"] == "What is retrieval? " + EVIL  # JSON keeps the exact text


def test_junit_holds_only_characters_xml_allows(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        [
            "--bank",
            str(files["bank"]),
            *LEXICAL,
            "exam",
            "--answers",
            str(files["answers"]),
            "--junit",
            str(files["junit"]),
        ],
    )
    assert result.exit_code in (0, 1), result.stderr
    raw = files["junit"].read_text(encoding="utf-8")
    assert_nothing_unsafe(raw, "junit")
    assert ET.fromstring(raw).tag == "testsuite"  # well-formed


def test_the_imported_bank_keeps_no_bidi_override_and_still_validates(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "imported.yaml"
    result = runner.invoke(app, ["import", str(files["notes"]), "--topic", "notes", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert_nothing_unsafe(out.read_text(encoding="utf-8"), "the bank file")
    assert runner.invoke(app, ["bank", "validate", str(out)]).exit_code == 0


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param(
            "plain text, é ü 🚀\tand\nlines", "plain text, é ü 🚀\tand\nlines", id="safe-text-unchanged"
        ),
        pytest.param("a\x1b[2Jb", "a\\x1b[2Jb", id="csi"),
        pytest.param("\x9b1m", "\\x9b1m", id="c1-csi"),
        pytest.param("\u202eabc", "\\u202eabc", id="bidi-override"),
        pytest.param("x\ry\x08\x07", "x\\x0dy\\x08\\x07", id="cr-backspace-bell"),
        pytest.param("bytes \udcff\udcfe", "bytes \\xff\\xfe", id="undecodable-bytes"),
        pytest.param("\u2028", "\\u2028", id="line-separator"),
    ],
)
def test_terminal_text(text: str, shown: str) -> None:
    assert terminal_text(text) == shown
    assert UNSAFE.search(terminal_line(text)) is None and "\n" not in terminal_line(text)


def test_xml_json_and_storable_text() -> None:
    assert xml_text("a\x00b\ufffe\x1b") == "a\\x00b\\ufffe\\x1b"
    document = json_text({"text": "a\x1b\x9b\u202e\udcff"})
    assert UNSAFE.search(document) is None
    assert json.loads(document) == {"text": "a\x1b\x9b\u202e\udcff"}  # the same data
    assert storable_text("retrieval \udcff") == "retrieval \\xff"
    assert storable_text("caf\udcc3\udca9 \udcc3") == "café \\xc3"  # UTF-8 bytes decode, a stray one escapes
    assert storable_text("é\x1b") == "é\x1b"  # valid text is stored exactly
    storable_text("\ud800 lone").encode("utf-8")  # any lone surrogate: storable as UTF-8
