"""Every command through Typer's CliRunner: exit codes, --json documents, history lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz import __version__
from llmquiz.cli import app
from llmquiz.history import HistoryRecord, append_record, read_history

from .records import CONTRACT_FIELDS

runner = CliRunner()
LEXICAL = ["--grader", "lexical"]


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"llmquiz {__version__}"


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    for command in (
        "quiz",
        "drill",
        "review",
        "exam",
        "grade",
        "topics",
        "list",
        "show",
        "stats",
        "history",
        "bank",
        "import",
        "calibrate",
    ):
        assert f"  {command} " in commands


def test_list_json_shape_and_topic_filter() -> None:
    everything = json.loads(invoke("list", "--json").stdout)
    assert len(everything) >= 24
    assert set(everything[0]) >= {"id", "topic", "kind", "difficulty", "question"}
    rag = json.loads(invoke("list", "--topic", "rag", "--json").stdout)
    assert rag and {q["topic"] for q in rag} == {"rag"}
    assert len({q["id"] for q in everything}) == len(everything)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["list", "--topic", "nope"], "Error: unknown topic: 'nope'", id="list-unknown-topic"),
        pytest.param(["show", "nope-1"], "Error: unknown question id: 'nope-1'", id="show-unknown-id"),
        pytest.param(["drill", "nope"], "Error: unknown topic: 'nope'", id="drill-unknown-topic"),
        pytest.param(["grade", "nope-1", "x"], "Error: unknown question id: 'nope-1'", id="grade-unknown-id"),
        pytest.param(["quiz", "--topic", "nope"], "Error: unknown topic: 'nope'", id="quiz-unknown-topic"),
        pytest.param(["exam", "--topic", "nope"], "Error: unknown topic: 'nope'", id="exam-unknown-topic"),
        pytest.param(
            ["--bank", "/does/not/exist.yaml", "list"],
            "Error: /does/not/exist.yaml: no such file",
            id="missing-bank",
        ),
        pytest.param(["stats", "--topic", "nope"], "Error: unknown topic: 'nope'", id="stats-unknown-topic"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = invoke(*LEXICAL, *args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(message)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["quiz", "--count", "0"], id="count-zero"),
        pytest.param(["--grader", "magic", "list"], id="bad-grader"),
        pytest.param(["--device", "tpu", "list"], id="bad-device"),
        pytest.param(["quiz", "--difficulty", "brutal"], id="bad-difficulty"),
        pytest.param(["nonsense"], id="unknown-command"),
        pytest.param(["history", "--limit", "x"], id="limit-not-int"),
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_show_prints_reference_key_points_and_sources() -> None:
    question = json.loads(invoke("list", "--topic", "rag", "--json").stdout)[0]
    result = invoke("show", question["id"])
    assert result.exit_code == 0
    assert "Reference answer" in result.stdout
    assert "Key points" in result.stdout
    assert "Sources:" in result.stdout


def test_topics_json_counts_questions_and_answers(llmquiz_home: Path) -> None:
    rows = json.loads(invoke("topics", "--json").stdout)
    assert {"topic", "title", "questions", "answered", "mastery", "due"} <= set(rows[0])
    rag = next(r for r in rows if r["topic"] == "rag")
    assert rag["answered"] == 0 and rag["mastery"] == 0
    first = json.loads(invoke("list", "--topic", "rag", "--json").stdout)[0]["id"]
    assert invoke(*LEXICAL, "grade", first, "I have no idea").exit_code == 0
    rag = next(r for r in json.loads(invoke("topics", "--json").stdout) if r["topic"] == "rag")
    assert rag["answered"] == 1


def test_history_json_newest_first(llmquiz_home: Path) -> None:
    assert json.loads(invoke("history", "--json").stdout) == []
    ids = [q["id"] for q in json.loads(invoke("list", "--topic", "rag", "--json").stdout)[:3]]
    for qid in ids:
        assert invoke(*LEXICAL, "grade", qid, "retrieval of documents").exit_code == 0
    records = json.loads(invoke("history", "--json", "--limit", "2").stdout)
    assert [r["question_id"] for r in records] == ids[::-1][:2]
    assert set(records[0]) >= CONTRACT_FIELDS


def test_history_warns_about_damaged_lines(llmquiz_home: Path) -> None:
    llmquiz_home.mkdir(parents=True)
    (llmquiz_home / "history.jsonl").write_text("garbage\n", encoding="utf-8")
    result = invoke("history", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert "damaged record skipped" in result.stderr


def test_grade_json_lexical() -> None:
    qid = json.loads(invoke("list", "--topic", "rag", "--json").stdout)[0]["id"]
    result = invoke(*LEXICAL, "grade", qid, "I don't know", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"id", "score", "verdict", "missed"} <= set(data)
    assert data["score"] == 0 and data["verdict"] == "incorrect" and data["missed"]


def free_questions(topic: str) -> list[str]:
    return [
        q["id"] for q in json.loads(invoke("list", "--topic", topic, "--json").stdout) if q["kind"] == "free"
    ]


def test_quiz_records_answers_ratings_and_overrides(llmquiz_home: Path) -> None:
    # two questions: answer, rate 4; answer, dispute ("r") and rate 2
    result = invoke(
        *LEXICAL,
        "quiz",
        "--topic",
        "agents",
        "--count",
        "2",
        "--seed",
        "3",
        input="an agent uses tools in a loop\n4\nplanning and memory\nr 2\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "Session summary" in result.stdout
    assert "Reference answer" in result.stdout
    records = read_history(llmquiz_home).records
    assert [r.answer for r in records] == ["an agent uses tools in a loop", "planning and memory"]
    assert [(r.self_rating, r.override) for r in records] == [(4, None), (2, "correct")]
    assert {r.mode for r in records} == {"quiz"}
    assert len({r.session for r in records}) == 1


def test_quiz_is_repeatable_with_seed() -> None:
    first = invoke(*LEXICAL, "quiz", "--count", "3", "--seed", "7", input="")
    second = invoke(*LEXICAL, "quiz", "--count", "3", "--seed", "7", input="")
    assert first.stdout == second.stdout


def test_quiz_end_of_input_keeps_what_was_answered(llmquiz_home: Path) -> None:
    result = invoke(*LEXICAL, "quiz", "--count", "5", "--seed", "1", input="one answer\n")
    assert result.exit_code == 0
    records = read_history(llmquiz_home).records
    assert len(records) == 1 and records[0].self_rating is None


def test_bad_rating_is_asked_again(llmquiz_home: Path) -> None:
    result = invoke(*LEXICAL, "quiz", "--topic", "rag", "--count", "1", "--seed", "1", input="answer\n9\n3\n")
    assert result.exit_code == 0
    assert "Type a number from 1 to 5" in result.stderr
    assert read_history(llmquiz_home).records[0].self_rating == 3


def test_open_question_is_self_rated(llmquiz_home: Path, tmp_path: Path) -> None:
    bank = tmp_path / "open.yaml"
    bank.write_text(
        "topic: views\ntitle: Views\nquestions:\n"
        "  - id: views-open-source\n    kind: open\n    question: Should LLMs be open?\n"
        "    answer: Arguments go both ways.\n    key_points: [openness helps research]\n",
        encoding="utf-8",
    )
    result = invoke("--bank", str(bank), "quiz", input="yes, mostly\n4\n")
    assert result.exit_code == 0, result.stderr
    (record,) = read_history(llmquiz_home).records
    assert (record.score, record.self_rating, record.grader) == (75, 4, "self")


def test_drill_brings_a_missed_question_back(llmquiz_home: Path) -> None:
    answers = "".join("no idea\n\n" for _ in range(8))
    result = invoke(*LEXICAL, "drill", "chunking", "--count", "2", input=answers)
    assert result.exit_code == 0, result.stderr
    asked = [r.question_id for r in read_history(llmquiz_home).records]
    assert len(asked) > 2 and len(set(asked)) == 2  # both missed, both came back


def test_review_nothing_due_then_due(llmquiz_home: Path) -> None:
    result = invoke(*LEXICAL, "review")
    assert result.exit_code == 0 and "Nothing is due" in result.stderr
    qid = free_questions("rag")[0]
    append_record(
        llmquiz_home,
        HistoryRecord(
            ts="2026-01-01T09:00:00Z",
            session="old",
            mode="quiz",
            question_id=qid,
            topic="rag",
            answer="x",
            score=10,
            verdict="incorrect",
        ),
    )
    result = invoke(*LEXICAL, "review", input="retrieval\n\n")
    assert result.exit_code == 0, result.stderr
    assert [r.mode for r in read_history(llmquiz_home).records] == ["quiz", "review"]


def test_stats_json_shape(llmquiz_home: Path) -> None:
    for qid in free_questions("rag")[:3]:
        invoke(*LEXICAL, "grade", qid, "documents are retrieved and given to the model as context")
    data = json.loads(invoke("stats", "--json").stdout)
    assert {"topics", "weakest", "streak_days", "trend"} <= set(data)
    assert {"topic", "answered", "mean_score", "mastery", "due"} <= set(data["topics"][0])
    assert data["streak_days"] == 1
    assert data["trend"][-1]["answered"] == 3
    assert invoke("stats").exit_code == 0


def test_calibrate_small_csv_lexical(tmp_path: Path) -> None:
    csv_file = tmp_path / "graded.csv"
    rows = ["question,reference,answer,score"]
    for i in range(6):
        rows.append(
            f"What is RAG?,Retrieval of documents given as context to the model,"
            f"{'retrieval of documents as context' if i % 2 else 'no idea'},{5 if i % 2 else 0}"
        )
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = invoke(*LEXICAL, "calibrate", str(csv_file), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {
        "n",
        "pearson",
        "spearman",
        "auc",
        "suggested_pass_mark",
        "answers_per_second",
    }
    assert data["n"] == 6 and data["pearson"] > 0.9


def test_calibrate_unreadable_csv(tmp_path: Path) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke(*LEXICAL, "calibrate", str(csv_file))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {csv_file}:")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["list", "--topic", "Rag", "--json"], "rag", id="list"),
        pytest.param(["stats", "--topic", "RAG", "--json"], "rag", id="stats"),
    ],
)
def test_topics_are_case_insensitive(args: list[str], expected: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    topics = {q["topic"] for q in data} if isinstance(data, list) else {t["topic"] for t in data["topics"]}
    assert topics == {expected}


def test_the_same_topic_twice_in_any_case_is_asked_once() -> None:
    once = json.loads(invoke("list", "--topic", "rag", "--json").stdout)
    assert json.loads(invoke("list", "--topic", "rag", "--topic", "Rag", "--json").stdout) == once


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["drill", "ragg"], "Error: unknown topic: 'ragg'; did you mean 'rag'? (topics: ", id="topic"
        ),
        pytest.param(
            ["show", "rag-waht-is"],
            "Error: unknown question id: 'rag-waht-is'; did you mean 'rag-what-is'?",
            id="id-typo",
        ),
        pytest.param(
            ["show", "rag-what"],
            "Error: unknown question id: 'rag-what'; did you mean 'rag-what-is'?",
            id="id-prefix",
        ),
        pytest.param(
            ["show", "zzzz"], "Error: unknown question id: 'zzzz' (see `llmquiz list`)", id="id-far-off"
        ),
    ],
)
def test_unknown_names_get_a_did_you_mean(args: list[str], message: str) -> None:
    result = invoke(*LEXICAL, *args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(message)
