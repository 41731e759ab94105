"""export: the bank (or some topics) as an Anki package or a tab-separated file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmquiz.bank import bank_files
from llmquiz.outputfiles import write_output

if TYPE_CHECKING:
    from llmquiz.context import Context
    from llmquiz.exporting import ExportedDeck


@dataclass(frozen=True)
class ExportOutcome:
    format: str  # "apkg" | "tsv"
    notes: int
    decks: tuple[ExportedDeck, ...]
    written_to: Path


def run_export(cfg: Context, topics: Sequence[str], fmt: str | None, output: Path) -> ExportOutcome:
    from llmquiz.exporting import build_export, format_for

    bank = cfg.bank()
    export = build_export(bank, topics, format_for(output, fmt))
    # never over the history, a cache or a bank file it read
    write_output(output, export.data, protected=bank_files(cfg.banks), home=cfg.home)
    return ExportOutcome(export.format, export.notes, export.decks, output)
