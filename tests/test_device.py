"""--device: cuda runs on a GPU where torch sees one, and is a clear error where it does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.cli import app

runner = CliRunner()
GOOD = "Retrieval-augmented generation retrieves relevant documents at query time and gives them to the model as context, grounding its answers."


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.gpu
def test_grading_on_cuda(model_home: Path) -> None:
    if not cuda_available():
        pytest.skip("no CUDA GPU visible to torch on this machine")
    result = runner.invoke(
        app, ["--home", str(model_home), "--device", "cuda", "grade", "rag-what-is", GOOD, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    on_gpu = json.loads(result.stdout)
    cpu = runner.invoke(
        app, ["--home", str(model_home), "--device", "cpu", "grade", "rag-what-is", GOOD, "--json"]
    )
    assert abs(on_gpu["score"] - json.loads(cpu.stdout)["score"]) <= 2


@pytest.mark.slow
def test_cuda_without_a_gpu_is_a_clear_error(model_home: Path) -> None:
    if cuda_available():
        pytest.skip("a CUDA GPU is present: the error path cannot be shown here")
    result = runner.invoke(app, ["--home", str(model_home), "--device", "cuda", "grade", "rag-what-is", GOOD])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "cuda" in result.stderr.lower()
    assert "Traceback" not in result.stderr
