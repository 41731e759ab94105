"""The one writer of output files: atomic, and never over what it must not touch."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmquiz.cli import app
from llmquiz.errors import OutputFileError
from llmquiz.outputfiles import check_output, write_output, write_private

runner = CliRunner()


def test_writes_a_new_file_and_its_missing_folders(tmp_path: Path) -> None:
    target = tmp_path / "out" / "deeper" / "report.xml"
    assert write_output(target, b"<x/>") == target
    assert target.read_bytes() == b"<x/>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["report.xml"]  # no temporary file left behind


def test_replacing_keeps_the_old_files_mode_and_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "exam.xml"
    real.parent.mkdir()
    real.write_bytes(b"old")
    real.chmod(0o644)
    link = tmp_path / "exam.xml"
    link.symlink_to(real)
    write_output(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda t, h: h / "history.jsonl", "refusing to write over the history", id="history"),
        pytest.param(
            lambda t, h: _link(t / "r.xml", h / "history.jsonl"), "over the history", id="symlink-to-history"
        ),
        pytest.param(
            lambda t, h: _hard(t / "r.xml", h / "history.jsonl"),
            "over the history",
            id="hard-link-to-history",
        ),
        pytest.param(
            lambda t, h: h / "cache" / "embeddings" / "x.npz", "into the cache folder", id="cache-file"
        ),
        pytest.param(lambda t, h: t / "in.yaml", "over an input of this command", id="input"),
        pytest.param(lambda t, h: _link(t / "r.xml", t / "in.yaml"), "over an input", id="symlink-to-input"),
        pytest.param(lambda t, h: _fifo(t / "r.xml"), "is a FIFO", id="fifo"),
        pytest.param(lambda t, h: _link(t / "r.xml", "/dev/null"), "is a character device", id="device"),
        pytest.param(lambda t, h: t, "is a folder", id="folder"),
    ],
)
def test_refusals_change_nothing(tmp_path: Path, llmquiz_home: Path, make, message: str) -> None:
    llmquiz_home.mkdir()
    (llmquiz_home / "history.jsonl").write_bytes(b"{}\n")
    (tmp_path / "in.yaml").write_bytes(b"a: b\n")
    target = make(tmp_path, llmquiz_home)
    before = sorted(
        (p, p.lstat().st_mode, p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*")
    )
    with pytest.raises(OutputFileError, match=message):
        write_output(target, b"clobbered", protected=[tmp_path / "in.yaml"], home=llmquiz_home)
    after = sorted(
        (p, p.lstat().st_mode, p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*")
    )
    assert after == before


def _link(link: Path, to: Path | str) -> Path:
    link.symlink_to(to)
    return link


def _hard(link: Path, to: Path) -> Path:
    os.link(to, link)
    return link


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.xml"
    target.write_bytes(b"old")

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutputFileError, match="cannot write: No space left on device"):
        write_output(target, b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["report.xml"]


def test_check_output_creates_nothing(tmp_path: Path) -> None:
    assert check_output(tmp_path / "a" / "b.xml") == tmp_path / "a" / "b.xml"
    assert not (tmp_path / "a").exists()


def test_private_files_are_0600_in_0700_folders(tmp_path: Path) -> None:
    path = tmp_path / "home" / "cache" / "x.json"
    write_private(path, b"{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_refused_junit_records_nothing(tmp_path: Path, llmquiz_home: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("rag-what-is: retrieval\n", encoding="utf-8")
    result = runner.invoke(
        app, ["--grader", "lexical", "exam", "--answers", str(answers), "--junit", str(answers)]
    )
    assert result.exit_code == 2 and "refusing to write over an input" in result.stderr
    assert not llmquiz_home.exists()  # refused before the exam graded or recorded anything
    assert answers.read_text(encoding="utf-8") == "rag-what-is: retrieval\n"
