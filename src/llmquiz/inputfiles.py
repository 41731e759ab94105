"""The one reader of input files (banks, answers, notes, CSVs) and their YAML and JSON loaders.

Every input file is hostile until read safely:

- only a regular file is read: a folder, FIFO, socket or device is refused before it is
  opened (checked again with fstat once open, and opened O_NONBLOCK, so that a FIFO swapped
  in meanwhile cannot block);
- the size limit counts the bytes actually read, not what `st_size` claims (a device or a
  file under /proc says 0); reading stops one chunk past the limit;
- text must be UTF-8 (a BOM is dropped) with no NUL bytes; problems name FILE:LINE.

The YAML loader is PyYAML's safe loader (libyaml's parser when present) recording the line
of every mapping, key and list item. Before anything is built it walks the composed nodes
and refuses: aliases used more than `MAX_ALIASES` times or expanding to more than
`MAX_ALIAS_EXPANSION` characters and nodes (a "billion laughs" file of a few hundred bytes
would otherwise expand to gigabytes), an alias inside the node it names, keys that are
lists or mappings, and nesting deeper than `MAX_DEPTH`. Integers beyond `MAX_INTEGER` are
refused (a 5,000-digit one would stop Python converting it); timestamps stay the text they
were written as. The JSON loader refuses the same integers, NaN and infinities, duplicate
keys and nesting Python cannot follow. Each refusal is a Problem, never an exception.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from llmquiz.errors import InputFileError, Problem

MAX_TEXT_FILE_BYTES = 10 * 1024 * 1024
MAX_ALIASES = 1_000
MAX_ALIAS_EXPANSION = 1_000_000
MAX_DEPTH = 100
MAX_INTEGER = 10**15
_MAX_NUMBER_CHARS = 40  # longer integer text is refused before Python converts it
_CHUNK = 1024 * 1024
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
)


# --- reading ----------------------------------------------------------------------------


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words (for refusals of inputs and outputs)."""
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _refuse(file: str, line: int, message: str) -> InputFileError:
    return InputFileError([Problem(file, line, message)])


