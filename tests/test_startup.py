"""Commands that do not grade never import torch or sentence-transformers, and start fast.

numpy and pydantic are kept out as well: each costs tens of milliseconds at start-up
(pydantic arrives with typer 0.29, which pyproject.toml keeps out for that reason).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO

PROBE = """
import json, sys, time
started = time.perf_counter()
from llmquiz.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
slow = ("torch", "sentence_transformers", "transformers", "numpy", "pydantic")
heavy = sorted(m for m in slow if m in sys.modules)
print(json.dumps({"heavy": heavy, "seconds": time.perf_counter() - started}), file=sys.stderr)
"""


def _run_probe(args: list[str], home: Path, timeout: int) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run `llmquiz ARGS` under PROBE in a fresh interpreter; its result and what PROBE saw."""
    env = {**os.environ, "LLMQUIZ_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    return result, json.loads(result.stderr.strip().splitlines()[-1])


LIGHT_COMMANDS = [
    pytest.param(["--help"], id="help"),
    pytest.param(["--version"], id="version"),
    pytest.param(["topics"], id="topics"),
    pytest.param(["topics", "--json"], id="topics-json"),
    pytest.param(["list"], id="list"),
    pytest.param(["show", "rag-what-is"], id="show"),
    pytest.param(["history"], id="history"),
    pytest.param(["stats"], id="stats"),
    pytest.param(["bank", "validate"], id="bank-validate"),
    pytest.param(
        ["--grader", "lexical", "grade", "rag-what-is", "retrieval of documents"], id="lexical-grade"
    ),
    # an empty or "no idea" answer scores 0 without the model, with the default (semantic) grader
    pytest.param(["grade", "rag-what-is", ""], id="grade-empty"),
    pytest.param(["grade", "rag-what-is", "no idea", "--json"], id="grade-no-idea"),
    pytest.param(["export", "--topic", "rag", "-o", "{tmp}/rag.apkg"], id="export-apkg"),
    pytest.param(["export", "--topic", "rag", "-o", "{tmp}/rag.tsv"], id="export-tsv"),
]


@pytest.mark.parametrize("args", LIGHT_COMMANDS)
def test_light_commands_never_import_torch(args: list[str], tmp_path) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result, probe = _run_probe(args, tmp_path, timeout=60)
    assert probe["heavy"] == [], result.stderr
    if "-o" in args:  # the command did its work, not only start
        assert Path(args[args.index("-o") + 1]).stat().st_size > 0, result.stderr
    # the budget is 0.3 s (benchmarks/bench_cli.py); allow for a loaded CI machine here
    assert probe["seconds"] < 2.0


def test_python_dash_m_is_the_same_program() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "llmquiz", "--version"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("llmquiz ")
    assert time.perf_counter() - started < 5


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["grade", "rag-what-is", "retrieval of documents at query time", "--json"], id="grade"),
        pytest.param(
            ["--device", "auto", "grade", "rag-what-is", "RAG grounds answers", "--json"], id="auto"
        ),
    ],
)
def test_semantic_grading_on_cpu_never_imports_torch(args: list[str], model_home: Path) -> None:
    """The bundled model and the claim judge run on the numpy engine: torch's 2 s are not paid."""
    result, probe = _run_probe(args, model_home, timeout=120)
    graded = json.loads(result.stdout)
    assert graded["grader"].startswith("semantic"), graded
    assert probe["heavy"] == ["numpy"], result.stderr
