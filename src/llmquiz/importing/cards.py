"""Flashcards (Anki notes, rows of a tab-separated export) as question / answer pairs.

A note's fields are HTML or plain text; which field asks and which answers comes from the
note type's card templates ("{{Front}}", "{{type:Back}}", "{{cloze:Text}}"), else from the
field order. A cloze note gives one card per deletion number: the text with that deletion
blanked is the question, the deleted words are a `short` answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llmquiz.exporting import IN_FACT, NOT_SO
from llmquiz.importing.markup import FieldText, html_to_text, list_items, plain_to_text
from llmquiz.importing.text import word_set

# a deletion with nothing nested in it: it runs to the first "}}" and never past another opening,
# so matching stays linear on any input; "text::hint" is split apart afterwards
CLOZE = re.compile(r"\{\{c(\d{1,3})::((?:(?!\{\{c\d{1,3}::|\}\}).)*)\}\}", re.DOTALL)
CLOZE_OPENING = re.compile(r"\{\{c(\d{1,3})::")
FIELD_REF = re.compile(r"\{\{([^{}]+)\}\}")
SPECIAL_FIELDS = word_set("frontside tags deck subdeck card cardflag type notetype")
# fields llmquiz's own export writes: read back as such when a deck has them
KEY_POINTS, MISCONCEPTIONS, QUESTION_ID = "key points", "misconceptions", "id"
OWN_FIELDS = frozenset((KEY_POINTS, MISCONCEPTIONS, QUESTION_ID, "choices"))
# bounds on what one note may cost to read (a hostile deck could hold anything)
MAX_QUESTION_CHARS = 5000
MAX_DELETIONS = 100


@dataclass(frozen=True)
class Card:
    """One question / answer pair of a deck, before it gets an id."""

    ref: str  # where it is: the note id, or the line of a tab-separated file
    question: str  # one line of plain text
    answer: tuple[str, ...]  # plain-text lines ('- ' for list items)
    tags: tuple[str, ...] = ()
    deck: str = ""
    kind: str = "free"  # "short" for a cloze deletion
    accept: tuple[str, ...] = ()
    key_points: tuple[str, ...] = ()  # given by the deck itself
    misconceptions: tuple[tuple[str, str], ...] = ()  # (claim, correction)
    id: str = ""  # an id the deck carries (an llmquiz export), else ''
    answer_media: bool = False  # the answer was only an image or a sound


@dataclass(frozen=True)
class Roles:
    """Which fields (by index) of a note type ask, answer, or hold llmquiz's extras."""

    question: int
    answer: int | None
    cloze: bool = False
    key_points: int | None = None
    misconceptions: int | None = None
    id: int | None = None


def roles_for(field_names: Sequence[str], templates: Sequence[tuple[str, str]], cloze: bool) -> Roles:
    """Read the roles of the fields from the first card template, else from their order."""
    lowered = [name.strip().lower() for name in field_names]
    extras = {
        role: lowered.index(role) if role in lowered else None
        for role in (KEY_POINTS, MISCONCEPTIONS, QUESTION_ID)
    }
    plain = [index for index, name in enumerate(lowered) if name not in OWN_FIELDS]
    question, answer = _template_roles(lowered, templates[0] if templates else ("", ""), cloze)
    if question is None:
        question = plain[0] if plain else 0
    if answer is None:
        answer = next((index for index in plain if index != question), None)
    return Roles(
        question,
        answer,
        cloze,
        key_points=extras[KEY_POINTS],
        misconceptions=extras[MISCONCEPTIONS],
        id=extras[QUESTION_ID],
    )


def _refs(template: str) -> list[tuple[tuple[str, ...], str]]:
    """(filters, field name) of every field a template shows; sections and comments left out."""
    found = []
    for match in FIELD_REF.finditer(template):
        inner = match[1].strip()
        if inner[:1] in ("#", "/", "^", "!"):
            continue
        *filters, name = inner.split(":")
        found.append((tuple(f.strip().lower() for f in filters), name.strip().lower()))
    return found


def _template_roles(
    fields: Sequence[str], template: tuple[str, str], cloze: bool
) -> tuple[int | None, int | None]:
    front, back = _refs(template[0]), _refs(template[1])
    known = [(filters, fields.index(name)) for filters, name in front if name in fields]
    if cloze:
        text = next((index for filters, index in known if "cloze" in filters), None)
        return text, None
    question = next((index for filters, index in known if "type" not in filters), None)
    typed = next((index for filters, index in known if "type" in filters), None)
    shown = {index for _, index in known}
    answer = typed
    if answer is None:
        answer = next(
            (
                fields.index(name)
                for _, name in back
                if name in fields
                and name not in SPECIAL_FIELDS
                and fields.index(name) not in shown
                and name not in OWN_FIELDS
            ),
            None,
        )
    return question, answer


