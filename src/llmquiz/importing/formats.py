"""Find the items (question + answer lines) of Markdown, numbered and flashcard notes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmquiz.importing.text import clean_inline, squash, word_count, word_set

MARKDOWN, NUMBERED, FLASHCARDS = "markdown", "numbered", "flashcards"
FORMATS = (MARKDOWN, NUMBERED, FLASHCARDS)

HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
NUMBER_PREFIX = re.compile(r"^(\d{1,3})[.)]\s+(.*)$")
NUMBERED_LINE = re.compile(r"^ {0,3}(\d{1,3})[.)]\s+(\S.*)$")
BULLET_LINE = re.compile(r"^\s*[-*+•]\s")
FENCE = re.compile(r"^\s*(```|~~~)")
Q_MARK = re.compile(r"^\s*Q(?:\s*[:.]\s*(?P<text>\S.*?)|\s*[:.]?)\s*$")
A_MARK = re.compile(r"^\s*A(?:\s*[:.]\s*(?P<text>\S.*?)|\s*[:.]?)\s*$")
CARD_NUMBER = re.compile(r"^\s*(\d{1,4})\s*$")
RATING_START = re.compile(r"^\s*how well did you know this\s*\??\s*$", re.IGNORECASE)
RATING_LINE = re.compile(r"^\s*(?:[1-5]|not at all|perfectly)?\s*$", re.IGNORECASE)
LABEL = re.compile(r"^[^:]{1,60}:(?:\s+\S|$)")
MAX_FORMULA_LINES = 40  # a '$$' with no closing '$$' this close is not a formula


QUESTION_WORDS = word_set(
    "what why how when which who whom whose where is are do does did can could should "
    "would will explain describe define compare contrast"
)

Body = tuple[tuple[int, str], ...]  # (1-based line number, raw line) of an answer


@dataclass(frozen=True)
class RawItem:
    """One item as found: its cleaned question and the raw lines of its answer."""

    number: int | None
    question: str
    line: int  # where the item starts
    last_line: int  # last line of the question (or of the card's answer marker)
    body: Body


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them (only \\n, \\r\\n and \\r end a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def detect_format(text: str) -> str:
    """'flashcards', 'markdown' or 'numbered' (the fallback)."""
    lines = split_lines(text)
    if _card_marks(lines) and any(A_MARK.match(line) for line in lines):
        return FLASHCARDS
    if _question_level(_headings(lines)) is not None:
        return MARKDOWN
    return NUMBERED


def find_raw_items(lines: Sequence[str], fmt: str) -> list[RawItem]:
    finders = {MARKDOWN: _markdown_items, NUMBERED: _numbered_items, FLASHCARDS: _card_items}
    if fmt not in finders:
        raise ValueError(f"unknown notes format {fmt!r} (known: {', '.join(FORMATS)})")
    return finders[fmt](lines)


def literal_spans(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(start, stop) of fenced code blocks and multi-line $$ formulas: never structure."""
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        stop = _literal_stop(lines, index)
        if stop is not None:
            spans.append((index, stop))
        index = stop or index + 1
    return spans


def _literal_stop(lines: Sequence[str], start: int) -> int | None:
    """Where a literal block opened at `start` ends; None when no block opens there."""
    stripped = lines[start].strip()
    fence = FENCE.match(lines[start])
    if fence:  # an unclosed fence runs to the end, as in CommonMark
        closing = (i for i in range(start + 1, len(lines)) if lines[i].strip().startswith(fence[1]))
        return next(closing, len(lines) - 1) + 1
    if stripped.startswith("$$") and (stripped == "$$" or not stripped.endswith("$$")):
        window = range(start + 1, min(start + 1 + MAX_FORMULA_LINES, len(lines)))
        closing = (i for i in window if lines[i].strip().endswith("$$"))
        found = next(closing, None)
        return None if found is None else found + 1
    return None


def literal_mask(lines: Sequence[str]) -> list[bool]:
    mask = [False] * len(lines)
    for start, stop in literal_spans(lines):
        mask[start:stop] = [True] * (stop - start)
    return mask


def _body(lines: Sequence[str], start: int, stop: int) -> Body:
    """Lines start..stop-1 (0-based) with flashcard rating blocks left out."""
    kept: list[tuple[int, str]] = []
    in_rating = False
    for index in range(start, stop):
        line = lines[index]
        if RATING_START.match(line):
            in_rating = True
            continue
        if in_rating and RATING_LINE.match(line):
            continue
        in_rating = False
        kept.append((index + 1, line))
    return tuple(kept)


