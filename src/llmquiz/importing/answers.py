"""An item's answer lines -> answer text (nested bullets flattened) and key points."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmquiz.importing.formats import HEADING, Body, literal_spans
from llmquiz.importing.text import (
    clean_inline,
    ends_sentence,
    ends_with_connector,
    shorten,
    split_sentences,
    squash,
    word_count,
)

BULLET = re.compile(r"^(\s*)([-*+•●▪◦‣])(?:\s+(.*))?$")
ORDERED = re.compile(r"^(\s*)\d{1,3}[.)]\s+(.*)$")
READING = re.compile(r"\b(?:reading|references|resources|sources|see also|links|watching)\b", re.IGNORECASE)
# 'Further reading: https://...' on one line: a reading lead and what it lists, dropped whole
READING_LINE = re.compile(
    r"^(?:(?:further|recommended|suggested|additional|more)\s+)?"
    r"(?P<lead>reading(?:\s+list)?|references|resources|links|sources|see\s+also)"
    r"(?:\s*\([^)]*\))?\s*:\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
URL = re.compile(r"\bhttps?://|\bwww\.|\barxiv\b|\bdoi:", re.IGNORECASE)
MAX_POINTS, POINT_WORDS = 6, 25
MAX_NESTING = 50  # bullet levels; deeper notes are refused (flattening them recurses per level)


class NestingError(ValueError):
    """Bullets nested more than MAX_NESTING levels deep, from `line` on."""

    def __init__(self, line: int) -> None:
        super().__init__(f"bullets nested more than {MAX_NESTING} levels deep")
        self.line = line


@dataclass
class Node:
    """A block of an answer: a paragraph, a heading, a bullet (with children) or a formula."""

    text: str
    line: int
    last_line: int
    kind: str  # "para", "label", "bullet", "ordered", "literal"
    indent: int = 0
    children: list[Node] = field(default_factory=list)

    @property
    def is_bullet(self) -> bool:
        return self.kind in ("bullet", "ordered")


@dataclass(frozen=True)
class Answer:
    text: str
    key_points: tuple[str, ...]
    end_line: int | None  # None when nothing of the answer is left


def build_answer(body: Body, loose: bool) -> Answer:
    """`loose`: plain-text notes, where a 'Label:' bullet owns the paragraphs after it."""
    nodes = parse_nodes(body, loose)
    content = _without_reading_lists(nodes)  # the README promises: reading lists are dropped
    if not content:
        return Answer("", (), None)
    text = "\n".join(_render(node) for node in content)
    end_line = max(_last_line(node) for node in nodes)
    return Answer(text, key_points(content), end_line)


# --- parsing ----------------------------------------------------------------------------


def parse_nodes(body: Body, loose: bool) -> list[Node]:
    lines = [raw.expandtabs(4) for _, raw in body]
    numbers = [number for number, _ in body]
    literal_stops = dict(literal_spans(lines))
    nodes: list[Node] = []
    stack: list[Node] = []  # open bullets, outermost first
    index = 0
    while index < len(lines):
        after_blank = index > 0 and not lines[index - 1].strip()
        if index in literal_stops:
            stop = literal_stops[index]
            node: Node | None = _literal(lines[index:stop], numbers[index], numbers[stop - 1])
            index = stop
        else:
            node, index = _line_node(lines[index], numbers[index]), index + 1
        if node is None:
            continue
        if node.kind == "para" and stack and not after_blank:
            stack[-1].children.append(node)  # a line that runs on from the bullet above
        else:
            _place(node, nodes, stack, loose)
    return nodes


def _literal(block: Sequence[str], first: int, last: int) -> Node:
    """A fenced code block or multi-line $$ formula, kept verbatim (less its indentation)."""
    indent = len(block[0]) - len(block[0].lstrip())
    kept = [(line[indent:] if not line[:indent].strip() else line.strip()).rstrip() for line in block]
    return Node("\n".join(kept).strip(), first, last, "literal", indent)


def _line_node(raw: str, number: int) -> Node | None:
    if not raw.strip():
        return None
    heading = HEADING.match(raw)
    if heading:
        text = squash(clean_inline(heading[2]))
        return Node(text, number, number, "label") if text else None
    cleaned = clean_inline(raw)
    indent = len(cleaned) - len(cleaned.lstrip())
    bullet = BULLET.match(cleaned)
    if bullet:
        text = squash(bullet[3] or "")
        return Node(text, number, number, "bullet", indent) if text else None
    ordered = ORDERED.match(cleaned)
    if ordered:
        return Node(squash(ordered[2]), number, number, "ordered", indent)
    text = squash(cleaned)
    if text.startswith("$$"):
        return Node(cleaned.strip(), number, number, "literal", indent)
    return Node(text, number, number, "para", indent) if text else None


def _place(node: Node, nodes: list[Node], stack: list[Node], loose: bool) -> None:
    if node.kind == "label":
        stack.clear()
        nodes.append(node)
    elif node.is_bullet:
        _place_bullet(node, nodes, stack, loose)
    else:
        _place_text(node, nodes, stack, loose)


def _place_bullet(node: Node, nodes: list[Node], stack: list[Node], loose: bool) -> None:
    while stack and stack[-1].indent >= node.indent and not _owns(stack[-1], node, loose):
        stack.pop()
    if len(stack) >= MAX_NESTING:
        raise NestingError(node.line)
    (stack[-1].children if stack else nodes).append(node)
    stack.append(node)


def _owns(parent: Node, node: Node, loose: bool) -> bool:
    """In plain-text notes '1. Tree of Thought:' owns the '- ' bullets right below it."""
    return (
        loose
        and parent.kind == "ordered"
        and node.kind == "bullet"
        and parent.text.endswith(":")
        and parent.indent == node.indent
    )


def _place_text(node: Node, nodes: list[Node], stack: list[Node], loose: bool) -> None:
    parent = next((bullet for bullet in reversed(stack) if bullet.indent < node.indent), None)
    if parent is None and loose and stack and _owns_text(stack[-1], node):
        parent = stack[-1]
    if parent is None:
        stack.clear()
    siblings = parent.children if parent is not None else nodes
    if not _merge_wrapped(node, siblings):
        siblings.append(node)


def _owns_text(bullet: Node, node: Node) -> bool:
    """In plain-text notes '1. Text Generation:' owns the paragraphs below it (not a next label)."""
    return bullet.text.endswith(":") and not node.text.endswith(":")


def _merge_wrapped(node: Node, siblings: list[Node]) -> bool:
    """A sentence broken over two paragraphs ('...billions or even' / 'trillions of ...')."""
    if not siblings or node.kind != "para" or siblings[-1].kind != "para":
        return False
    previous = siblings[-1]
    if ends_sentence(previous.text) or not node.text[:1].islower():
        return False
    previous.text = f"{previous.text} {node.text}"
    previous.last_line = node.last_line
    return True


def _last_line(node: Node) -> int:
    return max([node.last_line, *(_last_line(child) for child in node.children)])


# --- rendering --------------------------------------------------------------------------


def flatten(node: Node) -> str:
    """A bullet and everything nested under it as one line: 'parent: a, b, c'."""
    text = node.text if node.kind != "literal" else squash(node.text)
    if not node.children:
        return text
    parts = [flatten(child).rstrip(".;,:") for child in node.children]
    return _join(text, parts)


def _join(lead: str, parts: Sequence[str]) -> str:
    separator = ", " if all(word_count(part) <= 4 for part in parts) else "; "
    glue = " " if lead.endswith((":", ".", "?", "!")) or ends_with_connector(lead) else ": "
    return f"{lead}{glue}{separator.join(parts)}"


def _render(node: Node) -> str:
    return f"- {flatten(node)}" if node.is_bullet else node.text


# --- key points ---------------------------------------------------------------------------


def key_points(nodes: Sequence[Node]) -> tuple[str, ...]:
    """2-6 short statements: the answer's bullets when it is mostly bullets, else sentences."""
    content = _without_reading_lists(nodes)
    candidates = _bullet_points(content) if _mostly_bullets(content) else []
    if len(candidates) < 2:
        candidates = _sentence_points(content) or candidates
    unique = list(dict.fromkeys(shorten(text, POINT_WORDS) for text in candidates))
    return tuple(_spread(unique, MAX_POINTS))