def field_text(value: str, html: bool) -> FieldText:
    return html_to_text(value) if html else plain_to_text(value)


def cards_of(
    ref: str,
    fields: Sequence[str],
    roles: Roles,
    *,
    html: bool,
    tags: Sequence[str] = (),
    deck: str = "",
) -> tuple[list[Card], str | None]:
    """The cards of one note, or none and why it was skipped."""
    texts = [field_text(value, html) for value in fields]
    question = texts[roles.question] if roles.question < len(texts) else FieldText((), False)
    if not question.text:
        if question.had_media:
            return [], "the question is only an image or a sound; skipped"
        return [], "the question is empty; skipped"
    if len(question.text) > MAX_QUESTION_CHARS:
        return [], f"the question is longer than {MAX_QUESTION_CHARS} characters; skipped"
    others: dict[str, Any] = {
        "tags": tuple(tags),
        "deck": deck,
        "key_points": tuple(_items(texts, roles.key_points)),
        "misconceptions": tuple(_misconceptions(texts, roles.misconceptions)),
        "id": _one_line(texts, roles.id),
    }
    if roles.cloze or (CLOZE.search(question.text) and roles.answer is None):
        extra = [
            line
            for index, text in enumerate(texts)
            if index != roles.question and index not in (roles.key_points, roles.misconceptions, roles.id)
            for line in text.lines
        ]
        if len(CLOZE_OPENING.findall(question.text)) > MAX_DELETIONS:
            return [], f"more than {MAX_DELETIONS} cloze deletions; skipped"
        cards = _cloze_cards(ref, question.text, extra, others)
        return (cards, None) if cards else ([], "a cloze note without a {{c1::...}} deletion; skipped")
    answer = texts[roles.answer] if roles.answer is not None and roles.answer < len(texts) else None
    lines = answer.lines if answer else ()
    media = bool(answer and answer.had_media and not answer.text)
    return [Card(ref, question.text, lines, answer_media=media, **others)], None


def _items(texts: Sequence[FieldText], index: int | None) -> list[str]:
    if index is None or index >= len(texts):
        return []
    return [" ".join(item.split()) for item in list_items(texts[index])]


def _one_line(texts: Sequence[FieldText], index: int | None) -> str:
    return texts[index].text.strip() if index is not None and index < len(texts) else ""


def _misconceptions(texts: Sequence[FieldText], index: int | None) -> list[tuple[str, str]]:
    """Items written as 'Not so: claim' / 'In fact: correction', as llmquiz exports them."""
    if index is None or index >= len(texts):
        return []
    found = []
    for item in list_items(texts[index]):
        claim, _, correction = item.partition("\n")
        claim, correction = claim.strip(), " ".join(correction.split())
        if claim.startswith(NOT_SO) and correction.startswith(IN_FACT):
            found.append((claim[len(NOT_SO) :].strip(), correction[len(IN_FACT) :].strip()))
    return found


def _cloze_cards(ref: str, text: str, extra: list[str], others: dict[str, Any]) -> list[Card]:
    numbers = sorted({int(match[1]) for match in CLOZE_OPENING.finditer(text)})
    cards = []
    for number in numbers:
        question, deleted = _blank(text, number)
        answer = ", ".join(part for part in deleted if part)
        if not answer or not question.strip():
            continue
        lines = (answer, *([""] if extra else []), *extra)
        cards.append(Card(ref, question, lines, kind="short", accept=(answer,), **others))
    return cards


def _blank(text: str, number: int) -> tuple[str, list[str]]:
    """The text with deletion `number` shown as [...] (or [hint]) and the others revealed.

    Innermost deletions are resolved first, so nested clozes ({{c1::a {{c2::b}}}}) work too.
    """
    deleted: list[str] = []
    for _ in range(MAX_DELETIONS):
        match = CLOZE.search(text)
        if match is None:
            break
        content, _, hint = match[2].partition("::")
        if int(match[1]) == number:
            deleted.append(" ".join(content.split()))
            shown = f"[{hint.strip()}]" if hint.strip() else "[...]"
        else:
            shown = content
        text = text[: match.start()] + shown + text[match.end() :]
    return " ".join(text.split()), deleted
