"""HTML of flashcard fields (Anki, Quizlet) to plain-text lines, with media references dropped.

The markup is read by the standard library's HTML parser; this module only decides where
lines break and what becomes a list item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from llmquiz.importing.text import word_set

# control characters (an entity like &#27; decodes to ESC): never passed on to a terminal
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SOUND = re.compile(r"\[sound:[^\]]*\]", re.IGNORECASE)
# tags that start a new line of text
BLOCKS = word_set(
    "address article aside blockquote dd details div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr main nav p pre section summary table tbody thead tfoot tr"
)
EMPTY_ITEM = re.compile(r"^\s*(?:-|\d+\.)$")  # a list item with nothing in it
MEDIA = word_set("audio embed img object picture source svg track video")
HIDDEN = word_set("head noscript script style template title")  # their text is not shown
LOOKS_LIKE_HTML = re.compile(
    r"</?(?:b|i|u|s|em|strong|br|div|p|span|ul|ol|li|img|a|font|sub|sup|table|tr|td|h[1-6])\b[^>]*>"
    r"|&(?:nbsp|amp|lt|gt|quot|#\d+|#x[0-9a-f]+);",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FieldText:
    """A field as plain text: its lines (list items as '- item'), and whether it held media."""

    lines: tuple[str, ...]
    had_media: bool

    @property
    def text(self) -> str:
        """All of it on one line."""
        return " ".join(line.strip() for line in self.lines)


def looks_like_html(text: str) -> bool:
    return bool(LOOKS_LIKE_HTML.search(text))


def html_to_text(markup: str) -> FieldText:
    """Plain text of an HTML field: <br> and blocks break lines, list items become '- ' lines."""
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return _finish(parser.lines, parser.had_media)


def plain_to_text(text: str) -> FieldText:
    """A field that is not HTML: only sound tags are dropped."""
    return _finish(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), False)


def _finish(raw_lines: list[str], had_media: bool) -> FieldText:
    lines: list[str] = []
    for raw in raw_lines:
        line, sounds = SOUND.subn("", CONTROL.sub("", raw.replace("\xa0", " ").replace("\t", " ")))
        had_media = had_media or bool(sounds)
        line = " ".join(line.split()) if not line.startswith(" ") else _keep_indent(line)
        if EMPTY_ITEM.match(line):
            line = ""
        if line or (lines and lines[-1]):  # at most one blank line in a row
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return FieldText(tuple(lines), had_media)


def _keep_indent(line: str) -> str:
    """Nested list items keep their indentation (the answer parser reads it as nesting)."""
    indent = len(line) - len(line.lstrip(" "))
    body = " ".join(line.split())
    return f"{' ' * indent}{body}" if body else ""


def list_items(field: FieldText) -> list[str]:
    """The items of a field written as a list, one string each; lines that are not items join
    the item above (a <br> inside an item)."""
    items: list[str] = []
    for line in field.lines:
        stripped = line.strip()
        if stripped.startswith("- "):
            items.append(stripped[2:].strip())
        elif stripped and items:
            items[-1] = f"{items[-1]}\n{stripped}"
        elif stripped:
            items.append(stripped)
    return items


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.had_media = False
        self._hidden = 0
        self._lists: list[list[int]] = []  # per open list: [ordered (0/1), next number]

    def _break(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def _paragraph(self) -> None:
        """A blank line: what follows a list or a <p> is a new paragraph, not part of an item."""
        self._break()
        if len(self.lines) > 1 and self.lines[-2].strip():
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self._hidden += 1
        elif tag in MEDIA:
            self.had_media = True
        elif tag == "br":
            self._break()
        elif tag in ("ul", "ol"):
            self._break()
            self._lists.append([int(tag == "ol"), 1])
        elif tag == "li":
            self._break()
            depth = max(len(self._lists), 1)
            ordered, number = self._lists[-1] if self._lists else (0, 1)
            marker = f"{number}. " if ordered else "- "
            if self._lists:
                self._lists[-1][1] += 1
            self.lines[-1] = "  " * (depth - 1) + marker
        elif tag in ("td", "th"):
            if self.lines[-1].strip():
                self.lines[-1] += " "
        elif tag in BLOCKS:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HIDDEN:  # <br/>, <img/>: no content to hide
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in ("ul", "ol"):
            if self._lists:
                self._lists.pop()
            self._paragraph() if not self._lists else self._break()
        elif tag == "p" and not self._lists:
            self._paragraph()
        elif tag == "li" or tag in BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        text = re.sub(r"[ \t\r\n\f]+", " ", data)  # HTML whitespace, not the no-break space
        if not self.lines[-1].strip():
            text = text.lstrip(" ")
        self.lines[-1] += text
