"""Anki packages for the tests: real ones written by genanki, and a hand-made newer one.

The newer format (Anki 2.1.50+) is built the way Anki lays it out: `collection.anki21b` is a
zstd-compressed SQLite file whose note types live in the `notetypes`, `fields` and
`templates` tables (templates and note-type settings as protobuf messages), deck names use
\\x1f between levels, and the package also holds an old-format `collection.anki2` stub.
"""

from __future__ import annotations

import sqlite3
import zipfile
from collections.abc import Sequence
from pathlib import Path

import genanki
import zstandard

# fixed ids: the tests never depend on the clock or on chance
BASIC, TYPE_IN, CLOZE = genanki.BASIC_MODEL, genanki.BASIC_TYPE_IN_THE_ANSWER_MODEL, genanki.CLOZE_MODEL
REVERSED = genanki.BASIC_AND_REVERSED_CARD_MODEL


def genanki_package(path: Path, decks: dict[str, Sequence[genanki.Note]]) -> Path:
    """An .apkg with one deck per name, as genanki writes it (collection.anki2, col.models)."""
    built = []
    for number, (name, notes) in enumerate(decks.items()):
        deck = genanki.Deck(1_500_000_000 + number, name)
        for note in notes:
            deck.add_note(note)
        built.append(deck)
    genanki.Package(built).write_to_file(str(path), timestamp=1_700_000_000)
    return path


def note(model: genanki.Model, *fields: str, tags: Sequence[str] = ()) -> genanki.Note:
    return genanki.Note(model=model, fields=list(fields), tags=list(tags))


# --- the newer format, by hand ------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _text_field(number: int, text: str) -> bytes:
    data = text.encode()
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def template_config(front: str, back: str) -> bytes:
    """CardTemplate.Config: 1 = front format, 2 = back format (then a field we do not read)."""
    return _text_field(1, front) + _text_field(2, back) + _text_field(5, "Arial")


def notetype_config(cloze: bool) -> bytes:
    """Notetype.Config: 1 = kind (1 = cloze; 0, normal, is left out as protobuf does), 3 = css."""
    return (b"\x08\x01" if cloze else b"") + _text_field(3, ".card {}")


SCHEMA_18 = """
CREATE TABLE col (id integer PRIMARY KEY, crt integer NOT NULL, mod integer NOT NULL,
  scm integer NOT NULL, ver integer NOT NULL, dty integer NOT NULL, usn integer NOT NULL,
  ls integer NOT NULL, conf text NOT NULL, models text NOT NULL, decks text NOT NULL,
  dconf text NOT NULL, tags text NOT NULL);
CREATE TABLE notes (id integer PRIMARY KEY, guid text NOT NULL, mid integer NOT NULL,
  mod integer NOT NULL, usn integer NOT NULL, tags text NOT NULL, flds text NOT NULL,
  sfld integer NOT NULL, csum integer NOT NULL, flags integer NOT NULL, data text NOT NULL);
CREATE TABLE cards (id integer PRIMARY KEY, nid integer NOT NULL, did integer NOT NULL,
  ord integer NOT NULL, mod integer NOT NULL, usn integer NOT NULL, type integer NOT NULL,
  queue integer NOT NULL, due integer NOT NULL, ivl integer NOT NULL, factor integer NOT NULL,
  reps integer NOT NULL, lapses integer NOT NULL, left integer NOT NULL, odue integer NOT NULL,
  odid integer NOT NULL, flags integer NOT NULL, data text NOT NULL);
CREATE TABLE notetypes (id integer NOT NULL PRIMARY KEY, name text NOT NULL COLLATE unicase,
  mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL);
CREATE TABLE fields (ntid integer NOT NULL, ord integer NOT NULL, name text NOT NULL COLLATE unicase,
  config blob NOT NULL, PRIMARY KEY (ntid, ord)) without rowid;
CREATE TABLE templates (ntid integer NOT NULL, ord integer NOT NULL, name text NOT NULL COLLATE unicase,
  mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL, PRIMARY KEY (ntid, ord))
  without rowid;
CREATE TABLE decks (id integer PRIMARY KEY NOT NULL, name text NOT NULL COLLATE unicase,
  mtime_secs integer NOT NULL, usn integer NOT NULL, common blob NOT NULL, kind blob NOT NULL);
"""

