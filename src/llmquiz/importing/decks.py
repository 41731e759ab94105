"""Cards of a deck (an Anki package or a tab-separated export) -> the importer's items.

The deck's name gives the topic and the title: "ML::RAG" becomes topic `rag`. Cards from
several decks share the decks' common parent as topic and get their own deck as a tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llmquiz.errors import InputFileError, Problem
from llmquiz.importing.answers import build_answer
from llmquiz.importing.apkg import AnkiNote
from llmquiz.importing.cards import Card, cards_of, roles_for
from llmquiz.importing.items import ImportedItem, ImportResult, topic_for, with_ids
from llmquiz.importing.text import squash, topic_slug

ANKI = "anki"
DEFAULT_DECK = ("Default",)
SHORT_WORDS = 3  # an answer this short becomes a `short` question


def package_cards(notes: Sequence[AnkiNote]) -> tuple[list[Card], list[tuple[str, str]]]:
    """The cards of every note, and (note id, why) for each note that gave none."""
    cards: list[Card] = []
    skipped: list[tuple[str, str]] = []
    for note in notes:
        kind = note.note_type
        roles = roles_for(kind.fields, kind.templates, kind.is_cloze)
        found, why = cards_of(str(note.id), note.fields, roles, html=True, tags=note.tags, deck=note.deck)
        cards.extend(found)
        if why:
            skipped.append((str(note.id), why))
    return cards, skipped


def import_cards(
    path: Path, topic: str | None, fmt: str, cards: list[Card], skipped: list[tuple[str, str]]
) -> ImportResult:
    file, name = str(path), path.name
    if not cards:
        why = f" ({skipped[0][1].removesuffix('; skipped')})" if skipped else ""
        raise InputFileError([Problem(file, 0, f"no cards with a question found{why}")])
    slug, title, deck_tags = _deck_topic([card.deck for card in cards], topic, path)
    by_line = fmt != ANKI
    items = with_ids(
        [_item(card, position, deck_tags[position], by_line) for position, card in enumerate(cards)], slug
    )
    noun = "note" if fmt == ANKI else "line"
    warnings = [f"{name}:{where}: {why}" for where, why in skipped]
    first_seen: dict[str, str] = {}
    for item, card in zip(items, cards, strict=True):
        if item.kind == "open":
            what = "is only an image or a sound" if card.answer_media else "is empty"
            warnings.append(f"{name}:{item.where}: the answer {what}; imported as an open question")
        earlier = first_seen.setdefault(item.question.lower(), item.where)
        if earlier != item.where:
            warnings.append(f"{name}:{item.where}: same question as {noun} {earlier}; imported as {item.id}")
    return ImportResult(slug, title, file, fmt, tuple(items), tuple(warnings))


def _item(card: Card, position: int, deck_tag: str | None, by_line: bool) -> ImportedItem:
    """`by_line`: the card's ref is its line in the file; else (Anki) a note id, and `line`
    is the card's position."""
    tags = tuple(dict.fromkeys((*card.tags, *([deck_tag] if deck_tag else []))))
    line, ref = (int(card.ref), "") if by_line else (position + 1, card.ref)
    common = {"number": None, "line": line, "end_line": line, "ref": ref, "tags": tags, "id": card.id}
    if card.kind == "short":
        answer = "\n".join(text.strip() for text in card.answer if text.strip())
        return ImportedItem(
            question=card.question, answer=answer, key_points=(), kind="short", accept=card.accept, **common
        )
    built = build_answer(tuple(enumerate(card.answer, start=1)), loose=True)
    if _is_term(built.text) and not card.key_points:
        # "Paris", "dot product": matched typo-tolerantly, as Anki compares a typed answer
        term = built.text.strip().rstrip(".")
        question = squash(card.question)
        return ImportedItem(
            question=question, answer=built.text, key_points=(), kind="short", accept=(term,), **common
        )
    points = tuple(point for point in card.key_points if point) or built.key_points
    return ImportedItem(
        question=squash(card.question),
        answer=built.text,
        key_points=points if built.text else (),
        kind="free" if built.text else "open",
        misconceptions=card.misconceptions if built.text else (),
        **common,
    )


def _is_term(answer: str) -> bool:
    """A one-line answer of at most SHORT_WORDS words, no sentence: a term, not an explanation."""
    words = answer.split()
    return 0 < len(words) <= SHORT_WORDS and "\n" not in answer and not answer.rstrip().endswith(("!", "?"))


def _deck_topic(decks: Sequence[str], topic: str | None, path: Path) -> tuple[str, str, list[str | None]]:
    """Topic slug, title, and per card the tag of its own deck (when the cards span decks)."""
    paths = [tuple(part.strip() for part in deck.split("::") if part.strip()) for deck in decks]
    named = [deck for deck in paths if deck and deck != DEFAULT_DECK]
    common: tuple[str, ...] = ()
    if named and len(named) == len(paths):
        common = named[0]
        for deck in named[1:]:
            while deck[: len(common)] != common:
                common = common[:-1]
    title = common[-1] if common else f"Imported from {path.name}"
    slug = topic_for(topic, path) if topic is not None or not common else topic_slug(common[-1])
    if len(set(paths)) == 1:
        return slug, title, [None] * len(paths)
    own = [deck[len(common) :] for deck in paths]
    return slug, title, [topic_slug("-".join(rest)) if rest else None for rest in own]
