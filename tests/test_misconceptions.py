"""The bank's `misconceptions` field: validated by `bank validate`, present across the shipped bank."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.bank import load_bank
from llmquiz.cli import app

from .conftest import QUESTIONS

runner = CliRunner()

ENTRY = """\
topic: demo
title: Demo
questions:
  - id: demo-rag
    question: What is RAG?
    answer: RAG retrieves passages at query time. The model answers from them.
    key_points:
      - passages are retrieved at query time
      - the model answers from the retrieved passages
    misconceptions:
{items}
"""


def validate(tmp_path: Path, items: str) -> tuple[int, str]:
    path = tmp_path / "demo.yaml"
    path.write_text(ENTRY.format(items=items), encoding="utf-8")
    result = runner.invoke(app, ["bank", "validate", str(path)])
    return result.exit_code, result.output


def test_a_well_formed_misconception_validates(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path, "      - claim: RAG retrains the model\n        correction: the weights are unchanged"
    )
    assert code == 0, output


@pytest.mark.parametrize(
    ("items", "line", "message"),
    [
        pytest.param(
            "      - claim: RAG retrains the model", 11, "correction is missing or empty", id="no-correction"
        ),
        pytest.param(
            "      - claim: ''\n        correction: x", 11, "claim is missing or empty", id="empty-claim"
        ),
        pytest.param(
            "      - claim: a\n        correction: b\n        colour: red",
            13,
            "unknown key 'colour'",
            id="unknown-key",
        ),
        pytest.param(
            "      - claim: RAG retrains\n        correction: no\n      - claim: RAG retrains\n        correction: no",
            14,
            "duplicate claim",
            id="duplicate-claim",
        ),
        pytest.param(
            "      - claim: passages are retrieved at query time\n        correction: x",
            11,
            "nearly copies the key point",
            id="copies-a-key-point",
        ),
        pytest.param(
            "      - just a sentence", 11, "must be a mapping with claim and correction", id="not-a-mapping"
        ),
        pytest.param("      claim: not a list", 10, "misconceptions must be a list", id="not-a-list"),
    ],
)
def test_bad_misconceptions_exit_2_with_file_and_line(
    tmp_path: Path, items: str, line: int, message: str
) -> None:
    code, output = validate(tmp_path, items)
    assert code == 2, output
    assert f"demo.yaml:{line}: demo-rag: " in output and message in output, output


def test_a_negated_key_point_is_a_misconception_not_a_copy(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path, "      - claim: passages are not retrieved at query time\n        correction: they are"
    )
    assert code == 0, output


def test_the_shipped_bank_names_the_common_mistakes() -> None:
    free = [q for q in load_bank([QUESTIONS]).questions if q.kind == "free"]
    with_two = [q for q in free if len(q.misconceptions) >= 2]
    assert len(with_two) / len(free) >= 0.9
    assert all(len(q.misconceptions) <= 4 for q in free)
    assert all(m.claim.strip() and m.correction.strip() for q in free for m in q.misconceptions)
