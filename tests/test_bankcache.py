"""The parsed-bank cache: a shortcut that never changes what a bank loads as or reports."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

import llmquiz.bankcache as bankcache
from llmquiz.bank import load_bank
from llmquiz.bankcache import ParsedBankCache
from llmquiz.cli import app
from llmquiz.errors import BankError
from llmquiz.paths import shipped_bank_dir

from .test_bank import GOOD, write

runner = CliRunner()


def load_cached(paths: list[Path], folder: Path):
    return load_bank(paths, ParsedBankCache(folder).parse)


def entries(folder: Path) -> list[Path]:
    return sorted(ParsedBankCache(folder).folder.glob("*"))


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, file: str):
        raise AssertionError(f"{file} was parsed again")

    monkeypatch.setattr(bankcache, "parse_bank_text", refuse)


def test_second_load_reads_the_cache_and_loads_the_same_bank(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    first = load_cached([shipped_bank_dir()], folder)
    assert len(entries(folder)) == len(first.topics)
    no_parsing(monkeypatch)
    second = load_cached([shipped_bank_dir()], folder)
    assert second.topics == first.topics == load_bank([shipped_bank_dir()]).topics
    assert [t.entries for t in second.topics] == [t.entries for t in first.topics]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda path: path.write_text(GOOD.replace("What is one?", "What is 1?")), id="edited"),
        pytest.param(lambda path: path.rename(path.with_name("moved.yaml")), id="moved"),
    ],
)
def test_an_edited_or_moved_file_is_parsed_again(tmp_path: Path, change) -> None:
    folder = tmp_path / "cache"
    bank_dir = tmp_path / "bank"
    bank_dir.mkdir()
    path = write(bank_dir, GOOD)
    load_cached([bank_dir], folder)
    change(path)
    bank = load_cached([bank_dir], folder)
    loaded = load_bank([bank_dir])
    assert bank.topics == loaded.topics
    assert bank.question("demo-one").file == loaded.question("demo-one").file
    assert bank.question("demo-one").question == loaded.question("demo-one").question


def test_an_edited_file_replaces_its_entry(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    path = write(tmp_path, GOOD)
    for number in range(3):
        path.write_text(GOOD.replace("What is one?", f"What is {number}?"), encoding="utf-8")
        assert load_cached([path], folder).question("demo-one").question == f"What is {number}?"
    assert len(entries(folder)) == 1


def test_a_file_with_problems_is_never_kept(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    bad = write(tmp_path, GOOD.replace("difficulty: easy", "difficulty: trivial"))
    for _ in range(2):
        with pytest.raises(BankError, match="difficulty"):
            load_cached([bad], folder)
    assert entries(folder) == []


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x93\xa1x", id="not-a-mapping"),
        pytest.param(b"\x92\xa1k\x81\xa4slug\x01", id="wrong-shape"),
        pytest.param(random.Random(7).randbytes(512), id="noise"),
    ],
)
def test_a_damaged_entry_is_ignored_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    folder = tmp_path / "cache"
    path = write(tmp_path, GOOD)
    load_cached([path], folder)
    [entry] = entries(folder)
    entry.write_bytes(damage)
    assert load_cached([path], folder).topics == load_bank([path]).topics
    assert entry.read_bytes() != damage


def test_a_folder_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    path = write(tmp_path, GOOD)
    assert load_cached([path], blocker / "cache").topics == load_bank([path]).topics


def test_commands_see_an_edited_bank(tmp_path: Path, llmquiz_home: Path) -> None:
    path = write(tmp_path, GOOD)
    first = runner.invoke(app, ["--bank", str(path), "list", "--json"])
    assert first.exit_code == 0, first.output
    assert len(entries(llmquiz_home / "cache")) == 1
    path.write_text(GOOD.replace("What is one?", "What is 1?"), encoding="utf-8")
    second = runner.invoke(app, ["--bank", str(path), "list", "--json"])
    questions = {q["id"]: q["question"] for q in json.loads(second.output)}
    assert questions["demo-one"] == "What is 1?"


def test_problems_across_files_are_found_in_kept_files_too(tmp_path: Path, llmquiz_home: Path) -> None:
    write(tmp_path, GOOD, "one.yaml")
    write(tmp_path, GOOD.replace("topic: demo", "topic: other"), "two.yaml")
    for _ in range(2):
        result = runner.invoke(app, ["bank", "validate", str(tmp_path)])
        assert result.exit_code == 2
        assert "duplicate id 'demo-one'" in result.output
    assert len(entries(llmquiz_home / "cache")) == 2
