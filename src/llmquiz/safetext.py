"""Text from files made safe to show: for the terminal, for XML, for JSON on stdout.

Banks, notes, answers files and the history are written by anyone. What they hold is shown
to the learner, so nothing in them may reach the terminal as a control sequence: an ESC
can set the window title, write the clipboard (OSC 52) or clear the screen, a C1 control
is read as ESC [ by some terminals, and BIDI overrides make text read in another order than
it is stored. Such characters are shown as visible escapes (`\\x1b`, `\\u202e`) instead;
newlines and tabs stay where layout needs them. Nothing here changes what is stored.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, the BIDI embeddings, overrides and
# isolates, the Unicode line and paragraph separators, and lone surrogates (undecodable bytes)
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)
_LINE_UNSAFE = re.compile(f"[\t\n{_TERMINAL_UNSAFE.pattern[1:-1]}]")
# what XML 1.0 does not allow (U+FFFE, U+FFFF) on top of what a terminal must not get
_XML_UNSAFE = re.compile(f"[\ufffe\uffff{_TERMINAL_UNSAFE.pattern[1:-1]}]")
# JSON escapes C0 controls itself; the rest of the terminal-unsafe set it writes raw
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")  # bytes 0x80-0xff that did not decode
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char == "\t":
        return "\\t"
    if char == "\n":
        return "\\n"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (Python's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """`text` with every character that could drive a terminal shown as an escape; keeps \\n and \\t."""
    return _TERMINAL_UNSAFE.sub(_visible, text)


def terminal_line(text: str) -> str:
    """Like terminal_text, but newlines and tabs are escaped too: the text stays on one line."""
    return _LINE_UNSAFE.sub(_visible, text)


def xml_text(text: str) -> str:
    """`text` holding only characters XML 1.0 allows (and none that could drive a terminal)."""
    return _XML_UNSAFE.sub(_visible, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """One JSON document, readable (non-ASCII kept) yet safe to print on a terminal.

    Characters JSON would write raw but a terminal could act on are written as \\uXXXX
    escapes; they can only occur inside strings, so the document means exactly the same.
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    return _JSON_UNSAFE.sub(_json_escape, text)


def without_bidi_controls(text: str) -> str:
    """`text` less the BIDI embeddings, overrides and isolates (YAML writes them unescaped)."""
    return _BIDI_CONTROLS.sub("", text)


def _bytes_back(match: re.Match[str]) -> str:
    raw = bytes(ord(char) - 0xDC00 for char in match.group())
    return raw.decode("utf-8", "backslashreplace")


def storable_text(text: str) -> str:
    """Text that can be written as UTF-8, whatever bytes it came from.

    Bytes that were not text in the terminal's (or argv's) encoding reach Python as lone
    surrogates (surrogateescape). Where they are UTF-8 (an `é` typed in a terminal whose
    locale says ASCII) they become the characters they encode; any other byte is kept as
    the backslash escape of its value, `\\xff`, so the answer is stored, graded and shown
    instead of lost. Other lone surrogates become `\\udXXX`. Valid text is returned as is.
    """
    if not _SURROGATES.search(text):
        return text
    text = _ESCAPED_BYTES.sub(_bytes_back, text)
    return _SURROGATES.sub(_visible, text)
