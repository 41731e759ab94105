"""Files for the hostile-input tests: banks, histories, answers and paths that try to break llmquiz.

Each builder writes into the test's folder (`folder`) or data folder (`home`) and returns
what the test needs: a path, or a setup `(folder, home) -> the command's arguments`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

LEXICAL = ["--grader", "lexical"]
GOOD_RECORD = {
    "ts": "2026-01-01T09:00:00Z",
    "session": "s",
    "mode": "quiz",
    "question_id": "rag-what-is",
    "topic": "rag",
    "answer": "retrieval",
    "score": 50,
    "verdict": "partial",
}
BANK_HEAD = "topic: demo\ntitle: Demo\nquestions:\n  - id: demo-one\n    question: What is one?\n"
GOOD_BANK = BANK_HEAD + "    answer: The first counting number.\n"


def laughs(levels: int = 8, as_key: bool = True) -> str:
    """A "billion laughs" bank: each level lists the one before nine times."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
        previous = name
    use = f"? *{previous}\n: x" if as_key else f"question: *{previous}"
    return "topic: lol\ntitle: Laughs\n" + "\n".join(lines) + f"\n{use}\nquestions: []\n"


# --- building the cases' files ---------------------------------------------------------


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def history(home: Path, *lines: str | bytes) -> Path:
    home.mkdir(mode=0o700, exist_ok=True)
    raw = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    path = write(home, "history.jsonl", raw)
    path.chmod(0o600)  # as llmquiz writes it: no privacy warning in these cases
    return path


def with_history(*lines: str, command: list[str]) -> Callable[[Path, Path], list[str]]:
    def setup(folder: Path, home: Path) -> list[str]:
        history(home, *lines)
        return command

    return setup


def history_is(make: Callable[[Path, Path], object], command: list[str]) -> Callable[[Path, Path], list[str]]:
    """The history path made something else (a symlink, a FIFO) by `make(folder, home)`."""

    def setup(folder: Path, home: Path) -> list[str]:
        home.mkdir(mode=0o700)
        make(folder, home)
        return [arg.replace("FOLDER", str(folder)) for arg in command]

    return setup


def history_symlink(folder: Path, home: Path) -> None:
    symlink(home, "history.jsonl", write(folder, "elsewhere.txt", record() + "\n"))


def history_fifo(folder: Path, home: Path) -> None:
    fifo(home, "history.jsonl")


def folder_with_a_fifo(folder: Path, home: Path) -> list[str]:
    (folder / "bank").mkdir()
    fifo(folder / "bank", "x.yaml")
    return ["bank", "validate", str(folder / "bank")]


def sparse_bank(folder: Path, home: Path) -> list[str]:
    os.truncate(write(folder, "huge.yaml", b""), 11 * 1024 * 1024)  # st_size says 11 MB
    return ["bank", "validate", str(folder / "huge.yaml")]


def junit_onto_bank(folder: Path, home: Path) -> list[str]:
    bank = write(folder, "demo.yaml", GOOD_BANK)
    path = answers(folder, "demo-one: the first number\n")
    return ["--bank", str(bank), *exam_with(path, "--junit", str(bank))]


def notes_onto_history(folder: Path, home: Path) -> list[str]:
    history(home, record())
    notes = write(folder, "notes.md", "## What is X?\n\nX is a thing.\n")
    return ["import", str(notes), "-o", str(home / "history.jsonl")]


def record(**changes: object) -> str:
    """A history line: the good record with some fields' JSON text replaced."""
    fields = {key: json.dumps(value) for key, value in GOOD_RECORD.items()}
    fields.update({key: str(value) for key, value in changes.items()})
    return "{" + ",".join(f'"{key}":{value}' for key, value in fields.items()) + "}"


def answers(folder: Path, text: str, name: str = "answers.yaml") -> Path:
    return write(folder, name, text)


def exam_with(answers_path: Path, *more: str) -> list[str]:
    return [*LEXICAL, "exam", "--answers", str(answers_path), *more]


def junit_onto(target: Callable[[Path, Path], Path]) -> Callable[[Path, Path], list[str]]:
    def setup(folder: Path, home: Path) -> list[str]:
        history(home, record())
        path = answers(folder, "rag-what-is: retrieval of documents\n")
        return exam_with(path, "--junit", str(target(folder, home)))

    return setup


def symlink(folder: Path, name: str, to: Path | str) -> Path:
    link = folder / name
    link.symlink_to(to)
    return link


def hardlink(folder: Path, name: str, to: Path) -> Path:
    link = folder / name
    os.link(to, link)
    return link


def cache_file(home: Path) -> Path:
    (home / "cache").mkdir(parents=True, exist_ok=True)
    return write(home / "cache", "verified.json", "{}")


def nested_notes(levels: int) -> str:
    return "## What is deep?\n\n" + "".join("  " * i + f"- level {i}\n" for i in range(levels))


def csv_with_gold(gold: str) -> str:
    return f"question,reference,answer,score\nWhat is RAG?,Retrieval,retrieval,{gold}\nq,r,a,1\n"


def damaged_lines(count: int) -> list[str]:
    return [record(), *(["{not json"] * count), record(question_id='"rag-pipeline-steps"')]


def snapshot(folder: Path, caches: Path | None = None) -> dict[str, object]:
    """Every entry under `folder`: a file's bytes and mode, a link's target, a FIFO's kind.

    `caches`: a folder left out (llmquiz's own disposable caches, which commands may write),
    and so are the folders made to hold it; the files beside it are not.
    """
    seen: dict[str, object] = {}
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(root, name)
            if caches is not None and (path.is_relative_to(caches) or caches.is_relative_to(path)):
                continue
            info = path.lstat()
            if path.is_symlink():
                seen[str(path)] = ("link", os.readlink(path))
            elif path.is_file():
                seen[str(path)] = ("file", path.read_bytes(), info.st_mode)
            else:
                seen[str(path)] = ("other", info.st_mode)
    return seen
