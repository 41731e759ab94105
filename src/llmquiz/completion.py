"""Shell completion of topic names and question ids (`llmquiz --install-completion`).

The shell runs llmquiz on every Tab, so this reads the bank files with two regular
expressions instead of loading and validating them: a Tab costs a few milliseconds, and a
bank being edited (not valid yet) still completes. Nothing here ever raises or prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from llmquiz.bank import QUESTION_ID, SLUG

TOPIC_LINE = re.compile(r"^topic:[ \t]*[\"']?([a-z0-9][a-z0-9_-]*)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)
TITLE_LINE = re.compile(r"^title:[ \t]*[\"']?(.*?)[\"']?[ \t]*$", re.MULTILINE)
ID_LINE = re.compile(
    r"^[ \t]*(?:-[ \t]+)?id:[ \t]*[\"']?([A-Za-z0-9][A-Za-z0-9._-]*)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE
)
MAX_HELP = 60


def complete_topic(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Topic slugs starting with what was typed, with their titles (zsh and fish show them)."""
    found: dict[str, str] = {}
    for text in _bank_texts(ctx):
        topic = TOPIC_LINE.search(text)
        if topic and SLUG.match(topic[1]) and topic[1].startswith(incomplete):
            title = TITLE_LINE.search(text)
            found.setdefault(topic[1], _help(title[1]) if title else "")
    return sorted(found.items())


def complete_question_id(ctx: typer.Context, incomplete: str) -> list[str]:
    """Question ids starting with what was typed."""
    found: dict[str, None] = {}
    for text in _bank_texts(ctx):
        for match in ID_LINE.finditer(text):
            if match[1].startswith(incomplete) and QUESTION_ID.match(match[1]):
                found[match[1]] = None
    return sorted(found)


def _help(text: str) -> str:
    """A title as a completion's description: printable characters only (it goes to the shell)."""
    clean = "".join(ch for ch in text if ch.isprintable()).strip()
    return clean if len(clean) <= MAX_HELP else clean[: MAX_HELP - 3] + "..."


def _bank_texts(ctx: typer.Context) -> Iterator[str]:
    """The text of each bank file the command line names (--bank), else of the shipped bank."""
    from llmquiz.bank import bank_files
    from llmquiz.errors import LlmquizError
    from llmquiz.inputfiles import read_text_file
    from llmquiz.paths import shipped_bank_dir

    try:
        files = bank_files(_bank_paths(ctx) or [shipped_bank_dir()])
    except (LlmquizError, OSError, ValueError):
        return
    for path in files:
        try:
            yield read_text_file(path)  # the one reader of input files
        except (LlmquizError, OSError, ValueError):
            continue


def _bank_paths(ctx: typer.Context) -> list[Path]:
    root: Any = ctx.find_root()
    given = (root.params or {}).get("bank") or ()
    return [Path(p).expanduser() for p in given]
