"""Exam mode for pipelines: answers files, JSON and JUnit reports, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llmquiz.cli import app
from llmquiz.history import read_history

from .conftest import QUESTIONS, REPO

runner = CliRunner()
LEXICAL = ["--grader", "lexical"]


def bank_answers(topic: str, count: int) -> dict[str, str]:
    """Perfect answers: each question's own reference answer (choice: its correct number)."""
    data = yaml.safe_load((QUESTIONS / f"{topic}.yaml").read_text(encoding="utf-8"))
    answers: dict[str, str] = {}
    for q in data["questions"]:
        kind = q.get("kind", "free")
        if kind == "open":
            continue
        if kind == "choice":
            answers[q["id"]] = str(q["correct"] + 1)
        elif kind == "short":
            answers[q["id"]] = q["accept"][0]
        else:
            answers[q["id"]] = q["answer"]
        if len(answers) == count:
            break
    return answers


def write_answers(tmp_path: Path, answers: dict[str, str], suffix: str = ".yaml") -> Path:
    path = tmp_path / f"answers{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(answers, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(answers, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [pytest.param(".yaml", id="yaml"), pytest.param(".json", id="json")])
def test_perfect_answers_pass_with_json_report(tmp_path: Path, suffix: str, llmquiz_home: Path) -> None:
    answers = bank_answers("rag", 4)
    path = write_answers(tmp_path, answers, suffix)
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True and report["pass_mark"] == 70
    assert [q["id"] for q in report["questions"]] == list(answers)
    assert all({"id", "topic", "score", "verdict", "missed"} <= set(q) for q in report["questions"])
    assert report["score"] >= 70
    assert len(read_history(llmquiz_home).records) == 4


def test_wrong_answers_fail_with_exit_1_and_junit(tmp_path: Path) -> None:
    answers = dict.fromkeys(bank_answers("rag", 3), "no idea")
    path = write_answers(tmp_path, answers)
    junit = tmp_path / "out" / "exam.xml"
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(path), "--junit", str(junit)])
    assert result.exit_code == 1
    assert "FAILED" in result.stdout
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "3" and suite.get("failures") == "3"
    failure = suite.find("testcase/failure")
    assert failure is not None and "score 0" in failure.get("message", "")
    assert "missed:" in (failure.text or "")


def test_missing_answers_count_zero_with_topic_and_count(tmp_path: Path) -> None:
    answers = bank_answers("chunking", 2)
    path = write_answers(tmp_path, answers)
    args = [
        *LEXICAL,
        "exam",
        "--answers",
        str(path),
        "--topic",
        "chunking",
        "--count",
        "5",
        "--seed",
        "4",
        "--json",
    ]
    first = json.loads(runner.invoke(app, args).stdout)
    again = json.loads(runner.invoke(app, args).stdout)
    assert [q["id"] for q in first["questions"]] == [q["id"] for q in again["questions"]]
    assert len(first["questions"]) == 5
    unanswered = [q for q in first["questions"] if q["id"] not in answers]
    assert unanswered and all(q["score"] == 0 and q["verdict"] == "unanswered" for q in unanswered)


def test_pass_mark_decides(tmp_path: Path) -> None:
    answers = bank_answers("rag", 2)
    answers[next(iter(answers))] = "no idea"
    path = write_answers(tmp_path, answers)
    low = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(path), "--pass-mark", "10", "--json"])
    high = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(path), "--pass-mark", "90", "--json"])
    assert (low.exit_code, high.exit_code) == (0, 1)
    assert json.loads(high.stdout)["passed"] is False


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "a.yaml", "rag-nope-1: hello\n", "a.yaml:1: unknown question id 'rag-nope-1'", id="unknown-id"
        ),
        pytest.param("a.yaml", "x: [unclosed\n", "a.yaml:2: invalid YAML", id="invalid-yaml"),
        pytest.param("a.json", '{"x": "y",\n  }', "a.json:2: invalid JSON", id="invalid-json"),
        pytest.param(
            "a.yaml", "- a list\n", "a.yaml:1: an answers file must map question ids", id="not-a-mapping"
        ),
        pytest.param("a.yaml", b"\xff\xfe garbage", "a.yaml:1: not valid UTF-8", id="not-utf8"),
        pytest.param(
            "a.yaml",
            "!!python/object/apply:os.system [echo hi]\n",
            "a.yaml:1: invalid YAML: tag not allowed",
            id="python-tag",
        ),
    ],
)
def test_bad_answers_files_exit_2_with_file_and_line(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path}/{message}")
    assert "Traceback" not in result.stderr


def test_missing_answers_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_bad_pass_mark_exits_2(tmp_path: Path) -> None:
    path = write_answers(tmp_path, bank_answers("rag", 1))
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(path), "--pass-mark", "120"])
    assert result.exit_code == 2


def test_interactive_exam_gives_no_feedback_until_the_end(llmquiz_home: Path) -> None:
    result = runner.invoke(
        app,
        [*LEXICAL, "exam", "--topic", "rag", "--count", "2", "--seed", "1"],
        input="retrieval of documents\nno idea\n",
    )
    assert result.exit_code == 1
    assert "Reference answer" not in result.stdout
    assert "How well did you know this" not in result.stdout
    assert "Exam report" in result.stdout
    assert [r.mode for r in read_history(llmquiz_home).records] == ["exam", "exam"]