def _check_regular(file: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise _refuse(file, 0, "is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise _refuse(file, 0, f"is {file_kind(mode)}; only regular files are read")


def _too_large(file: str, max_bytes: int, size: int | None = None) -> InputFileError:
    limit = max_bytes / 1024 / 1024
    found = f"{size / 1024 / 1024:.1f} MB" if size is not None else f"more than {limit:g} MB"
    return _refuse(file, 1, f"file too large ({found}; the limit is {limit:g} MB)")


def read_input_bytes(path: Path, max_bytes: int = MAX_TEXT_FILE_BYTES) -> bytes:
    """The bytes of a regular file, at most `max_bytes`; InputFileError (FILE: message) otherwise."""
    file = str(path)
    try:
        _check_regular(file, os.stat(path).st_mode)
        fd = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        raise _refuse(file, 0, "no such file") from None
    except OSError as exc:
        raise _refuse(file, 0, f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        _check_regular(file, info.st_mode)  # swapped for something else since the stat above
        if info.st_size > max_bytes:
            raise _too_large(file, max_bytes, info.st_size)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(_CHUNK, max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # the file grew, or its size was never true
                raise _too_large(file, max_bytes)
    except OSError as exc:
        raise _refuse(file, 0, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text_file(path: Path, max_bytes: int = MAX_TEXT_FILE_BYTES) -> str:
    """A UTF-8 text file's text; InputFileError naming FILE:LINE for anything unreadable."""
    return decode_text(read_input_bytes(path, max_bytes), str(path))


def check_size(file: str, raw: bytes, max_bytes: int) -> None:
    """InputFileError when bytes already read (for another format's larger limit) are too many for text."""
    if len(raw) > max_bytes:
        raise _too_large(file, max_bytes, len(raw))


def decode_text(raw: bytes, file: str) -> str:
    """UTF-8 text of a file's bytes; InputFileError with FILE:LINE for binary or undecodable data."""
    if b"\x00" in raw[:8192]:
        raise _refuse(file, 1, "binary data, not a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _refuse(file, line, "not valid UTF-8 text") from None


# --- YAML with line numbers and duplicate-key detection --------------------------------


class _LineDict(dict):
    """A mapping that remembers the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[Any, int]


class _LineList(list):
    """A sequence that remembers the line of each of its items."""

    item_lines: list[int]


class _Refused(Exception):
    """A node the loader will not build: the line it starts on and why.

    `alias`: for a refused alias, which one (1 for the first in the file); nodes do not
    say where an alias to them was written, the parser's events do (see _alias_line).
    """

    def __init__(self, line: int, message: str, alias: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.alias = alias


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader (no Python tags) that records line numbers and duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, Any]] = []

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as exc:  # a date like 2024-02-30, say
            raise _Refused(_line(node), f"cannot read this value: {exc}") from None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict()
    mapping.line = _line(node)
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            key = str(key)  # only scalars get here (see _check_nodes): bytes, say
        line = _line(key_node)
        if key in mapping:
            loader.duplicate_keys.append((line, key))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    items = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.item_lines = [_line(child) for child in node.value]
    return items


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> int:
    if len(node.value) > _MAX_NUMBER_CHARS:
        raise _Refused(
            _line(node), f"number too large ({len(node.value)} characters); quote it to use it as text"
        )
    value = yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    if abs(value) > MAX_INTEGER:
        raise _Refused(
            _line(node), f"number too large (beyond {MAX_INTEGER:.0e}); quote it to use it as text"
        )
    return value


def _construct_text(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    return str(node.value)  # a timestamp stays as written: dates are never computed with


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_nodes(root: yaml.Node) -> None:
    """Refuse, before building anything, what would expand without bound or cannot be a key.

    One walk over the composed nodes, in document order. An alias is a node reached again:
    its expanded size is counted again each time, but the walk itself never expands it.
    """
    done: dict[int, int] = {}  # id(node) -> expanded size, once its whole subtree is counted
    open_nodes: set[int] = set()
    aliases = expansion = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            own = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            done[key] = 1 + own + sum(done[id(child)] for child in _children(node))
            open_nodes.discard(key)
            continue
        if key in done:
            aliases += 1
            expansion += done[key]
            if aliases > MAX_ALIASES:
                raise _Refused(_line(node), f"more than {MAX_ALIASES} aliases", aliases)
            if expansion > MAX_ALIAS_EXPANSION:
                raise _Refused(
                    _line(node), f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} characters", aliases
                )
            continue
        if key in open_nodes:
            raise _Refused(_line(node), "an alias refers to the node that contains it", aliases + 1)
        if depth > MAX_DEPTH:
            raise _Refused(_line(node), f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Refused(_line(key_node), "a key must be a plain value, not a list or mapping")
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(_children(node)))


def _alias_line(text: str, number: int) -> int:
    """The line of the `number`-th alias of the text: the walk meets aliases in event order."""
    seen = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            seen += 1
            if seen == number:
                return event.start_mark.line + 1
    return 1


def _yaml_problem(file: str, exc: yaml.YAMLError) -> Problem:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(file, 1, f"invalid YAML: {exc}")
    mark = exc.problem_mark or exc.context_mark
    reason = exc.problem or "invalid YAML"
    tag = re.search(r"constructor for the tag '([^']*)'", reason)
    if tag:
        reason = "tag not allowed: " + tag.group(1).replace("tag:yaml.org,2002:", "!!")
    return Problem(file, mark.line + 1 if mark else 1, f"invalid YAML: {reason}")


def parse_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse YAML safely; syntax errors, refused nodes and duplicate keys come back as problems."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        _check_nodes(node)
        data = loader.construct_document(node)
    except _Refused as exc:
        return None, [Problem(file, _alias_line(text, exc.alias) if exc.alias else exc.line, exc.message)]
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(file, exc)]
    except RecursionError:  # beyond what the node walk lets through; never expected
        return None, [Problem(file, 1, "invalid YAML: nested too deeply")]
    finally:
        loader.dispose()
    problems = [Problem(file, line, f"duplicate key {key!r}") for line, key in loader.duplicate_keys]
    return data, problems


def line_of(mapping: Any, key: Any = None, default: int = 1) -> int:
    """The line of a loaded mapping (or of one of its keys); `default` for anything else."""
    if isinstance(mapping, _LineDict):
        if key is not None and key in mapping.key_lines:
            return mapping.key_lines[key]
        return mapping.line
    return default


# --- JSON -------------------------------------------------------------------------------


class _JsonRefused(ValueError):
    def __init__(self, token: str, message: str) -> None:
        super().__init__(message)
        self.token = token


def _json_int(token: str) -> int:
    if len(token) > _MAX_NUMBER_CHARS or abs(int(token)) > MAX_INTEGER:
        raise _JsonRefused(token, f"number too large ({len(token.lstrip('-'))} digits)")
    return int(token)


def _json_float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise _JsonRefused(token, "number too large")
    return value


def _json_constant(token: str) -> Any:
    raise _JsonRefused(token, f"{token} is not a JSON number")


def parse_json(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse JSON; syntax errors, refused numbers, duplicate keys and deep nesting are problems."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        data = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except _JsonRefused as exc:
        line = text.count("\n", 0, max(text.find(exc.token), 0)) + 1
        return None, [Problem(file, line, f"invalid JSON: {exc}")]
    except json.JSONDecodeError as exc:
        return None, [Problem(file, exc.lineno, f"invalid JSON: {exc.msg}")]
    except RecursionError:
        return None, [Problem(file, 1, "invalid JSON: nested too deeply")]
    if duplicates:
        return None, [Problem(file, 1, f"duplicate key {duplicates[0]!r}")]
    return data, []
