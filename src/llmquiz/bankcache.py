"""A disposable cache of parsed bank files, so that a command does not parse the YAML again.

Parsing and checking the shipped bank's YAML (every node walked by the hostile-input checks)
is most of what `topics`, `list` or `stats` spend, and part of every `grade`; decoding the
same topics from msgpack takes a hundredth of that. So each bank file that parses with no
problem is kept, as its Topic, in `<home>/cache/banks/`, one entry per bank file path, marked
with a key made of the path, the file's text and the source of the code that parses it
(bank.py, inputfiles.py): an edited file, or another version of llmquiz, misses the cache, is
parsed again and replaces its entry. A file with problems is never kept, so `bank validate`
and every loader report them as before. The cache is only ever a shortcut: an entry that is
unreadable or damaged is ignored and rewritten; deleting it loses nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from functools import cache
from pathlib import Path

import msgspec

from llmquiz import bank as bank_module
from llmquiz import inputfiles
from llmquiz.bank import Topic, parse_bank_text
from llmquiz.digests import parts_digest
from llmquiz.errors import InputFileError, Problem
from llmquiz.inputfiles import read_input_bytes
from llmquiz.outputfiles import write_private

FOLDER_NAME = "banks"
MAX_ENTRY_BYTES = 64 * 1024**2


class _Entry(msgspec.Struct, array_like=True):
    key: str
    topic: Topic


@cache
def _code_stamp() -> bytes:
    """The source of the modules that decide what a bank file parses to."""
    digest = hashlib.sha256()
    for module in (bank_module, inputfiles):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.digest()


def _digest(*parts: bytes) -> str:
    return parts_digest(*parts).hex()


class ParsedBankCache:
    """Parses bank files as bank.parse_bank_text does, keeping the clean ones for next time."""

    def __init__(self, cache_folder: Path) -> None:
        self.folder = cache_folder / FOLDER_NAME

    def parse(self, text: str, file: str) -> tuple[Topic | None, list[Problem]]:
        """The topic of one bank file's text and its problems (none, when it came from the cache)."""
        name = file.encode("utf-8", "surrogatepass")
        entry_path = self.folder / f"{_digest(name)[:32]}.msgpack"
        key = _digest(_code_stamp(), name, text.encode("utf-8", "surrogatepass"))
        try:
            entry = msgspec.msgpack.decode(read_input_bytes(entry_path, MAX_ENTRY_BYTES), type=_Entry)
            if entry.key == key:
                return entry.topic, []
        except (InputFileError, msgspec.DecodeError):
            pass  # none yet, another text, or damaged: parse it and replace the entry
        topic, problems = parse_bank_text(text, file)
        if topic is not None and not problems:
            # a data folder that cannot be written only costs the next command the parse
            with contextlib.suppress(OSError):
                write_private(entry_path, msgspec.msgpack.encode(_Entry(key, topic)))
        return topic, problems
