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


def why_no_cuda() -> str:
    import torch

    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build: no CUDA path to exercise here"
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA GPU on this machine"


@pytest.mark.gpu
def test_grading_on_cuda(model_home: Path) -> None:
    if not cuda_available():
        pytest.skip(why_no_cuda())
    import torch

    torch.cuda.reset_peak_memory_stats()
    result = runner.invoke(
        app, ["--home", str(model_home), "--device", "cuda", "grade", "rag-what-is", GOOD, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    on_gpu = json.loads(result.stdout)
    assert torch.cuda.max_memory_allocated() > 0  # the model and its inputs really sat on the GPU
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
