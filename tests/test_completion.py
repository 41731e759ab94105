"""Shell completion (Typer's): topic names and question ids, read cheaply, never torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.cli import app

from .conftest import REPO

# Runs llmquiz as the shell does on Tab, then reports which heavy modules it imported.
PROBE = """
import json, sys
from llmquiz.cli import app
try:
    app(prog_name="llmquiz")
except SystemExit:
    pass
slow = ("torch", "sentence_transformers", "transformers", "numpy")
print(json.dumps(sorted(m for m in slow if m in sys.modules)), file=sys.stderr)
"""


def complete(words: str, tmp_path: Path, shell: str = "bash") -> tuple[list[str], list[str]]:
    """(the completions printed, the heavy modules imported) for the words typed so far."""
    env = {**os.environ, "LLMQUIZ_HOME": str(tmp_path), "PYTHONPATH": str(REPO / "src")}
    if shell == "bash":
        cword = len(words.split()) - (0 if words.endswith(" ") else 1)
        env.update(_LLMQUIZ_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    else:
        env.update(_LLMQUIZ_COMPLETE=f"complete_{shell}", _TYPER_COMPLETE_ARGS=words)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    heavy = json.loads(result.stderr.strip().splitlines()[-1])
    return [line for line in result.stdout.splitlines() if line.strip()], heavy


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param("llmquiz drill ra", ["rag"], id="drill-topic"),
        pytest.param("llmquiz quiz --topic ag", ["agents"], id="option-topic"),
        pytest.param("llmquiz stats -t ra", ["rag"], id="short-option"),
        pytest.param("llmquiz show rag-what-", ["rag-what-is"], id="show-id"),
        pytest.param("llmquiz grade chunking-overl", ["chunking-overlap"], id="grade-id"),
    ],
)
def test_topics_and_ids_complete_without_torch(words: str, expected: list[str], tmp_path: Path) -> None:
    completions, heavy = complete(words, tmp_path)
    assert completions == expected
    assert heavy == []


def test_completion_reads_the_bank_the_command_line_names(tmp_path: Path) -> None:
    bank = tmp_path / "mine.yaml"
    bank.write_text(
        "topic: mine\ntitle: 'My topic'\nquestions:\n  - id: mine-first\n    question: Q?\n    answer: A.\n"
        '  - question: Q2?\n    id: "mine-second"\n    answer: A.\n',
        encoding="utf-8",
    )
    for words in (f"llmquiz --bank {bank} show mine", f"llmquiz show --bank {bank} mine"):
        assert complete(words, tmp_path)[0] == ["mine-first", "mine-second"]
    assert complete(f"llmquiz --bank {bank} drill ", tmp_path)[0] == ["mine"]
    zsh, _ = complete(f"llmquiz --bank {bank} drill m", tmp_path, shell="zsh")
    assert '"mine":"My topic"' in "\n".join(zsh)  # zsh shows the topic's title beside it


def test_a_broken_or_missing_bank_completes_nothing_and_says_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(b"\x00\x01 not yaml")
    for bank in (broken, tmp_path / "missing.yaml"):
        assert complete(f"llmquiz --bank {bank} drill ", tmp_path)[0] == []


def test_completion_can_be_shown_and_installed() -> None:
    runner = CliRunner()
    help_text = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text
    script = runner.invoke(app, ["--show-completion", "bash"], prog_name="llmquiz")
    assert script.exit_code == 0
    assert "_LLMQUIZ_COMPLETE=complete_bash" in script.stdout
