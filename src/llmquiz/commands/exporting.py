"""export: the bank (or some topics) as an Anki package or a tab-separated file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmquiz.bank import bank_files
from llmquiz.paths import cache_dir, history_file
from llmquiz.reports import write_output

if TYPE_CHECKING:
    from llmquiz.exporting import ExportedDeck
    from llmquiz.settings import Settings


@dataclass(frozen=True)
class ExportOutcome:
    format: str  # "apkg" | "tsv"
    notes: int
    decks: tuple[ExportedDeck, ...]
    written_to: Path


def run_export(cfg: Settings, topics: Sequence[str], fmt: str | None, output: Path) -> ExportOutcome:
    from llmquiz.exporting import build_export, format_for

    bank = cfg.bank()
    export = build_export(bank, topics, format_for(output, fmt))
    # the one place export writes: never over the history, a cache or a bank file it read
    protected = {
        history_file(cfg.home): "the history file",
        cache_dir(cfg.home): "in the cache folder",
        **{file: "a bank file this command reads" for file in bank_files(cfg.banks)},
    }
    write_output(output, export.data, protected)
    return ExportOutcome(export.format, export.notes, export.decks, output)