def _split_number(text: str) -> tuple[int | None, str]:
    match = NUMBER_PREFIX.match(text)
    if match:
        return int(match[1]), match[2].strip()
    return None, text


# --- Markdown: "# 1. **Question**?" or "## Question?" headings --------------------------


@dataclass(frozen=True)
class _Heading:
    index: int
    level: int
    text: str


def _headings(lines: Sequence[str]) -> list[_Heading]:
    mask = literal_mask(lines)
    found = []
    for index, line in enumerate(lines):
        match = None if mask[index] else HEADING.match(line)
        if match:
            found.append(_Heading(index, len(match[1]), squash(clean_inline(match[2]))))
    return found


def _is_question_heading(text: str) -> bool:
    return bool(NUMBER_PREFIX.match(text)) or _is_question_like(text)


def _question_level(headings: Sequence[_Heading]) -> int | None:
    """The heading level that holds the most question headings (the shallower on a tie)."""
    counts: dict[int, int] = {}
    for heading in headings:
        if _is_question_heading(heading.text):
            counts[heading.level] = counts.get(heading.level, 0) + 1
    if not counts:
        return None
    return max(sorted(counts), key=lambda level: counts[level])


def _markdown_items(lines: Sequence[str]) -> list[RawItem]:
    headings = _headings(lines)
    level = _question_level(headings)
    if level is None:
        return []
    bounds = [heading for heading in headings if heading.level <= level]
    items = []
    for position, heading in enumerate(bounds):
        if heading.level != level or not _is_question_heading(heading.text):
            continue
        stop = bounds[position + 1].index if position + 1 < len(bounds) else len(lines)
        number, question = _split_number(heading.text)
        line = heading.index + 1
        items.append(RawItem(number, question, line, line, _body(lines, heading.index + 1, stop)))
    return items


# --- numbered: "1. Question?" then bullets or paragraphs ----------------------------------


def _is_blank(lines: Sequence[str], index: int) -> bool:
    return not 0 <= index < len(lines) or not lines[index].strip()


def _is_boundary(lines: Sequence[str], index: int) -> bool:
    """A heading that ends a list: Markdown '#', or a lone line like 'Important Questions'."""
    line = lines[index]
    if HEADING.match(line):
        return True
    stripped = line.strip()
    return (
        "question" in stripped.lower()
        and word_count(stripped) <= 8
        and not stripped.endswith((".", "?", ":", "!", ",", ";"))
        and not NUMBERED_LINE.match(line)
        and not BULLET_LINE.match(line)
        and _is_blank(lines, index - 1)
        and _is_blank(lines, index + 1)
    )


def _looks_like_sub_item(text: str) -> bool:
    """'Text Generation:', 'Truncation: limit the input', 'Collect data.': nested list items.

    Asked only when a line's number fits both the top-level list and a nested list.
    """
    text = clean_inline(text).strip()
    if text.endswith(":") or LABEL.match(text):
        return True
    return text.endswith(".") and not _is_question_like(text)


def _is_question_like(text: str) -> bool:
    words = text.split()
    return text.endswith("?") or bool(words and words[0].lower() in QUESTION_WORDS)


def _top_level_starts(lines: Sequence[str]) -> list[int]:
    """Indexes of the top-level numbered lines: the list's own sequence, not nested lists."""
    mask = literal_mask(lines)
    starts: list[int] = []
    expected: int | None = None  # None: the first numbered line starts the list
    restart = False  # after a boundary heading the list may start again at 1
    sub_next: int | None = None  # next number of the nested list inside the current item
    for index, line in enumerate(lines):
        if mask[index]:
            continue
        if _is_boundary(lines, index):
            restart = True
            continue
        match = NUMBERED_LINE.match(line)
        if not match:
            continue
        number = int(match[1])
        in_sequence = expected is None or number == expected or (restart and number == 1)
        if in_sequence and not (number == sub_next and _looks_like_sub_item(match[2])):
            starts.append(index)
            expected, restart, sub_next = number + 1, False, None
        elif number == 1 or number == sub_next:
            sub_next = number + 1
    return starts


