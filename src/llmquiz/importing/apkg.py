"""Read the notes of an Anki package (.apkg / .colpkg) or a bare collection file.

A package is a zip holding the collection as SQLite: `collection.anki21b` (zstd-compressed,
Anki 2.1.50+), `collection.anki21` or `collection.anki2`. The zip is treated as hostile: only
those named members are read, each through a size cap, into memory and then into a private
temporary file for `sqlite3`; nothing is ever extracted by the names the zip gives.
Note types come from `col.models` (JSON, older collections) or the `notetypes`, `fields`
and `templates` tables (newer ones, where the templates are small protobuf messages).
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
SQLITE_MAGIC = b"SQLite format 3\x00"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# newest first: a newer package also holds an old-format stub that only says "update Anki"
MEMBERS = ("collection.anki21b", "collection.anki21", "collection.anki2")
MAX_COLLECTION_BYTES = 512 * 1024 * 1024  # the collection once decompressed
CHUNK = 1024 * 1024
DECK_SEPARATOR = "\x1f"  # how newer collections store "Parent::Child"


class PackageError(Exception):
    """The package or collection cannot be read; the message says why, in one line."""


@dataclass(frozen=True)
class NoteType:
    name: str
    is_cloze: bool
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str], ...]  # (front, back) of each card template


@dataclass(frozen=True)
class AnkiNote:
    id: int
    note_type: NoteType
    fields: tuple[str, ...]  # HTML, in the note type's field order
    tags: tuple[str, ...]
    deck: str  # "Parent::Child"; '' when the note has no card


def is_package(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or head.startswith(SQLITE_MAGIC)


def read_notes(data: bytes) -> list[AnkiNote]:
    """Every note of a package or collection file, in note-id order."""
    collection = data if data.startswith(SQLITE_MAGIC) else _collection_from_zip(data)
    if collection.startswith(ZSTD_MAGIC):
        collection = _decompress(collection)
    if not collection.startswith(SQLITE_MAGIC):
        raise PackageError("the collection inside is not an SQLite database")
    with _open_database(collection) as db:
        try:
            return _notes(db)
        except (sqlite3.Error, ValueError, TypeError, KeyError, RecursionError) as exc:
            raise PackageError(f"damaged collection: {exc}") from None


def _collection_from_zip(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            member = next((name for name in MEMBERS if name in names), None)
            if member is None:
                raise PackageError(
                    "a zip file without an Anki collection (collection.anki21b, .anki21 or .anki2)"
                )
            info = archive.getinfo(member)
            if info.flag_bits & 0x1:
                raise PackageError(f"{member} is encrypted")
            with archive.open(info) as handle:
                return _read_capped(handle, member)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise PackageError(f"not a readable Anki package (damaged or truncated zip: {exc})") from None


def _read_capped(handle: Any, what: str) -> bytes:
    """Read a stream whole, refusing more than MAX_COLLECTION_BYTES (sizes in headers can lie)."""
    chunks, total = [], 0
    while chunk := handle.read(CHUNK):
        total += len(chunk)
        if total > MAX_COLLECTION_BYTES:
            limit = MAX_COLLECTION_BYTES // (1024 * 1024)
            raise PackageError(f"{what} is larger than {limit} MB once unpacked; not read")
        chunks.append(chunk)
    return b"".join(chunks)


def _decompress(data: bytes) -> bytes:
    import zstandard

    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
            return _read_capped(reader, "the collection")
    except zstandard.ZstdError as exc:
        raise PackageError(f"damaged collection (zstd: {exc})") from None


def _unicase(left: str, right: str) -> int:
    """Anki's case-insensitive collation, which its schema names on some columns."""
    a, b = left.casefold(), right.casefold()
    return (a > b) - (a < b)


@contextlib.contextmanager
def _open_database(collection: bytes) -> Iterator[sqlite3.Connection]:
    with tempfile.TemporaryDirectory(prefix="llmquiz-anki-") as folder:
        path = Path(folder) / "collection.sqlite"
        path.write_bytes(collection)
        db = sqlite3.connect(path)
        try:
            db.create_collation("unicase", _unicase)
            # the file is foreign: no writes, and no functions run from its schema (views, triggers)
            db.execute("PRAGMA query_only = ON")
            db.execute("PRAGMA trusted_schema = OFF")
            yield db
        except sqlite3.DatabaseError as exc:
            raise PackageError(f"damaged collection: {exc}") from None
        finally:
            db.close()


def _tables(db: sqlite3.Connection) -> set[str]:
    return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _notes(db: sqlite3.Connection) -> list[AnkiNote]:
    tables = _tables(db)
    if "notes" not in tables:
        raise PackageError("the collection has no notes table")
    if {"notetypes", "fields"} <= tables and db.execute("SELECT count(*) FROM notetypes").fetchone()[0]:
        note_types, decks = _table_note_types(db, tables), _table_decks(db, tables)
    else:
        note_types, decks = _json_note_types(db), _json_decks(db)
    note_decks = _note_decks(db, decks) if "cards" in tables else {}
    notes = []
    for note_id, model_id, tags, fields in db.execute("SELECT id, mid, tags, flds FROM notes ORDER BY id"):
        note_type = note_types.get(int(model_id)) or _unknown_type(str(fields).count("\x1f") + 1)
        notes.append(
            AnkiNote(
                id=int(note_id),
                note_type=note_type,
                fields=tuple(str(fields).split("\x1f")),
                tags=tuple(str(tags).split()),
                deck=note_decks.get(int(note_id), ""),
            )
        )
    return notes


