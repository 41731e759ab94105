"""import: notes in, a bank file (or a dry-run table) out."""

from __future__ import annotations

from pathlib import Path

from llmquiz import render
from llmquiz.errors import EXIT_OK, warn
from llmquiz.reports import write_text_atomically


def run_import(file: Path, topic: str | None, output: Path | None, dry_run: bool) -> int:
    from llmquiz.importer import import_notes, render_bank_yaml

    result = import_notes(file, topic)
    err = render.make_console(stderr=True)
    for warning in result.warnings:
        warn(warning)
    if dry_run:
        console = render.make_console()
        console.print(render.import_table(result, console))
        return EXIT_OK
    text = render_bank_yaml(result)
    if output is None:
        print(text, end="")
    else:
        write_text_atomically(output, text)
        err.print(f"Wrote {len(result.items)} questions ({result.format}) to {output}", markup=False)
    return EXIT_OK