def _item_stop(lines: Sequence[str], start: int, stop: int) -> int:
    """Where an item's answer ends: a boundary heading or a gap of two blank lines."""
    for index in range(start + 1, stop):
        if _is_boundary(lines, index):
            return index
        if _is_blank(lines, index) and _is_blank(lines, index + 1) and index + 1 < stop:
            return index
    return stop


def _question_tail(lines: Sequence[str], index: int, stop: int) -> int | None:
    """A question cut in two by a line break ('...fine-tuning' / 'LLMs?'): its second line."""
    for candidate in (index + 1, index + 2):
        if candidate >= stop or _is_blank(lines, candidate):
            continue
        line = lines[candidate]
        text = clean_inline(line).strip()
        plain = not (NUMBERED_LINE.match(line) or BULLET_LINE.match(line) or HEADING.match(line))
        return candidate if plain and text.endswith("?") and word_count(text) <= 12 else None
    return None


def _numbered_items(lines: Sequence[str]) -> list[RawItem]:
    starts = _top_level_starts(lines)
    items = []
    for position, start in enumerate(starts):
        next_start = starts[position + 1] if position + 1 < len(starts) else len(lines)
        stop = _item_stop(lines, start, next_start)
        match = NUMBERED_LINE.match(lines[start])
        assert match is not None
        question, last = squash(clean_inline(match[2])), start
        if not question.endswith(("?", ".", "!", ":")):
            tail = _question_tail(lines, start, stop)
            if tail is not None:
                question, last = f"{question} {squash(clean_inline(lines[tail]))}", tail
        body = _body(lines, last + 1, stop)
        items.append(RawItem(int(match[1]), question, start + 1, last + 1, body))
    return items


# --- flashcards: N / Q / question / A / answer / "How well did you know this?" ------------


def _card_marks(lines: Sequence[str]) -> list[int]:
    mask = literal_mask(lines)
    return [index for index, line in enumerate(lines) if not mask[index] and Q_MARK.match(line)]


def _card_start(lines: Sequence[str], mark: int, floor: int) -> tuple[int, int | None]:
    """The card's first line and number: the bare number line just above its 'Q', if any."""
    index = mark - 1
    while index > floor and _is_blank(lines, index):
        index -= 1
    match = CARD_NUMBER.match(lines[index]) if index > floor else None
    return (index, int(match[1])) if match else (mark, None)


def _card_question(lines: Sequence[str], first: int, stop: int, inline: str | None) -> str:
    """Paragraphs between 'Q' and 'A'; a false start ('what is') that the next repeats is dropped."""
    paragraphs: list[str] = [inline] if inline else []
    current: list[str] = []
    for index in range(first, stop):
        text = clean_inline(lines[index]).strip()
        if text:
            current.append(text)
        elif current:
            paragraphs.append(squash(" ".join(current)))
            current = []
    if current:
        paragraphs.append(squash(" ".join(current)))
    kept = [
        text
        for position, text in enumerate(paragraphs)
        if not any(later.lower().startswith(text.lower()) for later in paragraphs[position + 1 :])
    ]
    return " ".join(kept)


def _card_items(lines: Sequence[str]) -> list[RawItem]:
    marks = _card_marks(lines)
    starts: list[tuple[int, int | None]] = []
    for position, mark in enumerate(marks):
        starts.append(_card_start(lines, mark, marks[position - 1] if position else -1))
    items = []
    for position, mark in enumerate(marks):
        stop = starts[position + 1][0] if position + 1 < len(marks) else len(lines)
        items.append(_card(lines, starts[position], mark, stop))
    return items


def _card(lines: Sequence[str], start: tuple[int, int | None], mark: int, stop: int) -> RawItem:
    answer_mark = next((i for i in range(mark + 1, stop) if A_MARK.match(lines[i])), None)
    question_stop = stop if answer_mark is None else answer_mark
    question_match = Q_MARK.match(lines[mark])
    inline_question = question_match["text"] if question_match else None
    question = _card_question(lines, mark + 1, question_stop, inline_question)
    if answer_mark is None:
        last = max((i for i in range(mark, stop) if not _is_blank(lines, i)), default=mark)
        return RawItem(start[1], question, start[0] + 1, last + 1, ())
    body = _body(lines, answer_mark + 1, stop)
    answer_match = A_MARK.match(lines[answer_mark])
    if answer_match and answer_match["text"]:
        body = ((answer_mark + 1, answer_match["text"]), *body)
    return RawItem(start[1], question, start[0] + 1, answer_mark + 1, body)
