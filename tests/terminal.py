"""Drive llmquiz in a pseudo-terminal, as a person at a keyboard would (for tests/test_terminal.py).

`slow_loading` below is the program run: llmquiz whose grader takes as long to load as the
real model does on a loaded laptop, reporting the real loading steps, so that a test can
see what the learner sees while the model loads (without needing the model).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from .conftest import REPO, as_a_script_runs

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")

SLOW_LOADING = """
import os, sys, time
from llmquiz import context
from llmquiz.grading import progress

DELAY = float(os.environ["LLMQUIZ_TEST_LOAD_DELAY"])


class SlowLoading:
    '''The real grader (lexical in these tests), after a load as slow as the model's.'''

    def __init__(self, grader):
        self._grader = grader
        self.name = grader.name
        self._first = True

    def grade(self, question, answer):
        if self._first:  # a first use embeds the bank's texts before its first grade
            self._first = False
            progress.report(progress.EMBED)
            time.sleep(DELAY / 4)
        return self._grader.grade(question, answer)

    def load(self):
        for step in (progress.MODEL, progress.VERIFY, progress.MODEL, progress.JUDGE):
            progress.report(step)
            time.sleep(DELAY / 4)
        if os.environ.get("LLMQUIZ_TEST_LOAD_ERROR"):
            from llmquiz.errors import ModelError

            raise ModelError(os.environ["LLMQUIZ_TEST_LOAD_ERROR"])
        self._grader.load()

    def __getattr__(self, name):
        return getattr(self._grader, name)


real = context.Context.grader
context.Context.grader = lambda self, kind=None, **how: SlowLoading(real(self, kind, **how))
from llmquiz.cli import main

sys.argv[0] = "llmquiz"
main()
"""


def _take_the_terminal() -> None:
    """Make the pty the new session's controlling terminal, so that Ctrl-C sends SIGINT."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def slow_loading_env(home: Path, load_delay: float, load_error: str = "") -> dict[str, str]:
    return {
        **os.environ,
        "LLMQUIZ_HOME": str(home),
        "PYTHONPATH": str(REPO / "src"),
        "LLMQUIZ_TEST_LOAD_DELAY": str(load_delay),
        "LLMQUIZ_TEST_LOAD_ERROR": load_error,
    }


def run_without_terminal(args: list[str], home: Path, load_delay: float) -> subprocess.CompletedProcess[str]:
    """The slow-loading llmquiz with stdin closed and output to pipes, as a script runs it."""
    return subprocess.run(
        [sys.executable, "-c", SLOW_LOADING, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=as_a_script_runs(slow_loading_env(home, load_delay)),
        timeout=load_delay / 2,  # it must not wait for the load
        check=False,
    )


class Terminal:
    """One llmquiz process on a pty: `expect` what it shows, `type` what a person types."""

    def __init__(
        self, args: list[str], home: Path, load_delay: float, columns: int = 100, load_error: str = ""
    ) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        env = {
            **slow_loading_env(home, load_delay, load_error),
            "TERM": "xterm-256color",
            "COLUMNS": str(columns),
        }
        env.pop("NO_COLOR", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SLOW_LOADING, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_take_the_terminal,  # pytest runs single-threaded here: a preexec_fn is safe
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self.screen = ""  # everything shown so far, escape sequences removed
        self._seen = 0  # how much of `screen` earlier `expect` calls have consumed

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self._master, 65536)
        except OSError:  # the process closed the terminal
            return False
        if not data:
            return False
        self.screen += ANSI.sub("", data.decode("utf-8", errors="replace")).replace("\r", "")
        return True

    def expect(self, text: str, timeout: float = 60) -> str:
        """Wait until `text` is shown; return what was shown since the last expect, up to it."""
        deadline = time.monotonic() + timeout
        while text not in self.screen[self._seen :]:
            if time.monotonic() > deadline or (not self._read(0.2) and self.process.poll() is not None):
                raise AssertionError(
                    f"{text!r} never shown; the screen after the last match:\n{self.screen[self._seen :]}"
                )
        end = self.screen.index(text, self._seen) + len(text)
        shown, self._seen = self.screen[self._seen : end], end
        return shown

    def type(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def finish(self, timeout: float = 60) -> int:
        """Wait for the process to end (reading what it shows); its exit code."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self._read(0.1):
            pass
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError(f"llmquiz did not end; the screen:\n{self.screen}")
        os.close(self._master)
        return self.process.returncode
