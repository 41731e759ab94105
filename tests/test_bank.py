"""The bank loader and `llmquiz bank validate`: every problem as FILE:LINE: message, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmquiz.bank import check_bank, load_bank, parse_bank_text
from llmquiz.cli import app
from llmquiz.errors import BankError

from .conftest import QUESTIONS

runner = CliRunner()

GOOD = """\
topic: demo
title: Demo topic
questions:
  - id: demo-one
    question: What is one?
    answer: One is the first counting number. It comes after zero.
    key_points:
      - one is the first counting number
      - one comes after zero
    difficulty: easy
    tags: [numbers]
    sources: []
  - id: demo-short
    kind: short
    question: What does NF4 stand for?
    answer: NF4 means 4-bit NormalFloat.
    accept: ["4-bit NormalFloat", NF4]
  - id: demo-choice
    kind: choice
    question: Which is a vector index?
    answer: HNSW is a graph-based approximate nearest-neighbour index.
    choices: [BM25, HNSW, ROUGE]
    correct: 1
"""


def write(tmp_path: Path, text: str | bytes, name: str = "bank.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_good_bank_loads(tmp_path: Path) -> None:
    bank = load_bank([write(tmp_path, GOOD)])
    assert [q.id for q in bank.questions] == ["demo-one", "demo-short", "demo-choice"]
    one = bank.question("demo-one")
    assert one.key_points == ("one is the first counting number", "one comes after zero")
    assert one.line == 4
    assert bank.question("demo-choice").correct == 1
    assert bank.question("demo-short").accept == ("4-bit NormalFloat", "NF4")


def test_shipped_bank_validates() -> None:
    result = runner.invoke(app, ["bank", "validate"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK:")


# Each case: bank text, the line the first problem must name, and words of its message.
BAD_BANKS = [
    pytest.param(
        GOOD.replace("    difficulty: easy\n", "    level: easy\n"),
        10,
        "unknown key 'level'",
        id="unknown-question-key",
    ),
    pytest.param(GOOD + "extra: 1\n", 24, "unknown key 'extra'", id="unknown-top-key"),
    pytest.param(
        GOOD.replace("id: demo-short", "id: demo-one"), 13, "duplicate id 'demo-one'", id="duplicate-id"
    ),
    pytest.param(
        GOOD.replace("answer: One is the first counting number. It comes after zero.", 'answer: ""'),
        6,
        "answer is missing or empty",
        id="empty-answer",
    ),
    pytest.param(
        GOOD.replace("    question: What is one?\n", ""),
        4,
        "question is missing or empty",
        id="missing-question",
    ),
    pytest.param(
        GOOD.replace('    accept: ["4-bit NormalFloat", NF4]\n', ""),
        13,
        "short needs a non-empty accept",
        id="short-without-accept",
    ),
    pytest.param(
        GOOD.replace("correct: 1", "correct: 3"),
        23,
        "correct must be the 0-based index",
        id="choice-correct-out-of-range",
    ),
    pytest.param(
        GOOD.replace("correct: 1", "correct: HNSW"),
        23,
        "correct must be the 0-based index",
        id="choice-correct-not-int",
    ),
    pytest.param(
        GOOD.replace("    correct: 1\n", ""),
        18,
        "correct must be the 0-based index",
        id="choice-without-correct",
    ),
    pytest.param(
        GOOD.replace("choices: [BM25, HNSW, ROUGE]", "choices: [HNSW]"),
        18,
        "at least 2 choices",
        id="choice-one-choice",
    ),
    pytest.param(
        GOOD.replace("difficulty: easy", "difficulty: brutal"), 10, "difficulty must be", id="bad-difficulty"
    ),
    pytest.param(GOOD.replace("kind: short", "kind: essay"), 14, "kind must be one of", id="bad-kind"),
    pytest.param(
        GOOD.replace("topic: demo", "topic: Demo Topic"),
        1,
        "topic must be a lowercase slug",
        id="bad-topic-slug",
    ),
    pytest.param(GOOD.replace("id: demo-one", "id: demo one!"), 4, "question id must be a slug", id="bad-id"),
    pytest.param(
        GOOD.replace("tags: [numbers]", "tags: {a: 1}"),
        11,
        "tags must be a list of texts",
        id="tags-wrong-type",
    ),
    pytest.param(
        GOOD.replace("      - one comes after zero", "      - [nested]"),
        7,
        "key_points must be a list of texts",
        id="key-points-wrong-type",
    ),
    pytest.param(
        GOOD.replace("    difficulty: easy\n", "    difficulty: easy\n    difficulty: hard\n"),
        11,
        "duplicate key 'difficulty'",
        id="duplicate-key",
    ),
    pytest.param(GOOD.replace("  - id: demo-one", "\t- id: demo-one"), 4, "invalid YAML", id="tab-indent"),
    pytest.param(
        GOOD.replace("    question: What is one?", "      question: What is one?"),
        5,
        "invalid YAML",
        id="bad-indentation",
    ),
    pytest.param("topic: x\ntitle: y\nquestions: [\n", 4, "invalid YAML", id="unclosed-flow"),
    pytest.param("!!python/object:os.system\nfoo: bar\n", 1, "invalid YAML", id="python-tag"),
    pytest.param(
        "topic: demo\ntitle: t\nquestions: !!python/object/apply:os.system [echo hi]\n",
        3,
        "invalid YAML",
        id="python-apply-tag",
    ),
    pytest.param("", 1, "must be a mapping", id="empty-file"),
    pytest.param("- just\n- a list\n", 1, "must be a mapping", id="top-level-list"),
    pytest.param("topic: demo\ntitle: t\nquestions: []\n", 3, "non-empty list", id="no-questions"),
    pytest.param(
        "topic: demo\ntitle: t\nquestions:\n  - just a string\n",
        4,
        "must be a mapping",
        id="question-not-mapping",
    ),
    pytest.param("topic: demo\ntitle: t\nquestions: 5\n", 3, "non-empty list", id="questions-not-list"),
    pytest.param(GOOD.replace("title: Demo topic", "title: ''"), 2, "title must be", id="empty-title"),
    pytest.param(
        GOOD.replace("    correct: 1\n", "    correct: 1\n").replace(
            "kind: short", "kind: short\n    correct: 0"
        ),
        15,
        "correct is only for kind choice",
        id="correct-on-short",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_BANKS)
def test_bad_bank_reports_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    _, problems = check_bank([path])
    assert problems, "expected a problem"
    first = problems[0]
    assert (first.file, first.line) == (str(path), line), str(first)
    assert message in first.message

    result = runner.invoke(app, ["bank", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:{line}: " in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


BAD_FILES = [
    pytest.param(b"\x00\x01\x02binary\x00", 1, "binary data", id="binary"),
    pytest.param("topic: démo\n".encode("latin-1"), 1, "not valid UTF-8", id="latin-1"),
    pytest.param(
        b"topic: demo\ntitle: ok\nquestions:\n  - id: \xff\xfe\n",
        4,
        "not valid UTF-8",
        id="bad-utf8-line-4",
    ),
]


@pytest.mark.parametrize(("data", "line", "message"), BAD_FILES)
def test_unreadable_bank_files(tmp_path: Path, data: bytes, line: int, message: str) -> None:
    path = write(tmp_path, data)
    _, problems = check_bank([path])
    assert [(p.line, message in p.message) for p in problems] == [(line, True)]


def test_huge_bank_file_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"# padding\n" * (5 * 1024 * 1024))  # 50 MB
    _, problems = check_bank([path])
    assert len(problems) == 1 and "file too large" in problems[0].message


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = GOOD.replace("difficulty: easy", "difficulty: brutal").replace("correct: 1", "correct: 9")
    path = write(tmp_path, text)
    result = runner.invoke(app, ["bank", "validate", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(path))]
    assert len(lines) == 2
    assert "2 problems found." in result.stderr


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, GOOD.replace("topic: demo", "topic: other"), "b.yaml")
    _, problems = check_bank([first, second])
    assert {p.message.split(" (")[0] for p in problems} == {
        "duplicate id 'demo-one'",
        "duplicate id 'demo-short'",
        "duplicate id 'demo-choice'",
    }
    assert all(p.file == str(second) for p in problems)


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(BankError, match=r"no \.yaml bank files"):
        load_bank([tmp_path])
    with pytest.raises(BankError, match="no such file"):
        load_bank([tmp_path / "nope.yaml"])


def test_bad_bank_option_gives_one_line_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("correct: 1", "correct: 7"))
    result = runner.invoke(app, ["--bank", str(path), "list"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}:23: ")
    assert len(result.stderr.strip().splitlines()) == 1


# YAML itself folds the Unicode line breaks NEL, LS and PS inside plain scalars: leave them out
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"),
    max_size=40,
)
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None, derandomize=True)
@given(document=yaml_values)
def test_loader_never_crashes_on_any_yaml_document(document: object) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)
    topic, problems = parse_bank_text(text, "fuzz.yaml")
    assert topic is not None or problems
    assert all(p.file == "fuzz.yaml" and p.line >= 0 for p in problems)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(text=st.text(max_size=300))
def test_loader_never_crashes_on_any_text(text: str) -> None:
    _, problems = parse_bank_text(text, "fuzz.yaml")
    assert all(isinstance(p.message, str) for p in problems)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(question=texts.filter(str.strip), answer=texts.filter(str.strip))
def test_loader_keeps_any_question_text(question: str, answer: str) -> None:
    document = {
        "topic": "fuzz",
        "title": "Fuzz",
        "questions": [{"id": "fuzz-1", "question": question, "answer": answer}],
    }
    topic, problems = parse_bank_text(yaml.safe_dump(document, allow_unicode=True), "f.yaml")
    assert problems == []
    assert topic is not None and topic.questions[0].question == question.strip()


def test_shipped_bank_files_exist() -> None:
    assert sorted(QUESTIONS.glob("*.yaml")), "the shipped bank is missing"


def test_duplicate_id_is_reported_even_when_the_copy_has_other_problems(tmp_path: Path) -> None:
    text = GOOD.replace("id: demo-short", "id: demo-one").replace("kind: short", "kind: essay")
    _, problems = check_bank([write(tmp_path, text)])
    messages = [p.message for p in problems]
    assert any("duplicate id 'demo-one'" in m for m in messages)
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_a_duplicate_entry_has_its_other_problems_reported_too(tmp_path: Path) -> None:
    copy = "  - id: demo-one\n    colour: red\n    question: What is one again?\n    answer: One.\n"
    path = write(tmp_path, GOOD + copy)
    result = runner.invoke(app, ["bank", "validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:24: duplicate id 'demo-one' (first at line 4)",
        f"{path}:25: demo-one: unknown key 'colour'",
        "2 problems found.",
    ]


def test_a_duplicate_across_files_is_reported_beside_the_copy_s_other_problems(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD, "a.yaml")
    copy = "topic: other\ntitle: Other\nquestions:\n  - id: demo-one\n    colour: red\n    question: Q?\n    answer: A.\n"
    second = write(tmp_path, copy, "b.yaml")
    _, problems = check_bank([first, second])
    assert [str(p) for p in problems] == [
        f"{second}:5: demo-one: unknown key 'colour'",
        f"{second}:4: duplicate id 'demo-one' (also at {first}:4)",
    ]
