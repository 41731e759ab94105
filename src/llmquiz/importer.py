"""Turn interview notes (Markdown, numbered lists, flashcard exports) into a bank file.

`import_notes` reads a file and returns an `ImportResult`; `render_bank_yaml` writes it as
the YAML of a bank file that `llmquiz bank validate` accepts. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmquiz.bank import SLUG
from llmquiz.errors import BadInputError, InputFileError, Problem
from llmquiz.importing.answers import NestingError, build_answer
from llmquiz.importing.formats import (
    FLASHCARDS,
    FORMATS,
    MARKDOWN,
    NUMBERED,
    RawItem,
    detect_format,
    find_raw_items,
    split_lines,
)
from llmquiz.importing.text import clean_inline, slugify, squash, topic_slug, word_count
from llmquiz.inputfiles import read_text_file
from llmquiz.safetext import without_bidi_controls

__all__ = [
    "FORMATS",
    "OPEN_ANSWER",
    "ImportResult",
    "ImportedItem",
    "detect_format",
    "find_items",
    "import_notes",
    "render_bank_yaml",
]

OPEN_ANSWER = "No answer in the notes yet: write your own."
ID_WORDS = 6
MAX_TITLE_WORDS = 12


@dataclass(frozen=True)
class ImportedItem:
    """One question found in the notes."""

    number: int | None  # the item's own number in the notes, if any
    question: str  # cleaned question text
    answer: str  # cleaned answer text ('' when the notes give none)
    key_points: tuple[str, ...]
    line: int  # 1-based line where the item starts
    end_line: int  # last line of its answer (or of the item when there is no answer)
    id: str  # "<topic>-<slug of the question>", made unique with -2, -3
    kind: str  # "free", or "open" when there is no answer


@dataclass(frozen=True)
class ImportResult:
    topic: str
    title: str
    source_file: str
    format: str  # "markdown" | "numbered" | "flashcards"
    items: tuple[ImportedItem, ...]
    warnings: tuple[str, ...]


def find_items(text: str, fmt: str | None = None, *, topic: str = "notes") -> list[ImportedItem]:
    """Every item of the notes, in order; `fmt` defaults to the detected format."""
    fmt = fmt or detect_format(text)
    raw_items = find_raw_items(split_lines(text), fmt)
    items = [_item(raw, loose=fmt != MARKDOWN) for raw in raw_items if raw.question]
    return _with_ids(items, topic)


def _item(raw: RawItem, loose: bool) -> ImportedItem:
    answer = build_answer(raw.body, loose)
    return ImportedItem(
        number=raw.number,
        question=raw.question,
        answer=answer.text,
        key_points=answer.key_points,
        line=raw.line,
        end_line=answer.end_line or raw.last_line,
        id="",
        kind="free" if answer.text else "open",
    )


def _with_ids(items: list[ImportedItem], topic: str) -> list[ImportedItem]:
    used: set[str] = set()
    result = []
    for item in items:
        base = f"{topic}-{slugify(item.question, ID_WORDS, drop_filler=True) or f'item-{item.line}'}"
        unique, copy = base, 1
        while unique in used:
            copy += 1
            unique = f"{base}-{copy}"
        used.add(unique)
        result.append(dataclasses.replace(item, id=unique))
    return result


def import_notes(path: Path, topic: str | None = None) -> ImportResult:
    """Read a notes file and find its questions; InputFileError when it has none."""
    file = str(path)
    text = read_text_file(path)
    if not text.strip():
        raise InputFileError([Problem(file, 1, "the file is empty")])
    slug = _topic(topic, path)
    fmt = detect_format(text)
    try:
        items = find_items(text, fmt, topic=slug)
    except NestingError as exc:
        raise InputFileError([Problem(file, exc.line, str(exc))]) from None
    if not items:
        raise InputFileError([Problem(file, 1, _NO_ITEMS)])
    return ImportResult(
        topic=slug,
        title=_title(text, items, path),
        source_file=file,
        format=fmt,
        items=tuple(items),
        warnings=tuple(_warnings(items, fmt, path.name)),
    )


_NO_ITEMS = (
    "no questions found: expected Markdown headings ('## What is RAG?', '# 1. Question'), "
    "a numbered list ('1. What is RAG?') or flashcards (a number, 'Q', the question, 'A', the answer)"
)


def _topic(topic: str | None, path: Path) -> str:
    if topic is None:
        return topic_slug(path.stem)
    if not SLUG.match(topic):
        raise BadInputError(f"topic must be a lowercase slug like 'rag-notes', got {topic!r}")
    return topic


def _title(text: str, items: list[ImportedItem], path: Path) -> str:
    """The notes' own title (first line before the first item) or one made from the file name."""
    for line in split_lines(text)[: items[0].line - 1]:
        title = squash(clean_inline(line.lstrip("# ")))
        if title:
            return title if word_count(title) <= MAX_TITLE_WORDS else f"Imported from {path.name}"
    return f"Imported from {path.name}"


def _warnings(items: list[ImportedItem], fmt: str, name: str) -> list[str]:
    noun = {FLASHCARDS: "card", NUMBERED: "question", MARKDOWN: "section"}[fmt]
    first_seen: dict[str, int] = {}
    warnings = []
    for item in items:
        if item.kind == "open":
            label = f"{noun} {item.number}" if item.number is not None else f"{noun} {item.question!r}"
            warnings.append(f"{name}:{item.line}: {label} has no answer; imported as an open question")
        earlier = first_seen.setdefault(item.question.lower(), item.line)
        if earlier != item.line:
            warnings.append(f"{name}:{item.line}: same question as line {earlier}; imported as {item.id}")
    return warnings


# --- YAML output --------------------------------------------------------------------------


class _BankDumper(yaml.SafeDumper):
    """Safe dumper that writes multi-line text as a literal block (`|`)."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # YAML escapes other control characters itself, but writes these raw to the terminal
    text = without_bidi_controls(text)
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BankDumper.add_representer(str, _represent_text)


def render_bank_yaml(result: ImportResult) -> str:
    """The YAML text of a valid bank file holding every imported item."""
    document = {
        "topic": result.topic,
        "title": result.title,
        "questions": [_question(item, Path(result.source_file).name) for item in result.items],
    }
    return yaml.dump(
        document,
        Dumper=_BankDumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
        indent=2,
    )


def _question(item: ImportedItem, source_name: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": item.id,
        "question": item.question,
        "answer": item.answer or OPEN_ANSWER,
    }
    if item.key_points:
        entry["key_points"] = list(item.key_points)
    entry |= {"difficulty": "medium", "tags": ["imported"], "sources": [f"{source_name}:{item.line}"]}
    if item.kind == "open":
        entry["kind"] = "open"
    return entry
