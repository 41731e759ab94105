"""How the process ends (cli_support.end_process): with the command's code and all its output,
and, while a daemon thread such as the model load still runs, without finalising the
interpreter under it (which crashed at random inside the model's C code)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import REPO, as_a_script_runs

ENDING = """
import atexit, sys, threading, time
from llmquiz.cli_support import end_process

atexit.register(lambda: print("finalised", file=sys.stderr))
if sys.argv[1] == "loading":
    threading.Thread(target=time.sleep, args=(60,), name="llmquiz-model-load", daemon=True).start()
sys.stdout.write("the command's last words")  # a pipe: block-buffered, not yet written
end_process(int(sys.argv[2]))
"""


def ended(state: str, code: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENDING, state, str(code)],
        capture_output=True,
        text=True,
        env=as_a_script_runs({**os.environ, "PYTHONPATH": str(REPO / "src")}),
        timeout=30,  # the thread sleeps for 60 s: ending must not wait for it
        check=False,
    )


@pytest.mark.parametrize(
    ("state", "finalised"),
    [
        pytest.param("loading", False, id="a-load-still-running"),
        pytest.param("idle", True, id="no-thread-left"),
    ],
)
def test_the_process_ends_with_its_code_and_output(state: str, finalised: bool) -> None:
    result = ended(state, 3)
    assert result.returncode == 3
    assert result.stdout == "the command's last words"
    assert ("finalised" in result.stderr) == finalised
