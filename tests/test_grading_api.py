"""Plumbing of the grading package: results, kinds, lexical grader, light imports, CSV."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmquiz.bank import Question
from llmquiz.errors import BadInputError, InputFileError
from llmquiz.grading import CORRECT_AT, PARTIAL_AT, GradeResult, make_grader, verdict_for
from llmquiz.grading.calibrate import calibrate, read_graded_csv, roc_auc, spearman, youden_threshold

SRC = Path(__file__).resolve().parents[1] / "src"

TEMPERATURE = Question(
    id="t-temp",
    topic="t",
    question="What does the sampling temperature do in an LLM?",
    answer=(
        "Temperature divides the logits before the softmax. A low temperature sharpens the "
        "distribution, so output is more deterministic; a high temperature flattens it, so "
        "output is more random and diverse."
    ),
    key_points=(
        "temperature scales the logits before softmax",
        "low temperature makes output more deterministic",
        "high temperature makes output more random and diverse",
    ),
)
SHORT = Question(
    id="t-nf4",
    topic="t",
    question="Which 4-bit data type does QLoRA introduce?",
    answer="4-bit NormalFloat (NF4).",
    kind="short",
    accept=("4-bit NormalFloat", "NF4", "NormalFloat4"),
)
CHOICE = Question(
    id="t-choice",
    topic="t",
    question="Which component stores past keys and values?",
    answer="The KV cache.",
    kind="choice",
    choices=("the tokenizer", "the KV cache", "the LM head"),
    correct=1,
)
OPEN = Question(id="t-open", topic="t", question="Opinion?", answer="Any.", kind="open")


@pytest.mark.parametrize(
    ("score", "verdict"),
    [
        pytest.param(100, "correct", id="100"),
        pytest.param(CORRECT_AT, "correct", id="correct-at"),
        pytest.param(CORRECT_AT - 1, "partial", id="just-below-correct"),
        pytest.param(PARTIAL_AT, "partial", id="partial-at"),
        pytest.param(PARTIAL_AT - 1, "incorrect", id="just-below-partial"),
        pytest.param(0, "incorrect", id="0"),
    ],
)
def test_verdict_bands(score: int, verdict: str) -> None:
    assert verdict_for(score) == verdict
    assert GradeResult.make(score, method="lexical").verdict == verdict


def test_result_clamps_and_rounds() -> None:
    assert GradeResult.make(123.4, method="lexical").score == 100
    assert GradeResult.make(-3, method="lexical").score == 0
    assert GradeResult.make(float("nan"), method="lexical").score == 0


def test_unknown_grader_kind_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        make_grader("magic", home=tmp_path)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("I don't know", id="dont-know"),
        pytest.param("idk", id="idk"),
        pytest.param("no idea, sorry", id="no-idea"),
        pytest.param("???", id="question-marks"),
        pytest.param("Not sure.", id="not-sure"),
    ],
)
def test_no_idea_answers_score_zero_without_a_model(tmp_path: Path, answer: str) -> None:
    for kind in ("lexical", "semantic"):  # semantic: decided before the model is needed
        grader = make_grader(kind, home=tmp_path)
        result = grader.grade(TEMPERATURE, answer)
        assert (result.score, result.method) == (0, "empty")
        assert result.missed == TEMPERATURE.key_points


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        pytest.param("NF4", 100, id="acronym"),
        pytest.param("nf4", 100, id="lowercase"),
        pytest.param("4-bit NormalFloat", 100, id="full-name"),
        pytest.param("4 bit normal float", 100, id="spaced"),
        pytest.param("4-bit NormalFlaot", 100, id="typo"),
        pytest.param("It is NF4.", 100, id="inside-sentence"),
        pytest.param("NF8", 0, id="wrong-number"),
        pytest.param("INT8", 0, id="other-type"),
        pytest.param("FP4", 0, id="near-acronym"),
    ],
)
def test_short_answers(tmp_path: Path, answer: str, score: int) -> None:
    result = make_grader("lexical", home=tmp_path).grade(SHORT, answer)
    assert result.score == score
    assert result.method == "short"


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        pytest.param("2", 100, id="number-1-based"),
        pytest.param("b", 100, id="letter"),
        pytest.param("B)", 100, id="letter-paren"),
        pytest.param("(b)", 100, id="paren-letter"),
        pytest.param("the KV cache", 100, id="choice-text"),
        pytest.param("kv cache", 100, id="choice-text-loose"),
        pytest.param("1", 0, id="wrong-number"),
        pytest.param("c", 0, id="wrong-letter"),
        pytest.param("0", 0, id="zero-is-not-a-choice"),
        pytest.param("7", 0, id="out-of-range"),
        pytest.param("the tokenizer", 0, id="wrong-text"),
    ],
)
def test_choice_answers(tmp_path: Path, answer: str, score: int) -> None:
    result = make_grader("lexical", home=tmp_path).grade(CHOICE, answer)
    assert result.score == score
    assert result.method == "choice"


def test_open_questions_are_not_graded(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_grader("lexical", home=tmp_path).grade(OPEN, "anything")


def test_lexical_grader_ranks_and_reports_missed_points(tmp_path: Path) -> None:
    grader = make_grader("lexical", home=tmp_path)
    good = grader.grade(
        TEMPERATURE,
        "It scales the logits before the softmax: low temperature gives more deterministic "
        "output, high temperature more random and diverse output.",
    )
    part = grader.grade(TEMPERATURE, "Low temperature makes the output more deterministic.")
    off = grader.grade(TEMPERATURE, "Paris is the capital of France.")
    assert good.score > part.score > off.score
    assert good.method == "lexical" and good.model is None
    assert grader.name == "lexical:rapidfuzz"
    assert "low temperature makes output more deterministic" in part.covered
    assert "high temperature makes output more random and diverse" in part.missed
    many = grader.grade_many([(TEMPERATURE, "idk"), (SHORT, "NF4")])
    assert [r.score for r in many] == [0, 100]


def test_importing_grading_and_lexical_grading_never_import_torch(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import llmquiz.grading
        heavy = ("torch", "sentence_transformers", "numpy", "transformers")
        assert not [m for m in heavy if m in sys.modules], "import llmquiz.grading is heavy"
        from llmquiz.bank import Question
        grader = llmquiz.grading.make_grader("lexical", home=Path({str(tmp_path)!r}))
        q = Question(id="q", topic="t", question="What is a KV cache?",
                     answer="It stores the keys and values of past tokens.",
                     key_points=("stores keys and values of past tokens",))
        grader.load()
        grader.prepare([q])
        grader.grade(q, "It caches keys and values so they are not recomputed.")
        grader.grade_many([(q, "idk"), (q, "keys and values")])
        semantic = llmquiz.grading.make_grader("semantic", home=Path({str(tmp_path)!r}))
        semantic.grade(q, "I don't know")
        loaded = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
        assert not loaded, loaded
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# --- calibrate ---------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_read_graded_csv(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "g.csv",
        """
        question,reference,answer,score,key_points
        What is a KV cache?,It stores past keys and values.,keys and values,5,stores keys | stores values
        What is a KV cache?,It stores past keys and values.,no idea,0,
        """,
    )
    rows = read_graded_csv(csv_file)
    assert [r.gold for r in rows] == [5.0, 0.0]
    assert rows[0].key_points == ("stores keys", "stores values")
    assert rows[1].key_points == ()
    assert rows[0].gold_column == "score"


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        pytest.param("question,reference,answer\nq,r,a\n", 1, "missing column", id="no-gold"),
        pytest.param("question,answer,score\nq,a,1\n", 1, "reference", id="no-reference"),
        pytest.param("question,reference,answer,score\nq,r,a,high\n", 2, "not a number", id="bad-gold"),
        pytest.param("question,reference,answer,score\n", 1, "no graded rows", id="no-rows"),
        pytest.param("question,reference,answer,score\nq,r,a,1,extra\n", 2, "more fields", id="extra"),
    ],
)
def test_read_graded_csv_problems(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_graded_csv(path)
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == (str(path), line)
    assert message in problem.message


def test_read_graded_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError):
        read_graded_csv(tmp_path / "nope.csv")


def test_statistics() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert roc_auc([10, 20, 80, 90], [False, False, True, True]) == 1.0
    assert roc_auc([50, 50], [False, True]) == 0.5
    assert youden_threshold([10, 20, 80, 90], [False, False, True, True]) in range(21, 81)


def test_calibrate_with_the_lexical_grader(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "g.csv",
        """
        question,reference,answer,score
        What does temperature do?,It scales logits; low is deterministic and high is random.,It scales the logits: low temperature is deterministic and high temperature random,5
        What does temperature do?,It scales logits; low is deterministic and high is random.,It scales logits,3
        What does temperature do?,It scales logits; low is deterministic and high is random.,Paris is in France,0
        What does temperature do?,It scales logits; low is deterministic and high is random.,I don't know,0
        """,
    )
    result = calibrate(read_graded_csv(csv_file), make_grader("lexical", home=tmp_path))
    assert result.n == 4
    assert result.gold_column == "score"
    assert result.pearson > 0.8
    assert result.auc == 1.0
    assert result.answers_per_second > 0
    assert set(result.to_dict()) >= {
        "n", "pearson", "spearman", "auc", "suggested_pass_mark", "answers_per_second"
    }  # fmt: skip
