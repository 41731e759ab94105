"""Tab- or comma-separated flashcards: Anki's "Notes in plain text" and Quizlet's export.

Anki writes `#key:value` header lines first (`#separator:tab`, `#html:true`,
`#tags column:3`, `#deck column:2`, `#columns:Front<TAB>Back`, ...); Quizlet writes one
"term<TAB>definition" per line. Rows are read by the `csv` module, so quoted fields may
hold separators and line breaks.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmquiz.importing.cards import Card, cards_of, roles_for
from llmquiz.importing.formats import split_lines
from llmquiz.importing.markup import looks_like_html

TSV, CSV = "tsv", "csv"
SEPARATOR_NAMES = {"tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|", "colon": ":"}
HEADER = re.compile(r"^#([A-Za-z][A-Za-z ]*):(.*)$")
KNOWN_HEADERS = frozenset(
    (
        "separator",
        "html",
        "tags",
        "columns",
        "notetype",
        "deck",
        "if matches",
        "guid column",
        "notetype column",
        "deck column",
        "tags column",
    )
)
csv.field_size_limit(10 * 1024 * 1024)  # a long field is fine; the file itself is size-capped


@dataclass(frozen=True)
class Table:
    format: str  # "tsv" | "csv"
    cards: tuple[Card, ...]
    skipped: tuple[tuple[str, str], ...]  # (line, why)


def _headers(lines: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        match = HEADER.match(line)
        if not match or match[1].strip().lower() not in KNOWN_HEADERS:
            break
        found[match[1].strip().lower()] = match[2].strip()
    return found


def _separator(value: str) -> str | None:
    if value.lower() in SEPARATOR_NAMES:
        return SEPARATOR_NAMES[value.lower()]
    return value if len(value) == 1 else None


def _rows(text: str, separator: str) -> list[tuple[int, list[str]]]:
    """(line where the row starts, fields) of every row that is not blank or a '#' header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows = []
    line = reader.line_num + 1
    for row in reader:
        if row and any(cell.strip() for cell in row) and not (len(row) == 1 and not row[0].strip()):
            rows.append((line, row))
        line = reader.line_num + 1
    return rows


def detect_separator(text: str, suffix: str) -> str | None:
    """The separator when the text is a table of cards, else None (notes of another shape)."""
    lines = split_lines(text)
    headers = _headers(lines)
    if headers:
        given = _separator(headers.get("separator", ""))
        body = "\n".join(lines[len(headers) :])
        return given or ("\t" if "\t" in body else ",")
    candidates = ["\t"] + ([","] if suffix.lower() == ".csv" else [])
    for separator in candidates:
        rows = _rows(text, separator)
        if rows and all(len(row) >= 2 for _, row in rows):
            return separator
    return None


def read_table(text: str, separator: str) -> Table:
    lines = split_lines(text)
    headers = _headers(lines)
    body = "\n" * len(headers) + "\n".join(lines[len(headers) :])  # keep the line numbers
    rows = _rows(body, separator)
    html = _html(headers, rows)
    meta = {key: _column(headers.get(f"{key} column")) for key in ("guid", "notetype", "deck", "tags")}
    width = max((len(row) for _, row in rows), default=0)
    field_columns = [index for index in range(width) if index not in meta.values()]
    names = headers.get("columns", "").split(separator) if "columns" in headers else []
    field_names = [
        names[index].strip() if index < len(names) else f"Field {position + 1}"
        for position, index in enumerate(field_columns)
    ]
    extra_tags = headers.get("tags", "").split()
    cards: list[Card] = []
    skipped: list[tuple[str, str]] = []
    for line, row in rows:
        fields = [row[index] if index < len(row) else "" for index in field_columns]
        if sum(1 for value in fields if value.strip()) < 1:
            skipped.append((str(line), "no fields in this row; skipped"))
            continue
        note_type = _cell(row, meta["notetype"]) or headers.get("notetype", "")
        roles = roles_for(field_names, (), "cloze" in note_type.lower())
        found, why = cards_of(
            str(line),
            fields,
            roles,
            html=html,
            tags=[*extra_tags, *_cell(row, meta["tags"]).split()],
            deck=_cell(row, meta["deck"]) or headers.get("deck", ""),
        )
        cards.extend(found)
        if why:
            skipped.append((str(line), why))
    return Table(TSV if separator == "\t" else CSV, tuple(cards), tuple(skipped))


def _html(headers: dict[str, str], rows: Sequence[tuple[int, list[str]]]) -> bool:
    if "html" in headers:
        return headers["html"].lower() in ("true", "yes", "1")
    return any(looks_like_html(cell) for _, row in rows for cell in row)


def _column(value: str | None) -> int | None:
    """A 1-based column number from a header, as a 0-based index."""
    if value and value.strip().isdigit() and int(value) > 0:
        return int(value) - 1
    return None


def _cell(row: Sequence[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""
