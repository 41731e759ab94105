"""Sessions in a real (pseudo-)terminal while the grader is still loading.

The grader here loads as slowly as the real model on a loaded laptop (tests/terminal.py),
so these tests see what the learner sees during those seconds: the timed exam never makes
the candidate wait between questions, an empty answer needs no model, and the first
answer's wait names each loading step.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from llmquiz.history import UNGRADED, read_history

from .terminal import Terminal, run_without_terminal

ANSWER = "documents are retrieved at query time and given to the model as context\n"


def seconds_left(shown: str) -> int:
    minutes, seconds = re.findall(r"(\d+):(\d\d) left", shown)[-1]
    return int(minutes) * 60 + int(seconds)


def test_a_timed_exam_never_makes_the_candidate_wait_between_questions(llmquiz_home: Path) -> None:
    load = 8.0  # seconds the grader takes to load, all of it while the candidate answers
    exam = ["--grader", "lexical", "exam", "--count", "3", "--seed", "1", "--time-limit", "1"]
    terminal = Terminal(exam, llmquiz_home, load_delay=load)
    for number in (1, 2, 3):
        between = terminal.expect(f"Question {number}/3")
        assert "Loading" not in between and "Grading" not in between, between
        left = seconds_left(terminal.expect(" left"))
        # the clock counts only the candidate's time: typing takes none here, and loading the
        # model must not cost the candidate its 8 seconds (slack: 3 s for a busy machine)
        assert left >= 60 - (load - 3), (number, left)
        terminal.expect("> ")
        terminal.type(ANSWER)
    report = terminal.expect("answered")  # "PASSED: score ... 3/3 answered" or FAILED
    assert "Exam report" in report and "3/3 answered" in report
    assert "unanswered" not in report.split("Exam report")[1]
    assert terminal.finish() in (0, 1)
    records = read_history(llmquiz_home).records
    assert [r.mode for r in records] == ["exam"] * 3
    assert all(r.verdict != UNGRADED for r in records)
    assert all(r.elapsed_s is not None and r.elapsed_s < load for r in records)  # not the load


def test_ctrl_c_in_an_exam_keeps_every_answer_even_ungraded(llmquiz_home: Path) -> None:
    exam = ["--grader", "lexical", "exam", "--count", "3", "--seed", "1"]
    terminal = Terminal(exam, llmquiz_home, load_delay=60)
    terminal.expect("> ")
    terminal.type(ANSWER)
    terminal.expect("Question 2/3")
    terminal.expect("> ")
    # Python prints the prompt, then reads: a Ctrl-C in between is only seen after Enter
    time.sleep(0.5)
    terminal.type("\x03")  # Ctrl-C
    terminal.expect("Interrupted: 1 answer kept in the history.")
    assert terminal.finish() == 130
    (record,) = read_history(llmquiz_home).records
    assert (record.answer, record.verdict) == (ANSWER.strip(), UNGRADED)


def test_an_empty_enter_asks_again_and_a_skip_needs_no_model(llmquiz_home: Path) -> None:
    terminal = Terminal(
        ["quiz", "--topic", "rag", "--count", "1", "--seed", "1"], llmquiz_home, load_delay=60
    )
    terminal.expect("> ")
    terminal.type("\n")
    terminal.expect("Empty answer: press Enter again to skip, or type your answer.")
    terminal.expect("> ")
    terminal.type("\n")  # a second Enter: skip, shown the reference answer at once
    shown = terminal.expect("Reference answer:", timeout=30)  # the model needs 60 s to load
    assert "Loading" not in shown
    terminal.expect("How well did you know this?")
    terminal.type("\n")
    assert terminal.finish() == 0
    (record,) = read_history(llmquiz_home).records
    assert (record.answer, record.score, record.verdict) == ("", 0, "incorrect")


def test_a_session_ended_before_the_model_loads_exits_at_once_with_all_its_output(
    llmquiz_home: Path,
) -> None:
    # The load thread is still running when the exam ends: the process exits without
    # finalising under it (that crashed at random with the real model), output flushed.
    exam = run_without_terminal(["exam", "--count", "2", "--seed", "1", "--json"], llmquiz_home, 60)
    assert exam.returncode == 1, exam.stderr  # nothing answered: the exam is failed
    report = json.loads(exam.stdout)
    assert [q["verdict"] for q in report["questions"]] == ["unanswered"] * 2
    quiz = run_without_terminal(["quiz", "--topic", "rag", "--count", "1"], llmquiz_home, 60)
    assert quiz.returncode == 0, quiz.stderr
    assert "Question 1/1" in quiz.stdout


def test_an_accidental_empty_enter_loses_nothing(llmquiz_home: Path) -> None:
    terminal = Terminal(["--grader", "lexical", "quiz", "-t", "rag", "-n", "1"], llmquiz_home, load_delay=0)
    terminal.expect("> ")
    terminal.type("\n")
    terminal.expect("Empty answer")
    terminal.type(ANSWER)
    terminal.expect("How well did you know this?")
    terminal.type("4\n")
    assert terminal.finish() == 0
    (record,) = read_history(llmquiz_home).records
    assert (record.answer, record.self_rating) == (ANSWER.strip(), 4)


def test_the_first_answer_s_wait_names_each_loading_step(llmquiz_home: Path) -> None:
    quiz = ["--grader", "lexical", "quiz", "--topic", "rag", "--count", "1", "--seed", "1"]
    terminal = Terminal(quiz, llmquiz_home, load_delay=8)
    terminal.expect("> ")
    terminal.type(ANSWER)
    waited = terminal.expect("Feedback")
    steps = [
        "Checking the model's weights (the first time after installing only",
        "Loading the grading model (the first time, its weights are read from disk)",
        "Loading the claim judge",
        "Reading the bank's answers with the model (the first time only",
    ]
    positions = [waited.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), waited
    terminal.expect("How well did you know this?")
    terminal.type("\n")
    assert terminal.finish() == 0


def test_an_exam_whose_model_fails_to_load_keeps_the_answers_and_says_why(llmquiz_home: Path) -> None:
    exam = ["--grader", "lexical", "exam", "--count", "2", "--seed", "1"]
    terminal = Terminal(exam, llmquiz_home, load_delay=2, load_error="the model cannot be loaded (a test)")
    for number in (1, 2):
        terminal.expect(f"Question {number}/2")
        terminal.expect("> ")
        terminal.type(ANSWER)
    terminal.expect("Error: the model cannot be loaded (a test)")
    assert terminal.finish() == 2
    records = read_history(llmquiz_home).records
    assert [(r.answer, r.verdict) for r in records] == [(ANSWER.strip(), UNGRADED)] * 2


def test_grade_names_the_loading_step_it_waits_for(llmquiz_home: Path) -> None:
    terminal = Terminal(["--grader", "lexical", "grade", "rag-what-is", ANSWER], llmquiz_home, load_delay=2)
    shown = terminal.expect("Feedback")
    assert "Checking the model's weights" in shown and "Loading the claim judge" in shown
    assert "Reading the bank's answers" in shown
    assert terminal.finish() == 0
