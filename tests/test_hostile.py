"""Hostile and odd input files, one table: each case's exit code, no traceback, nothing changed.

Every case builds its files in a fresh folder (the data folder inside it), runs one command
and checks: the exit code; the words (FILE:LINE where there is one) that say why; no
traceback; a refusal is one `Error: ...` line; and every file and link under the folder is
byte for byte what it was, the history and the command's inputs included. A watchdog turns
a read that blocks (a FIFO) into a failure instead of a hang.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.cli import app

from .conftest import REPO
from .hostile_files import (
    BANK_HEAD,
    GOOD_BANK,
    LEXICAL,
    answers,
    cache_file,
    csv_with_gold,
    damaged_lines,
    exam_with,
    fifo,
    folder_with_a_fifo,
    hardlink,
    history,
    history_fifo,
    history_is,
    history_symlink,
    junit_onto,
    junit_onto_bank,
    laughs,
    nested_notes,
    notes_onto_history,
    record,
    snapshot,
    sparse_bank,
    symlink,
    with_history,
    write,
)

runner = CliRunner()


@dataclass(frozen=True)
class Case:
    setup: Callable[[Path, Path], list[str]]  # (folder, data folder) -> the command's arguments
    exit_code: int
    says: str  # a regex the command's stdout + stderr must match


def case(name: str, setup: Callable[[Path, Path], list[str]], exit_code: int, says: str):
    return pytest.param(Case(setup, exit_code, says), id=name)


CASES = [
    # banks
    case("bank-alias-as-key-billion-laughs",
         lambda f, h: ["bank", "validate", str(write(f, "laughs.yaml", laughs()))],
         2, r"laughs\.yaml:10: a key must be a plain value"),
    case("bank-billion-laughs-as-a-value",
         lambda f, h: ["bank", "validate", str(write(f, "laughs.yaml", laughs(as_key=False)))],
         2, r"laughs\.yaml:8: aliases expand to more than"),
    case("bank-1000-aliases-of-a-100kb-text",
         lambda f, h: ["--bank", str(write(f, "big.yaml", BANK_HEAD + f"    answer: &big {'x' * 100_000}\n"
                                           + "    tags: [" + ", ".join(["*big"] * 1000) + "]\n")), "show", "demo-one"],
         2, r"big\.yaml:7: aliases expand to more than"),
    case("bank-alias-inside-itself",
         lambda f, h: ["bank", "validate", str(write(f, "loop.yaml", GOOD_BANK + "    tags: &t [a, *t]\n"))],
         2, r"loop\.yaml:7: an alias refers to the node that contains it"),
    case("bank-5000-digit-integer",
         lambda f, h: ["bank", "validate", str(write(f, "n.yaml", GOOD_BANK + "    correct: " + "9" * 5000 + "\n"))],
         2, r"n\.yaml:7: number too large"),
    case("bank-sexagesimal-integer",
         lambda f, h: ["bank", "validate", str(write(f, "n.yaml", GOOD_BANK + "    correct: " + ":".join(["59"] * 30) + "\n"))],
         2, r"n\.yaml:7: number too large"),
    case("bank-integer-beyond-1e15",
         lambda f, h: ["bank", "validate", str(write(f, "n.yaml", GOOD_BANK + "    correct: 10000000000000001\n"))],
         2, r"n\.yaml:7: number too large"),
    case("bank-infinite-correct",
         lambda f, h: ["bank", "validate", str(write(f, "inf.yaml", GOOD_BANK.replace("  - id", "  - kind: choice\n    choices: [a, b]\n    id") + "    correct: .inf\n"))],
         2, r"inf\.yaml:\d+: demo-one: correct must be the 0-based index"),
    case("bank-impossible-date-is-text",
         lambda f, h: ["--bank", str(write(f, "d.yaml", GOOD_BANK.replace("What is one?", "2024-02-30"))), "list"],
         0, r"demo-one\s+free\s+medium\s+2024-02-30"),
    case("bank-deep-flow-nesting",
         lambda f, h: ["bank", "validate", str(write(f, "deep.yaml", "x: " + "[" * 5000 + "]" * 5000 + "\n"))],
         2, r"deep\.yaml:1: invalid YAML"),
    case("bank-deep-block-nesting",
         lambda f, h: ["bank", "validate", str(write(f, "deep.yaml", "".join("  " * i + f"k{i}:\n" for i in range(150)) + "  " * 150 + "v\n"))],
         2, r"deep\.yaml:\d+: nested more than 100 levels deep"),
    case("bank-mapping-as-key",
         lambda f, h: ["bank", "validate", str(write(f, "k.yaml", GOOD_BANK + "? {a: 1}\n: x\n"))],
         2, r"k\.yaml:7: a key must be a plain value"),
    case("bank-python-tag",
         lambda f, h: ["bank", "validate", str(write(f, "t.yaml", "!!python/object/apply:os.system [echo hi]\n"))],
         2, r"t\.yaml:1: invalid YAML: tag not allowed"),
    case("bank-dev-zero",
         lambda f, h: ["bank", "validate", "/dev/zero"],
         2, r"/dev/zero: is a character device; only regular files are read"),
    case("bank-fifo",
         lambda f, h: ["--bank", str(fifo(f, "bank.yaml")), "list"],
         2, r"^Error: \S+bank\.yaml: is a FIFO"),
    case("bank-folder-holding-only-a-fifo", folder_with_a_fifo, 2, r"bank: no \.yaml bank files in this folder"),
    case("bank-binary",
         lambda f, h: ["bank", "validate", str(write(f, "b.yaml", b"\x89PNG\r\n\x1a\n\x00\x00"))],
         2, r"b\.yaml:1: binary data"),
    case("bank-not-utf8",
         lambda f, h: ["bank", "validate", str(write(f, "l1.yaml", GOOD_BANK.encode() + b"    tags: [caf\xe9]\n"))],
         2, r"l1\.yaml:7: not valid UTF-8"),
    case("bank-sparse-file-over-the-limit", sparse_bank, 2, r"huge\.yaml:1: file too large"),
    case("bank-same-file-twice",
         lambda f, h: ["bank", "validate", str(write(f, "g.yaml", GOOD_BANK)), str(f / "g.yaml")],
         0, r"OK: 1 topic, 1 question\."),
    case("bank-same-file-through-a-symlink",
         lambda f, h: ["bank", "validate", str(write(f, "g.yaml", GOOD_BANK)), str(symlink(f, "link.yaml", f / "g.yaml"))],
         0, r"OK: 1 topic, 1 question\."),
    # answers files
    case("answers-5000-digit-integer-yaml",
         lambda f, h: exam_with(answers(f, "rag-what-is: " + "9" * 5000 + "\n")),
         2, r"^Error: \S+answers\.yaml:1: number too large"),
    case("answers-5000-digit-integer-json",
         lambda f, h: exam_with(answers(f, '{"rag-what-is": ' + "9" * 5000 + "}", "a.json")),
         2, r"^Error: \S+a\.json:1: invalid JSON: number too large"),
    case("answers-100k-deep-json",
         lambda f, h: exam_with(answers(f, '{"rag-what-is": ' + "[" * 100_000 + "]" * 100_000 + "}", "a.json")),
         2, r"^Error: \S+a\.json:1: invalid JSON: nested too deeply"),
    case("answers-nan-json",
         lambda f, h: exam_with(answers(f, '{\n"rag-what-is": NaN}', "a.json")),
         2, r"^Error: \S+a\.json:2: invalid JSON: NaN is not a JSON number"),
    case("answers-1e400-json",
         lambda f, h: exam_with(answers(f, '{"rag-what-is": 1e400}', "a.json")),
         2, r"^Error: \S+a\.json:1: invalid JSON: number too large"),
    case("answers-duplicate-json-key",
         lambda f, h: exam_with(answers(f, '{"rag-what-is": "a", "rag-what-is": "b"}', "a.json")),
         2, r"^Error: \S+a\.json:1: duplicate key 'rag-what-is'"),
    case("answers-list-as-key",
         lambda f, h: exam_with(answers(f, "[rag-what-is]: retrieval\n")),
         2, r"^Error: \S+answers\.yaml:1: a key must be a plain value"),
    case("answers-alias-bomb",
         lambda f, h: exam_with(answers(f, laughs(as_key=False).replace("question:", "rag-what-is:"))),
         2, r"^Error: \S+answers\.yaml:\d+: aliases expand"),
    case("answers-fifo",
         lambda f, h: exam_with(fifo(f, "answers.yaml")),
         2, r"^Error: \S+answers\.yaml: is a FIFO"),
    case("answers-dev-zero",
         lambda f, h: exam_with(Path("/dev/zero")),
         2, r"^Error: /dev/zero: is a character device"),
    # output paths
    case("junit-onto-the-history",
         junit_onto(lambda f, h: h / "history.jsonl"), 2, r"^Error: \S+history\.jsonl: refusing to write over the history"),
    case("junit-onto-the-answers-file",
         junit_onto(lambda f, h: f / "answers.yaml"), 2, r"^Error: \S+answers\.yaml: refusing to write over an input"),
    case("junit-onto-a-bank-file", junit_onto_bank, 2, r"demo\.yaml: refusing to write over an input"),
    case("junit-symlink-to-the-history",
         junit_onto(lambda f, h: symlink(f, "report.xml", h / "history.jsonl")), 2, r"report\.xml: refusing to write over the history"),
    case("junit-hard-link-to-the-history",
         junit_onto(lambda f, h: hardlink(f, "report.xml", h / "history.jsonl")), 2, r"report\.xml: refusing to write over the history"),
    case("junit-into-the-cache",
         junit_onto(lambda f, h: cache_file(h)), 2, r"verified\.json: refusing to write into the cache folder"),
    case("junit-onto-a-fifo",
         junit_onto(lambda f, h: fifo(f, "report.xml")), 2, r"report\.xml: is a FIFO; only a regular file is written over"),
    case("junit-symlink-to-dev-null",
         junit_onto(lambda f, h: symlink(f, "report.xml", "/dev/null")), 2, r"report\.xml: is a character device"),
    case("junit-onto-a-folder",
         junit_onto(lambda f, h: f), 2, r"is a folder; only a regular file is written over"),
    case("import-output-onto-its-notes",
         lambda f, h: ["import", str(write(f, "notes.md", "## What is X?\n\nX is a thing.\n")), "-o", str(f / "notes.md")],
         2, r"^Error: \S+notes\.md: refusing to write over an input"),
    case("import-output-onto-the-history", notes_onto_history, 2, r"history\.jsonl: refusing to write over the history"),
    # damaged history lines: a warning, a normal exit
    case("history-dated-9999-12-31",
         with_history(record(), record(ts='"9999-12-31T23:59:59Z"'), command=["stats"]),
         0, r"history\.jsonl:2: damaged record skipped"),
    case("history-dated-0001-01-01-plus-14h",
         with_history(record(ts='"0001-01-01T00:00:00+14:00"'), command=["topics"]),
         0, r"history\.jsonl:1: damaged record skipped"),
    case("history-score-1e23",
         with_history(record(score="1e23"), command=["stats"]), 0, r"history\.jsonl:1: damaged record skipped"),
    case("history-score-minus-500",
         with_history(record(score=-500), command=["stats"]), 0, r"history\.jsonl:1: damaged record skipped"),
    case("history-score-5000",
         with_history(record(score=5000), command=["topics", "--json"]), 0, r"history\.jsonl:1: damaged record skipped"),
    case("history-score-1e400",
         with_history(record(score="1e400"), command=["stats"]), 0, r"history\.jsonl:1: damaged record skipped"),
    case("history-5000-digit-score",
         with_history(record(score="9" * 5000), command=["history"]), 0, r"history\.jsonl:1: damaged record skipped"),
    case("history-100k-deep-json-line",
         with_history("[" * 100_000 + "]" * 100_000, record(), command=["stats"]), 0, r"history\.jsonl:1: damaged record skipped"),
    case("history-elapsed-infinite",
         with_history(record(elapsed_s="1e999"), command=["history"]), 0, r"history\.jsonl:1: damaged record skipped"),
    case("history-100k-damaged-lines-one-warning",
         with_history(*damaged_lines(100_000), command=["history", "--json"]),
         0, r"^Warning: \S+history\.jsonl:2: 100,000 damaged records skipped \(lines 2, 3, 4, 5, 6, \.\.\.\)\n$"),
    case("history-symlink-read",
         history_is(history_symlink, ["stats"]),
         0, r"history\.jsonl: the history is a symbolic link; llmquiz uses only a regular file there; not read"),
    case("history-symlink-write",
         history_is(history_symlink, [*LEXICAL, "grade", "rag-what-is", "retrieval"]),
         2, r"^Error: \S+history\.jsonl: the history is a symbolic link"),
    case("history-fifo-read",
         history_is(history_fifo, ["history"]),
         0, r"history\.jsonl: the history is not a regular file"),
    case("history-fifo-write",
         history_is(history_fifo, [*LEXICAL, "exam", "--topic", "rag", "--count", "1"]),
         2, r"^Error: \S+history\.jsonl: the history is not a regular file"),
    # options
    case("time-limit-nan", lambda f, h: [*LEXICAL, "exam", "--time-limit", "nan"], 2, r"^Error: --time-limit must be"),
    case("time-limit-inf", lambda f, h: [*LEXICAL, "exam", "--time-limit", "inf"], 2, r"^Error: --time-limit must be"),
    case("time-limit-1e300", lambda f, h: [*LEXICAL, "exam", "--time-limit", "1e300"], 2, r"^Error: --time-limit must be"),
    case("pass-mark-nan",
         lambda f, h: exam_with(answers(f, "rag-what-is: retrieval\n"), "--pass-mark", "nan"), 2, r"^Error: --pass-mark"),
    # calibrate
    case("calibrate-gold-1e308",
         lambda f, h: [*LEXICAL, "calibrate", str(write(f, "g.csv", csv_with_gold("1e308")))],
         2, r"^Error: \S+g\.csv:2: score is beyond"),
    case("calibrate-gold-nan",
         lambda f, h: [*LEXICAL, "calibrate", str(write(f, "g.csv", csv_with_gold("nan")))],
         2, r"^Error: \S+g\.csv:2: score is not a finite number"),
    case("calibrate-fifo",
         lambda f, h: [*LEXICAL, "calibrate", str(fifo(f, "g.csv"))], 2, r"^Error: \S+g\.csv: is a FIFO"),
    # import
    case("import-500-level-nested-bullets",
         lambda f, h: ["import", str(write(f, "deep.md", nested_notes(500)))],
         2, r"^Error: \S+deep\.md:53: bullets nested more than 50 levels deep"),
    case("import-fifo", lambda f, h: ["import", str(fifo(f, "notes.md"))], 2, r"^Error: \S+notes\.md: is a FIFO"),
    case("import-dev-zero", lambda f, h: ["import", "/dev/zero"], 2, r"^Error: /dev/zero: is a character device"),
]  # fmt: skip


@pytest.fixture
def watchdog() -> Iterator[None]:
    """A command that blocks (reading a FIFO, say) fails after 60 s instead of hanging."""

    def bark(signum: int, frame: object) -> None:
        raise TimeoutError("the command blocked")

    previous = signal.signal(signal.SIGALRM, bark)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("hostile", CASES)
def test_hostile_input(tmp_path: Path, llmquiz_home: Path, watchdog: None, hostile: Case) -> None:
    args = hostile.setup(tmp_path, llmquiz_home)
    before = snapshot(tmp_path, caches=llmquiz_home / "cache")
    result = runner.invoke(app, args, input="")
    output = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert result.exit_code == hostile.exit_code, output[-2000:]
    assert re.search(hostile.says, result.stderr if hostile.says.startswith("^") else output, re.M), output[
        -2000:
    ]
    errors = [line for line in result.stderr.splitlines() if not line.startswith("Warning: ")]
    if hostile.exit_code == 2 and args[:2] != ["bank", "validate"]:
        assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
    assert (
        snapshot(tmp_path, caches=llmquiz_home / "cache") == before
    )  # the history and every input as they were


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({param.id for param in CASES}) == len(CASES)


DAMAGED_HISTORIES = [
    pytest.param(record(ts='"9999-12-31T23:59:59Z"'), id="dated-9999"),
    pytest.param(record(ts='"0001-01-01T00:00:00+14:00"'), id="dated-0001-plus-14h"),
    pytest.param(record(score="1e23"), id="score-1e23"),
    pytest.param(record(score=-500), id="score-minus-500"),
    pytest.param(record(score=5000), id="score-5000"),
]


@pytest.mark.parametrize("line", DAMAGED_HISTORIES)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["stats"], id="stats"),
        pytest.param(["topics"], id="topics"),
        pytest.param(["review"], id="review"),
        pytest.param(["drill", "rag"], id="drill"),
        pytest.param(["history"], id="history"),
    ],
)
def test_a_damaged_history_line_never_stops_a_command(
    tmp_path: Path, llmquiz_home: Path, line: str, command: list[str]
) -> None:
    history(llmquiz_home, record(), line)
    before = snapshot(tmp_path, caches=llmquiz_home / "cache")
    result = runner.invoke(app, [*LEXICAL, *command], input="")
    assert result.exit_code == 0, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "history.jsonl:2: damaged record skipped" in result.stderr
    assert snapshot(tmp_path, caches=llmquiz_home / "cache") == before


def test_an_unlistable_bank_folder_is_a_bank_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "bank"
    folder.mkdir()
    write(folder, "demo.yaml", GOOD_BANK)
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        if self == folder:  # as a folder without read permission does (root reads any folder)
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    result = runner.invoke(app, ["--bank", str(folder), "list"])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {folder}: cannot list the folder: Permission denied\n"


def test_quiz_with_stdin_closed_is_a_one_line_error(llmquiz_home: Path) -> None:
    env = {**os.environ, "LLMQUIZ_HOME": str(llmquiz_home), "PYTHONPATH": str(REPO / "src")}
    for command in (["quiz"], ["exam", "--count", "1"]):
        result = subprocess.run(
            [sys.executable, "-m", "llmquiz", *LEXICAL, *command],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            preexec_fn=lambda: os.close(0),  # `llmquiz quiz <&-`
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr == "Error: standard input is closed: nothing to read answers from\n"
    assert not llmquiz_home.exists()


def test_the_alias_bomb_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """The issue's 385-byte file: an alias expanding to 9**8 items, used as a mapping key.

    It took 17 s and 1.2 GB; a gross-regression guard, with seconds of slack: < 10 s, < 300 MB.
    """
    bank = write(tmp_path, "laughs.yaml", laughs(levels=9))
    assert len(bank.read_bytes()) < 400
    env = {**os.environ, "LLMQUIZ_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO / "src")}
    # a parent whose only child is llmquiz: RUSAGE_CHILDREN's peak is llmquiz's own
    measure = (
        "import resource, subprocess, sys, time\n"
        "started = time.monotonic()\n"
        "done = subprocess.run([sys.executable, '-m', 'llmquiz', 'bank', 'validate', sys.argv[1]],"
        " capture_output=True)\n"
        "print(done.returncode, time.monotonic() - started,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, len(done.stderr))\n"
        "sys.stderr.buffer.write(done.stderr[:500])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", measure, str(bank)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    code, seconds, peak_kb, error_bytes = result.stdout.split()
    assert int(code) == 2 and "a key must be a plain value" in result.stderr
    assert int(error_bytes) < 1000  # one problem line, not a 312 MB message
    assert float(seconds) < 10
    assert int(peak_kb) < 300 * 1024
