"""The bank as an Anki package (type-in-answer notes, written with genanki) or a TSV file.

Every id in the package is derived from fixed strings, never drawn at random: the note
type's from its name, each deck's from its topic, each note's GUID from its question id.
Importing a newer export into Anki therefore updates the notes it imported before
instead of adding copies. Nothing here prints or writes the output file.
"""

from __future__ import annotations

import hashlib
import html
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# csv, sqlite3, zipfile and genanki are imported by the functions that write: the CLI reads
# EXPORT_FORMATS from here at every start-up

if TYPE_CHECKING:
    import genanki

    from llmquiz.bank import Bank, Question, Topic

APKG, TSV = "apkg", "tsv"
EXPORT_FORMATS = (APKG, TSV)
PARENT_DECK = "llmquiz"
MODEL_NAME = "llmquiz (type in the answer)"
FIELDS = ("Question", "Choices", "Answer", "Key points", "Misconceptions", "Id")
TSV_COLUMNS = ("GUID", "Deck", *FIELDS, "Tags")
NOT_SO, IN_FACT = "Not so:", "In fact:"  # how a misconception and its correction are labelled

_SHOW_QUESTION = (
    '<div class="question">{{Question}}</div>\n'
    '{{#Choices}}<div class="choices">{{Choices}}</div>{{/Choices}}\n'
)
FRONT = _SHOW_QUESTION + "{{type:Answer}}"
BACK = (
    _SHOW_QUESTION + "<hr id=answer>\n{{type:Answer}}\n"
    '{{#Key points}}<div class="section">Key points</div>{{Key points}}{{/Key points}}\n'
    '{{#Misconceptions}}<div class="section">Common misconceptions</div>'
    "{{Misconceptions}}{{/Misconceptions}}"
)
CSS = """.card { font-family: sans-serif; font-size: 18px; text-align: left; }
.question { font-weight: bold; margin-bottom: 0.8em; }
.section { margin-top: 1em; font-size: 0.85em; text-transform: uppercase; color: #666; }
"""


@dataclass(frozen=True)
class ExportedDeck:
    name: str  # "llmquiz::<topic title>"
    topic: str
    notes: int


@dataclass(frozen=True)
class Export:
    format: str  # "apkg" | "tsv"
    data: bytes
    decks: tuple[ExportedDeck, ...]
    guids: tuple[str, ...]  # of the notes, in the order written

    @property
    def notes(self) -> int:
        return len(self.guids)


def stable_id(label: str) -> int:
    """An Anki id (note type or deck) from a fixed label: the same label, the same id."""
    digest = hashlib.sha256(f"llmquiz:{label}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


def note_guid(question_id: str) -> str:
    import genanki

    return str(genanki.guid_for("llmquiz", question_id))


def deck_name(topic: Topic) -> str:
    # '::' nests decks in Anki; a title that holds one stays one deck
    return f"{PARENT_DECK}::{' '.join(topic.title.replace('::', ':').split())}"


def format_for(path: Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name suggests (.tsv, .txt: TSV)."""
    if fmt is not None:
        return fmt
    return TSV if path.suffix.lower() in (".tsv", ".txt") else APKG


def build_export(bank: Bank, topics: Sequence[str], fmt: str) -> Export:
    """The package or TSV text of the chosen topics (all topics when none are given)."""
    chosen = list({t.slug: t for t in map(bank.topic, topics)}.values()) if topics else list(bank.topics)
    decks = tuple(ExportedDeck(deck_name(topic), topic.slug, len(topic.questions)) for topic in chosen)
    guids = tuple(note_guid(question.id) for topic in chosen for question in topic.questions)
    data = _package(chosen) if fmt == APKG else _tsv(chosen).encode("utf-8")
    return Export(fmt, data, decks, guids)


# --- fields -----------------------------------------------------------------------------------


def _html(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def _list(items: Sequence[str], tag: str = "ul") -> str:
    return f"<{tag}>" + "".join(f"<li>{item}</li>" for item in items) + f"</{tag}>" if items else ""


def note_fields(question: Question) -> list[str]:
    """The note's fields in FIELDS order, as HTML."""
    choices = _list([_html(choice) for choice in question.choices], "ol") if question.kind == "choice" else ""
    misconceptions = [
        f"<b>{NOT_SO}</b> {_html(item.claim)}<br><b>{IN_FACT}</b> {_html(item.correction)}"
        for item in question.misconceptions
    ]
    return [
        _html(question.question),
        choices,
        _html(question.answer),
        _list([_html(point) for point in question.key_points]),
        _list(misconceptions),
        _html(question.id),
    ]


def note_tags(question: Question) -> list[str]:
    """Anki tags hold no spaces: 'vector search' becomes 'vector_search'."""
    return list(dict.fromkeys("_".join(tag.split()) for tag in question.tags if tag.strip()))


# --- Anki package -----------------------------------------------------------------------------


def _model() -> genanki.Model:
    import genanki

    return genanki.Model(
        stable_id(MODEL_NAME),
        MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Type in the answer", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
    )


def _package(topics: Sequence[Topic]) -> bytes:
    import genanki

    model = _model()
    decks = [genanki.Deck(stable_id(f"deck {PARENT_DECK}"), PARENT_DECK)]
    for topic in topics:
        deck = genanki.Deck(stable_id(f"deck {topic.slug}"), deck_name(topic))
        for question in topic.questions:
            note = genanki.Note(
                model=model,
                fields=note_fields(question),
                tags=note_tags(question),
                guid=note_guid(question.id),
            )
            deck.add_note(note)
        decks.append(deck)
    return _package_bytes(genanki.Package(decks))


def _package_bytes(package: genanki.Package) -> bytes:
    """The .apkg's bytes. genanki's own write_to_file leaves its SQLite temp file behind in the
    system temp folder, so the collection is written here into a folder that is removed after,
    and zipped in memory for the caller's atomic writer."""
    import itertools
    import sqlite3
    import tempfile
    import zipfile

    now = time.time()  # Anki updates a note on re-import only when this is newer: not fixed
    with tempfile.TemporaryDirectory(prefix="llmquiz-export-") as folder:
        path = Path(folder) / "collection.anki2"
        db = sqlite3.connect(path)
        try:
            package.write_to_db(db.cursor(), now, itertools.count(int(now * 1000)))
            db.commit()
        finally:
            db.close()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "collection.anki2")
            archive.writestr("media", "{}")  # no media files
    return buffer.getvalue()


# --- TSV ---------------------------------------------------------------------------------------


def _tsv(topics: Sequence[Topic]) -> str:
    """Anki's "Notes in plain text" format: headers name the columns, GUIDs and decks, so Anki
    (File > Import) and `llmquiz import` both read it back."""
    import csv

    out = io.StringIO()
    out.write("#separator:tab\n#html:true\n")
    out.write("#columns:" + "\t".join(TSV_COLUMNS) + "\n")
    out.write(f"#guid column:1\n#deck column:2\n#tags column:{len(TSV_COLUMNS)}\n")
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    for topic in topics:
        for question in topic.questions:
            fields = [" ".join(field.split("\t")) for field in note_fields(question)]
            writer.writerow(
                [note_guid(question.id), deck_name(topic), *fields, " ".join(note_tags(question))]
            )
    return out.getvalue()
