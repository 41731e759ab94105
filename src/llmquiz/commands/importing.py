"""import: notes in, a bank file's text out (written to --output, unless a dry run)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmquiz.outputfiles import check_output, write_output

if TYPE_CHECKING:
    from llmquiz.importing import ImportResult


@dataclass(frozen=True)
class ImportOutcome:
    result: ImportResult
    bank_yaml: str | None  # None for a dry run
    written_to: Path | None  # the --output file, once written


def run_import(
    file: Path, topic: str | None, output: Path | None, dry_run: bool, home: Path | None = None
) -> ImportOutcome:
    """`home`: the data folder, whose history and caches -o never writes over."""
    from llmquiz.importing import import_notes, render_bank_yaml

    if output is not None and not dry_run:
        check_output(output, protected=[file], home=home)  # before reading anything
    result = import_notes(file, topic)
    if dry_run:
        return ImportOutcome(result, None, None)
    text = render_bank_yaml(result)
    if output is not None:
        write_output(output, text.encode("utf-8"), protected=[file], home=home)
    return ImportOutcome(result, text, output)