def test_interactive_exam_unanswered_count_zero_at_end_of_input() -> None:
    result = runner.invoke(app, [*LEXICAL, "exam", "--count", "3", "--seed", "2", "--json"], input="")
    report = json.loads(result.stdout)
    assert [q["verdict"] for q in report["questions"]] == ["unanswered"] * 3
    assert result.exit_code == 1


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "LLMQUIZ_HOME": str(home), "NO_COLOR": "1"}
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "llmquiz", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_pipeline_run_with_stdin_closed_and_the_real_model(tmp_path: Path, model_home: Path) -> None:
    """The GitHub Actions job in the README, as a subprocess: no terminal, CI=true."""
    answers = bank_answers("rag", 3)
    path = write_answers(tmp_path, answers)
    junit = tmp_path / "exam.xml"
    validate = run_cli("bank", "validate", str(QUESTIONS), home=model_home)
    assert validate.returncode == 0, validate.stderr
    result = run_cli("exam", "--answers", str(path), "--junit", str(junit), home=model_home)
    assert result.returncode == 0, result.stderr
    assert "PASSED" in result.stdout
    assert "\x1b[" not in result.stdout  # plain text
    ET.parse(junit)
    failing = write_answers(tmp_path, dict.fromkeys(answers, "I don't know"))
    result = run_cli("exam", "--answers", str(failing), "--json", home=model_home)
    assert result.returncode == 1
    assert json.loads(result.stdout)["passed"] is False


def test_time_limit_ends_the_exam_and_counts_unanswered_as_zero(tmp_path: Path) -> None:
    env = {**os.environ, "LLMQUIZ_HOME": str(tmp_path), "NO_COLOR": "1", "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmquiz",
            *LEXICAL,
            "exam",
            "--count",
            "3",
            "--seed",
            "1",
            "--time-limit",
            "0.04",
            "--json",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None
    process.stdin.write("retrieval of documents as context\n")  # answers the first question only
    process.stdin.flush()
    process.wait(timeout=60)  # stdin stays open: only the time limit can end this exam
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = process.stdout.read(), process.stderr.read()
    process.stdin.close()
    assert process.returncode == 1, stderr
    assert "Time is up" in stderr
    report = json.loads(stdout)  # questions and prompts went to stderr
    assert report["timed_out"] is True
    verdicts = [q["verdict"] for q in report["questions"]]
    assert verdicts[0] != "unanswered" and verdicts[1:] == ["unanswered", "unanswered"]
    assert "left · " not in stderr and " left" in stderr  # the countdown is shown with each question


def test_blank_answers_count_zero_and_an_empty_file_is_an_error(tmp_path: Path) -> None:
    blank = tmp_path / "blank.yaml"
    blank.write_text("rag-what-is:\nrag-pipeline-steps: retrieval then generation\n", encoding="utf-8")
    report = json.loads(runner.invoke(app, [*LEXICAL, "exam", "--answers", str(blank), "--json"]).stdout)
    assert [q["id"] for q in report["questions"]] == ["rag-what-is", "rag-pipeline-steps"]
    assert report["questions"][0]["verdict"] == "unanswered"
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(empty)])
    assert result.exit_code == 2 and "names no questions" in result.stderr


@pytest.mark.parametrize(
    ("scores", "pass_mark", "score", "passed"),
    [
        pytest.param([70, 70, 69] * 33 + [69], 69.67, 70, True, id="mean-69.66-shows-70-and-passes-69.67"),
        pytest.param([70, 69], 70, 70, True, id="a-half-rounds-up"),
        pytest.param([70, 69, 69], 70, 69, False, id="69.33-fails-70"),
        pytest.param([76, 75, 76], 70, 76, True, id="75.67-is-76"),
    ],
)
def test_the_exam_score_is_a_whole_number_and_decides_the_pass(
    scores: list[int], pass_mark: float, score: int, passed: bool
) -> None:
    from llmquiz.bank import Question
    from llmquiz.exam import ExamItem, ExamReport
    from llmquiz.reports import exam_json

    q = Question(id="q", topic="t", question="?", answer="!")
    report = ExamReport(tuple(ExamItem(q, "a", s, "partial", ()) for s in scores), pass_mark, grader="x")
    assert (report.score, report.passed) == (score, passed)
    data = json.loads(exam_json(report))
    assert data["score"] == score and isinstance(data["score"], int) and data["passed"] is passed
    assert data["mean"] == round(sum(scores) / len(scores), 2)


def test_answers_file_with_a_time_limit_is_a_usage_error(tmp_path: Path) -> None:
    path = write_answers(tmp_path, bank_answers("rag", 1))
    result = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(path), "--time-limit", "5"])
    assert result.exit_code == 2 and "--time-limit" in result.stderr


def test_exam_json_names_a_repeated_misconception_with_its_correction(tmp_path: Path) -> None:
    q = next(q for q in yaml.safe_load((QUESTIONS / "sft.yaml").read_text(encoding="utf-8"))["questions"]
             if q["id"] == "sft-lora")  # fmt: skip
    wrong = q["misconceptions"][0]
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({"sft-lora": wrong["claim"]}), encoding="utf-8")
    out = runner.invoke(app, [*LEXICAL, "exam", "--answers", str(answers), "--json"])
    assert out.exit_code == 1, out.output
    (item,) = json.loads(out.stdout)["questions"]
    assert item["verdict"] == "incorrect"
    assert {"claim", "correction"} == set(item["wrong_claims"][0])
    assert " ".join(wrong["correction"].split()) in [w["correction"] for w in item["wrong_claims"]]


def test_grade_shows_what_was_wrong_and_what_is_true() -> None:
    out = runner.invoke(
        app, [*LEXICAL, "grade", "sft-lora", "LoRA quantizes the frozen base model to 4 bits to save memory."]
    )
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "Not right:" in text and "actually:" in text
    assert "QLoRA" in text  # the bank's correction