def _unknown_type(field_count: int) -> NoteType:
    return NoteType("", False, tuple(f"Field {index + 1}" for index in range(field_count)), ())


def _note_decks(db: sqlite3.Connection, decks: dict[int, str]) -> dict[int, str]:
    """The deck of each note's first card; a card in a filtered deck counts in its home deck."""
    found: dict[int, str] = {}
    rows = db.execute("SELECT nid, did, odid FROM cards ORDER BY nid, ord")
    for note_id, deck_id, home_deck_id in rows:
        found.setdefault(int(note_id), decks.get(int(home_deck_id or deck_id), ""))
    return found


# --- older collections: JSON in the col table --------------------------------------------


def _col_json(db: sqlite3.Connection, column: str) -> dict[str, Any]:
    row = db.execute(f"SELECT {column} FROM col").fetchone()  # column is one of ours, not input
    if row is None or not row[0]:
        return {}
    value = json.loads(row[0])
    if not isinstance(value, dict):
        raise ValueError(f"col.{column} is not a JSON object")
    return value


def _json_note_types(db: sqlite3.Connection) -> dict[int, NoteType]:
    found = {}
    for key, model in _col_json(db, "models").items():
        if not isinstance(model, dict):
            continue
        fields = sorted(_dicts(model.get("flds")), key=lambda field: _int(field.get("ord")))
        templates = sorted(_dicts(model.get("tmpls")), key=lambda tmpl: _int(tmpl.get("ord")))
        found[_int(model.get("id", key))] = NoteType(
            name=str(model.get("name", "")),
            is_cloze=_int(model.get("type")) == 1,
            fields=tuple(str(field.get("name", "")) for field in fields),
            templates=tuple((str(t.get("qfmt", "")), str(t.get("afmt", ""))) for t in templates),
        )
    return found


def _json_decks(db: sqlite3.Connection) -> dict[int, str]:
    decks = _col_json(db, "decks")
    found = {}
    for key, deck in decks.items():
        if isinstance(deck, dict):
            found[_int(deck.get("id", key))] = str(deck.get("name", ""))
    return found


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --- newer collections: notetypes, fields, templates and decks tables ---------------------


def _table_note_types(db: sqlite3.Connection, tables: set[str]) -> dict[int, NoteType]:
    fields: dict[int, list[str]] = {}
    for type_id, name in db.execute("SELECT ntid, name FROM fields ORDER BY ntid, ord"):
        fields.setdefault(int(type_id), []).append(str(name))
    templates: dict[int, list[tuple[str, str]]] = {}
    if "templates" in tables:
        for type_id, config in db.execute("SELECT ntid, config FROM templates ORDER BY ntid, ord"):
            parts = _protobuf_fields(bytes(config or b""))
            # CardTemplate.Config: 1 = front format, 2 = back format
            front, back = (_text(parts.get(number)) for number in (1, 2))
            templates.setdefault(int(type_id), []).append((front, back))
    found = {}
    for type_id, name, config in db.execute("SELECT id, name, config FROM notetypes"):
        kind = _protobuf_fields(bytes(config or b"")).get(1)  # Notetype.Config: 1 = kind, 1 is cloze
        found[int(type_id)] = NoteType(
            name=str(name),
            is_cloze=kind == 1,
            fields=tuple(fields.get(int(type_id), ())),
            templates=tuple(templates.get(int(type_id), ())),
        )
    return found


def _table_decks(db: sqlite3.Connection, tables: set[str]) -> dict[int, str]:
    if "decks" not in tables:
        return {}
    rows = db.execute("SELECT id, name FROM decks")
    return {int(deck_id): str(name).replace(DECK_SEPARATOR, "::") for deck_id, name in rows}


def _text(value: int | bytes | None) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def _protobuf_fields(blob: bytes) -> dict[int, int | bytes]:
    """The top-level fields of a protobuf message, first value of each number.

    Only what reading two note-type settings needs: varints and length-delimited values;
    a blob that is not a well-formed message yields what was read before the damage.
    """
    found: dict[int, int | bytes] = {}
    position = 0
    while position < len(blob):
        key, position = _varint(blob, position)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, position = _varint(blob, position)
        elif wire == 2:
            length, position = _varint(blob, position)
            value, position = blob[position : position + length], position + length
        elif wire in (1, 5):  # fixed 64 / 32 bits: skipped
            position += 8 if wire == 1 else 4
            continue
        else:
            break
        if position > len(blob):
            break
        found.setdefault(number, value)
    return found


def _varint(blob: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while position < len(blob) and shift < 64:
        byte = blob[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return value, len(blob) + 1  # ran off the end: the caller stops
