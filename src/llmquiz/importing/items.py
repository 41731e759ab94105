"""What the importer finds: one item per question, and the result of importing one file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from llmquiz.bank import QUESTION_ID, SLUG
from llmquiz.errors import BadInputError
from llmquiz.importing.text import slugify, topic_slug

ID_WORDS = 6


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
    kind: str  # "free", "open" when there is no answer, "short" for a cloze deletion
    ref: str = ""  # where it is in the file when that is not a line: an Anki note id
    tags: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    misconceptions: tuple[tuple[str, str], ...] = ()  # (claim, correction)

    @property
    def where(self) -> str:
        return self.ref or str(self.line)


@dataclass(frozen=True)
class ImportResult:
    topic: str
    title: str
    source_file: str
    format: str  # "markdown" | "numbered" | "flashcards" | "anki" | "tsv" | "csv"
    items: tuple[ImportedItem, ...]
    warnings: tuple[str, ...]


def with_ids(items: list[ImportedItem], topic: str) -> list[ImportedItem]:
    """Ids from the questions' slugs; an id the deck itself gives is kept when it is free."""
    used: set[str] = set()
    result = []
    for item in items:
        if item.id and QUESTION_ID.match(item.id) and item.id not in used:
            used.add(item.id)
            result.append(item)
            continue
        base = f"{topic}-{slugify(item.question, ID_WORDS, drop_filler=True) or f'item-{item.line}'}"
        unique, copy = base, 1
        while unique in used:
            copy += 1
            unique = f"{base}-{copy}"
        used.add(unique)
        result.append(dataclasses.replace(item, id=unique))
    return result


def topic_for(topic: str | None, path: Path) -> str:
    """The --topic given (checked), else a slug of the file's name."""
    if topic is None:
        return topic_slug(path.stem)
    if not SLUG.match(topic):
        raise BadInputError(f"topic must be a lowercase slug like 'rag-notes', got {topic!r}")
    return topic