BASIC_ID, CLOZE_ID, TYPE_ID = 1_600_000_000_001, 1_600_000_000_002, 1_600_000_000_003
DECKS = {1: "Default", 1_650_000_000_000: "Interview\x1fTransformers"}


def _unicase(left: str, right: str) -> int:
    return (left.casefold() > right.casefold()) - (left.casefold() < right.casefold())


def schema18_collection(path: Path, notes: Sequence[tuple[int, int, str, Sequence[str]]]) -> Path:
    """A collection in Anki's newer layout; `notes` are (note id, note type id, tags, fields)."""
    db = sqlite3.connect(path)
    db.create_collation("unicase", _unicase)
    db.executescript(SCHEMA_18)
    db.execute("INSERT INTO col VALUES (1, 0, 0, 0, 18, 0, 0, 0, '', '', '', '', '')")
    types = [
        (BASIC_ID, "Basic", False, ["Front", "Back"], [("{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}")]),
        (
            CLOZE_ID,
            "Cloze",
            True,
            ["Text", "Back Extra"],
            [("{{cloze:Text}}", "{{cloze:Text}}<br>{{Back Extra}}")],
        ),
        (
            TYPE_ID,
            "Basic (type in the answer)",
            False,
            ["Front", "Back"],
            [("{{Front}}<br>{{type:Back}}", "{{Front}}<hr id=answer>{{type:Back}}")],
        ),
    ]
    for type_id, name, cloze, fields, templates in types:
        db.execute("INSERT INTO notetypes VALUES (?, ?, 0, 0, ?)", (type_id, name, notetype_config(cloze)))
        for order, field in enumerate(fields):
            db.execute("INSERT INTO fields VALUES (?, ?, ?, ?)", (type_id, order, field, b""))
        for order, (front, back) in enumerate(templates):
            db.execute(
                "INSERT INTO templates VALUES (?, ?, ?, 0, 0, ?)",
                (type_id, order, f"Card {order + 1}", template_config(front, back)),
            )
    for deck_id, name in DECKS.items():
        db.execute("INSERT INTO decks VALUES (?, ?, 0, 0, ?, ?)", (deck_id, name, b"", b""))
    deck_id = max(DECKS)
    for number, (note_id, type_id, tags, fields) in enumerate(notes):
        db.execute(
            "INSERT INTO notes VALUES (?, ?, ?, 0, 0, ?, ?, ?, 0, 0, '')",
            (note_id, f"guid{number}", type_id, tags, "\x1f".join(fields), fields[0]),
        )
        db.execute(
            "INSERT INTO cards VALUES (?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '')",
            (note_id + 1, note_id, deck_id),
        )
    db.commit()
    db.close()
    return path


def anki21b_package(path: Path, notes: Sequence[tuple[int, int, str, Sequence[str]]]) -> Path:
    """A package as newer Anki exports it: zstd collection.anki21b beside an old-format stub."""
    collection = schema18_collection(path.with_suffix(".collection"), notes)
    stub = path.with_suffix(".stub")
    genanki_package(stub, {"Default": [note(BASIC, "Please update to the latest Anki version.", "-")]})
    with zipfile.ZipFile(stub) as old:
        stub_collection = old.read("collection.anki2")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("collection.anki2", stub_collection)
        archive.writestr("collection.anki21b", zstandard.ZstdCompressor().compress(collection.read_bytes()))
        archive.writestr("meta", b"\x08\x03")
        archive.writestr("media", zstandard.ZstdCompressor().compress(b""))
    return path
