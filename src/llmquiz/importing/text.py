"""Inline text helpers: strip Markdown decoration, split sentences, shorten, slugify."""

from __future__ import annotations

import re
import unicodedata

IMAGE = re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])|<img\b[^>]*>", re.IGNORECASE)
LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
LINE_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
# math and code spans are kept exactly as written
PROTECTED = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$|`[^`\n]+`)")
UNDERSCORE_EMPHASIS = re.compile(r"(?<![\w\\])_(?=\S)(.+?)(?<=\S)_(?!\w)")
STAR_EMPHASIS = re.compile(r"(?<![\w*\\])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(“‘])")
CLAUSE_BREAK = re.compile(r"[;,:]\s|\s[–—-]\s")
SLUG_WORD = re.compile(r"[a-z0-9]+")


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(text.split())


# words that say nothing in an id, and words after which a lead-in runs on without a colon
ID_FILLER = word_set(
    "a an the of in on at to for and or is are be by with do does we you it its this that context"
)
CONNECTORS = word_set(
    "a an the of to by be is are was were can could will would should may might must that "
    "which where when who whom whose because since as like than and or but for from with "
    "without in on into onto at between such include includes including involves means "
    "using via"
)
DANGLING = CONNECTORS | {"e.g", "i.e", "etc"}
ABBREVIATIONS = word_set("e.g. i.e. etc. vs. al. approx. cf. fig. no. dr. mr. mrs. ms.")


def clean_inline(text: str) -> str:
    """Drop images, keep link text, remove emphasis markers; math and code stay as written."""
    text = IMAGE.sub("", text)
    text = LINK.sub(r"\1", text)
    text = AUTOLINK.sub(r"\1", text)
    text = LINE_BREAK_TAG.sub(" ", text)
    parts = PROTECTED.split(text)
    for index in range(0, len(parts), 2):  # even parts lie outside math and code
        parts[index] = _strip_emphasis(parts[index])
    return "".join(parts).rstrip()


def _strip_emphasis(text: str) -> str:
    text = text.replace("**", "").replace("__", "").replace("~~", "")
    text = UNDERSCORE_EMPHASIS.sub(r"\1", text)
    return STAR_EMPHASIS.sub(r"\1", text)


def squash(text: str) -> str:
    """Collapse runs of whitespace into single spaces."""
    return " ".join(text.split())


def word_count(text: str) -> int:
    return len(text.split())


def split_sentences(text: str) -> list[str]:
    """Split after '.', '!' or '?' before a capital, but not after 'e.g.', 'vs.' and the like."""
    sentences: list[str] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        before = text[start : match.start()].split()
        if before and before[-1].lower() in ABBREVIATIONS:
            continue
        sentences.append(text[start : match.start()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]


def ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", ":", ";", ")", '"', "”", "$"))


def ends_with_connector(text: str) -> bool:
    words = text.rstrip().split()
    return bool(words) and words[-1].lower() in CONNECTORS


def shorten(text: str, limit: int = 25) -> str:
    """At most `limit` words: whole sentences when they fit, else cut at a clause break."""
    text = squash(text)
    if word_count(text) <= limit:
        return text
    kept = ""
    for sentence in split_sentences(text):
        candidate = f"{kept} {sentence}".strip()
        if word_count(candidate) > limit:
            break
        kept = candidate
    return kept or _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    head = " ".join(text.split()[:limit])
    breaks = [match.start() for match in CLAUSE_BREAK.finditer(head)]
    if breaks and breaks[-1] >= len(head) // 2:
        head = head[: breaks[-1]]
    words = head.rstrip(" ,;:-–—(").split()
    while len(words) > 1 and words[-1].lower().rstrip(".,;:") in DANGLING:
        words.pop()
    return " ".join(words).rstrip(",;:")


def slugify(text: str, max_words: int | None = None, drop_filler: bool = False) -> str:
    """Lowercase ASCII words joined by '-'; '' when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = SLUG_WORD.findall(ascii_text.lower())
    if drop_filler:
        meaningful = [w for w in words if w not in ID_FILLER and (len(w) > 1 or w.isdigit())]
        words = meaningful or words
    return "-".join(words[:max_words])


def topic_slug(text: str) -> str:
    """A bank topic slug from a file stem: lowercase letters, digits, '_' and '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower()).strip("-_")
    return slug or "notes"
