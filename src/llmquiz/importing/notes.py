"""One file of notes or one deck in, an `ImportResult` out; and that result as bank YAML.

`import_notes` tells the file's kind by its content (a package by its bytes, a table by its
separators, else notes by their layout) and hands it to the part that reads that kind;
`render_bank_yaml` writes the result as a bank file that `llmquiz bank validate` accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from llmquiz.errors import InputFileError, Problem
from llmquiz.importing.answers import NestingError, build_answer
from llmquiz.importing.apkg import PackageError, is_package, read_notes
from llmquiz.importing.decks import ANKI, import_cards, package_cards
from llmquiz.importing.delimited import detect_separator, read_table
from llmquiz.importing.formats import (
    FLASHCARDS,
    MARKDOWN,
    NUMBERED,
    RawItem,
    detect_format,
    find_raw_items,
    split_lines,
)
from llmquiz.importing.items import ImportedItem, ImportResult, topic_for, with_ids
from llmquiz.importing.text import clean_inline, squash, word_count
from llmquiz.inputfiles import MAX_TEXT_FILE_BYTES, check_size, decode_text, read_input_bytes
from llmquiz.safetext import without_bidi_controls

OPEN_ANSWER = "No answer in the notes yet: write your own."
MAX_TITLE_WORDS = 12
# a package's media may make it large; only its collection is read (and capped) in apkg.py
MAX_PACKAGE_BYTES = 256 * 1024 * 1024
PACKAGE_SUFFIXES = (".apkg", ".colpkg")


def find_items(text: str, fmt: str | None = None, *, topic: str = "notes") -> list[ImportedItem]:
    """Every item of the notes, in order; `fmt` defaults to the detected format."""
    fmt = fmt or detect_format(text)
    raw_items = find_raw_items(split_lines(text), fmt)
    items = [_item(raw, loose=fmt != MARKDOWN) for raw in raw_items if raw.question]
    return with_ids(items, topic)


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


def import_notes(path: Path, topic: str | None = None) -> ImportResult:
    """Read notes or a deck and find its questions; InputFileError when it has none."""
    file = str(path)
    raw = read_input_bytes(path, MAX_PACKAGE_BYTES)
    if is_package(raw[:16]):
        try:
            notes = read_notes(raw)
        except PackageError as exc:
            raise InputFileError([Problem(file, 0, str(exc))]) from None
        return import_cards(path, topic, ANKI, *package_cards(notes))
    if path.suffix.lower() in PACKAGE_SUFFIXES:
        raise InputFileError([Problem(file, 0, "not an Anki package: it does not start like a zip file")])
    check_size(file, raw, MAX_TEXT_FILE_BYTES)
    text = decode_text(raw, file)
    if not text.strip():
        raise InputFileError([Problem(file, 1, "the file is empty")])
    separator = detect_separator(text, path.suffix)
    if separator is not None:
        table = read_table(text, separator)
        return import_cards(path, topic, table.format, list(table.cards), list(table.skipped))
    slug = topic_for(topic, path)
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
    entry |= {
        "difficulty": "medium",
        "tags": list(dict.fromkeys(("imported", *item.tags))),
        "sources": [f"{source_name}:{item.where}"],
    }
    if item.kind != "free":
        entry["kind"] = item.kind
    if item.accept:
        entry["accept"] = list(item.accept)
    if item.misconceptions:
        entry["misconceptions"] = [
            {"claim": claim, "correction": correction} for claim, correction in item.misconceptions
        ]
    return entry