def _spread(items: Sequence[str], count: int) -> list[str]:
    """`count` items evenly spread over the list, first and last included."""
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(position * step)] for position in range(count)]


def _without_reading_lists(nodes: Sequence[Node]) -> list[Node]:
    """Leave out 'Further reading:' and the links listed under it."""
    kept: list[Node] = []
    skipping = False
    for node in nodes:
        if _is_reading_lead(node):
            skipping = True
            continue
        if _is_reading_line(node):
            skipping = False
            continue
        if skipping and (node.is_bullet or (node.kind == "para" and not ends_sentence(node.text))):
            continue
        skipping = False
        kept.append(node)
    return kept


def _is_reading_lead(node: Node) -> bool:
    """'Further reading:', 'Recommended reading (and watching):', '... some resources:', '### References'."""
    text = node.text.rstrip(")").rstrip()
    if node.kind == "label" and (heading := READING_LINE.match(node.text.rstrip(":") + ":")):
        return not heading["rest"]
    return node.kind in ("para", "label") and text.endswith(":") and bool(READING.search(text))


def _is_reading_line(node: Node) -> bool:
    """'Further reading: https://...', 'See also: the InstructGPT paper', a bullet 'References:'.

    A bullet goes with the bullets nested under it. 'Sources: ...' and 'Resources: ...' count
    only with a link: they may as well be content.
    """
    match = READING_LINE.match(node.text)
    if node.kind == "literal" or match is None:
        return False
    if not match["rest"]:
        return node.is_bullet  # a paragraph 'Further reading:' is a lead: see _is_reading_lead
    lead = match["lead"].lower()
    strong = lead.startswith("reading") or lead.startswith("see") or lead == "references"
    return strong or bool(URL.search(match["rest"]))


