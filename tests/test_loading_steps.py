"""Loading the grader names its steps (grading.progress), so the UI can say what the wait is for."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from llmquiz.grading import model as mdl
from llmquiz.grading import progress
from llmquiz.grading.semantic import SemanticGrader
from llmquiz.grading.tuning import GraderSettings

from .test_grading_plumbing import FakeEmbedder


def test_the_bundled_weights_are_verified_as_a_step_the_first_time_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    monkeypatch.setattr(mdl, "DEFAULT_MODEL_SHA256", hashlib.sha256(b"weights").hexdigest())
    steps: list[str] = []
    with progress.listening(steps.append):
        mdl.verify_bundled(folder, tmp_path / "cache")
        assert steps == [progress.VERIFY, progress.MODEL]  # hashed, then loading goes on
        mdl.verify_bundled(folder, tmp_path / "cache")  # remembered: no step, no wait
    assert steps == [progress.VERIFY, progress.MODEL]


def test_the_semantic_grader_reports_loading_the_model(tmp_path: Path) -> None:
    grader = SemanticGrader(home=tmp_path, embedder=FakeEmbedder(), settings=GraderSettings(judge=False))
    steps: list[str] = []
    with progress.listening(steps.append):
        grader.load()
        grader.load()  # loaded once
    assert steps == [progress.MODEL]


def test_embedding_the_bank_s_texts_is_a_step_the_first_time_only(tmp_path: Path) -> None:
    from .test_grading_plumbing import Q1

    def grader() -> SemanticGrader:
        return SemanticGrader(home=tmp_path, embedder=FakeEmbedder(), settings=GraderSettings(judge=False))

    steps: list[str] = []
    with progress.listening(steps.append):
        grader().grade(Q1, "keys and values")
    assert steps == [progress.MODEL, progress.EMBED]
    steps.clear()
    with progress.listening(steps.append):
        grader().grade(Q1, "keys and values")  # a later run: the texts come from the cache
    assert steps == [progress.MODEL]
