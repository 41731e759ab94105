"""Contradiction-aware grading with the real model: a wrong answer is never called right.

Hand-written answers to shipped-bank questions, one per kind of answer; each test states
what a careful examiner would conclude, not a score tuned to the grader.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.bank import Bank, load_bank
from llmquiz.cli import app
from llmquiz.grading import Grader, GradeResult, make_grader

from .conftest import QUESTIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank([QUESTIONS])


@pytest.fixture(scope="module")
def grader(bank: Bank, model_home: Path) -> Grader:
    grader = make_grader("semantic", device="cpu", home=model_home, neighbours=bank.questions)
    grader.load()
    return grader


def grade(grader: Grader, bank: Bank, question_id: str, answer: str) -> GradeResult:
    return grader.grade(bank.question(question_id), answer)


CASES = [
    pytest.param(
        "llm-internals-kv-cache",
        "It keeps the keys and values computed for earlier tokens in every layer, so each decoding step "
        "only runs the new token through the projections instead of the whole prefix; the price is memory "
        "that grows with context length and batch size.",
        "correct",
        id="own-words",
    ),
    pytest.param(
        "llm-internals-kv-cache",
        "The KV cache stores nothing; keys and values are recomputed at every step.",
        "incorrect",
        id="reversal-by-meaning",
    ),
    pytest.param(
        "sft-lora",
        "LoRA quantizes the frozen base model to 4 bits, which is where its memory saving comes from.",
        "incorrect",
        id="neighbouring-concept",
    ),
    pytest.param(
        "vector-db-hnsw",
        "HNSW: graph, layers, small world, M, efSearch, efConstruction, greedy, neighbours.",
        "incorrect",
        id="term-list",
    ),
    pytest.param(
        "rag-what-is",
        "Retrieval-augmented generation is used because retrieval-augmented generation augments "
        "generation with retrieval, which is why it is used.",
        "incorrect",
        id="question-echo",
    ),
    pytest.param(
        "rag-what-is",
        "Gradient descent updates each weight against its gradient, scaled by a learning rate, until the "
        "loss stops improving.",
        "incorrect",
        id="off-topic",
    ),
]


@pytest.mark.parametrize(("question_id", "answer", "verdict"), CASES)
def test_verdicts_by_kind(grader: Grader, bank: Bank, question_id: str, answer: str, verdict: str) -> None:
    result = grade(grader, bank, question_id, answer)
    assert result.verdict == verdict, (result.score, result.signals)
    if verdict == "correct":
        assert result.wrong_claims == ()
        assert result.covered  # what it says is listed as said
    else:  # none of these states a key point: none is listed as covered, whatever words it shares
        assert result.covered == (), result.signals


REVERSED_TEMPERATURE = (
    "Temperature divides the logits before the softmax; a low temperature flattens the distribution so the "
    "output becomes more random and diverse, and a high temperature sharpens it."
)


def test_a_contradicted_point_is_never_covered(grader: Grader, bank: Bank) -> None:
    result = grade(grader, bank, "llm-internals-temperature", REVERSED_TEMPERATURE)
    assert result.verdict != "correct"
    assert result.wrong_claims, result
    assert all(
        w.claim and w.claim in REVERSED_TEMPERATURE for w in result.wrong_claims
    )  # the learner's words
    corrected = {w.correction for w in result.wrong_claims}
    assert corrected.isdisjoint(result.covered)
    assert set(result.covered).isdisjoint(result.missed)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            "The KV cache stores nothing; keys and values are recomputed at every step.", id="sentence"
        ),
        pytest.param(
            "The KV cache stores nothing; keys and values are recomputed at every step", id="no-full-stop"
        ),
    ],
)
def test_a_reversal_by_meaning_is_caught(grader: Grader, bank: Bank, answer: str) -> None:
    result = grade(grader, bank, "llm-internals-kv-cache", answer)
    assert result.verdict == "incorrect"
    assert not any("stores the keys and values" in p for p in result.covered)


WRONG_ON_MEMORY = (
    "The KV cache keeps the keys and values of earlier tokens for every layer, so each step only computes "
    "the newest token's projections. The memory it takes is negligible, a few kilobytes even for long "
    "sequences, so it never limits how many requests a server holds."
)


def test_an_answer_that_gets_a_reference_sentence_wrong_is_corrected_by_it(
    grader: Grader, bank: Bank
) -> None:
    """The key points sum the reference up; an answer that contradicts one of its sentences
    ("negligible" memory) is corrected by that sentence, which no key point repeats word for word."""
    q = bank.question("llm-internals-kv-cache")
    result = grade(grader, bank, q.id, WRONG_ON_MEMORY)
    assert result.verdict == "incorrect", result
    wrong = [w for w in result.wrong_claims if "negligible" in w.claim]
    assert wrong, result.wrong_claims
    assert all(w.correction in q.answer and w.correction not in q.key_points for w in wrong)
    assert all("memory" in w.correction for w in wrong)


def test_reading_the_reference_sentences_is_what_catches_it(bank: Bank, model_home: Path) -> None:
    from dataclasses import replace

    from llmquiz.grading.tuning import GraderSettings

    off = make_grader("semantic", device="cpu", home=model_home, neighbours=bank.questions)
    off.settings = replace(GraderSettings(), reference_facts=False)  # type: ignore[attr-defined]
    result = grade(off, bank, "llm-internals-kv-cache", WRONG_ON_MEMORY)
    assert not any("negligible" in w.claim for w in result.wrong_claims)


def test_a_partial_answer_names_what_it_missed(grader: Grader, bank: Bank) -> None:
    q = bank.question("llm-internals-kv-cache")
    result = grade(grader, bank, q.id, "It stores the keys and values of the previous tokens.")
    assert result.verdict != "correct"
    assert len(result.missed) >= len(q.key_points) // 2
    assert result.wrong_claims == ()


def test_every_sampled_misconception_is_caught_with_its_correction(grader: Grader, bank: Bank) -> None:
    """A bank misconception's own claim, as the answer: incorrect, corrected by the bank's text."""
    pool = [(q, m) for q in bank.questions for m in q.misconceptions]
    sample = random.Random(20).sample(pool, 20)
    misses = []
    for q, m in sample:
        result = grader.grade(q, m.claim)
        corrections = [w.correction for w in result.wrong_claims]
        if result.verdict != "incorrect" or m.correction not in corrections:
            misses.append(f"{q.id}: {m.claim!r} -> {result.score} {corrections}")
    assert misses == []


def test_grade_json_carries_wrong_claims(bank: Bank, model_home: Path) -> None:
    q = next(q for q in bank.questions if q.id == "sft-lora")
    claim = q.misconceptions[0]
    out = CliRunner().invoke(app, ["--home", str(model_home), "grade", q.id, claim.claim, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) >= {"id", "score", "verdict", "missed", "covered", "wrong_claims"}
    assert data["verdict"] == "incorrect"
    assert {"claim", "correction"} == set(data["wrong_claims"][0])
    assert claim.correction in [w["correction"] for w in data["wrong_claims"]]