def _mostly_bullets(nodes: Sequence[Node]) -> bool:
    bullets = [node for node in nodes if node.is_bullet]
    bullet_words = sum(word_count(flatten(node)) for node in bullets)
    all_words = sum(word_count(_render(node)) for node in nodes if node.kind != "literal")
    return len(bullets) >= 2 and bullet_words >= 0.4 * all_words


def _is_lead_in(node: Node, following: Node | None) -> bool:
    return (
        node.kind in ("para", "label")
        and following is not None
        and following.is_bullet
        and not node.text.endswith((".", "!", "?"))
    )


def _bullet_points(nodes: Sequence[Node]) -> list[str]:
    points: list[str] = []
    index = 0
    while index < len(nodes):
        node = nodes[index]
        following = nodes[index + 1] if index + 1 < len(nodes) else None
        if _is_lead_in(node, following):
            run = _bullet_run(nodes, index + 1)
            points.extend(_group_points(node, run))
            index += 1 + len(run)
            continue
        if node.is_bullet:
            points.append(flatten(node))
        elif node.kind == "para" and word_count(node.text) >= 5 and not node.text.endswith(":"):
            points.append(node.text)
        index += 1
    return [point for point in points if word_count(point) >= 2]


def _bullet_run(nodes: Sequence[Node], start: int) -> list[Node]:
    run = []
    for node in nodes[start:]:
        if not node.is_bullet:
            break
        run.append(node)
    return run


def _group_points(lead: Node, run: Sequence[Node]) -> list[str]:
    """'Lead-in: a; b' as one point when short, else one point per bullet.

    A short lead-in that names the subject ('Top-k sampling') is kept in front of each bullet.
    """
    parts = [flatten(bullet).rstrip(".;,") for bullet in run]
    group = _join(lead.text, parts)
    if word_count(group) <= POINT_WORDS:
        return [group]
    if word_count(lead.text) <= 5 and not ends_with_connector(lead.text):
        return [_join(lead.text, [part]) for part in parts]
    return parts


def _sentence_points(nodes: Sequence[Node]) -> list[str]:
    points = []
    for node in nodes:
        if node.kind not in ("para", "bullet", "ordered"):
            continue
        for sentence in split_sentences(flatten(node)):
            if word_count(sentence) >= 3 and not sentence.endswith((":", "?")):
                points.append(sentence)
    return points
