"""The history file on disk: opened safely, appended under a lock, read in bounded pieces.

- It is never opened through a symlink (`O_NOFOLLOW`), and only a regular file is used: a
  history that is a symlink, FIFO or device is not read (a warning) and never written
  (an error, before the command asks anything).
- Appending: append mode, an exclusive lock, one write, fsync; a torn last line (a crash
  mid-write) is kept apart from the next record by a newline written first.
- Reading forwards comes in chunks, backwards (`history --limit N`) in blocks from the
  end, so memory stays bounded whatever the file's size; a line longer than
  `MAX_LINE_BYTES` is damaged and skipped without being held in memory.
- A data folder or history that other users can read is warned about (llmquiz creates
  both private, but an existing folder keeps the mode it had).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from llmquiz.errors import BadInputError
from llmquiz.paths import ensure_private_dir, history_file

MAX_LINE_BYTES = 64 * 1024 * 1024  # a record with a 1 MB answer is about 1 MB
CHUNK_BYTES = 4 * 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_LONG_LINE = None  # stands for a line too long to keep


class UnsafeHistoryError(BadInputError):
    """The history path is a symlink or not a regular file: llmquiz will not use it."""


def _unsafe(path: Path, what: str) -> UnsafeHistoryError:
    return UnsafeHistoryError(f"{path}: the history is {what}; llmquiz uses only a regular file there")


def _kind(mode: int) -> str | None:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return None
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, socket or device)"


def refuse_unsafe_history(home: Path) -> None:
    """UnsafeHistoryError when the history exists as anything but a regular file."""
    path = history_file(home)
    try:
        kind = _kind(os.lstat(path).st_mode)
    except OSError:
        return  # missing (it will be created) or unreachable (the write will say why)
    if kind is not None:
        raise _unsafe(path, kind)


def open_history(home: Path, *, append: bool) -> int | None:
    """A file descriptor on the history (None when it does not exist and `append` is false)."""
    path = history_file(home)
    if append:
        ensure_private_dir(home)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
    else:
        flags = os.O_RDONLY
    try:
        fd = os.open(path, flags | _NOFOLLOW, 0o600)
    except FileNotFoundError:
        if append:
            raise
        return None
    except OSError:
        refuse_unsafe_history(home)  # ELOOP for a symlink, ENXIO for a FIFO: say which
        raise
    kind = _kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise _unsafe(path, kind)
    return fd


def _read_at(fd: int, size: int, offset: int) -> bytes:
    """`size` bytes from `offset` (fewer at the end of the file)."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows has no pread
    return os.read(fd, size)  # pragma: no cover


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    """An exclusive advisory lock on an open file, for the length of one append."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        try:
            yield
        finally:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def append_line(home: Path, payload: bytes) -> None:
    """Append one line whole: lock, one write, fsync. A torn last line is left as it is."""
    fd = open_history(home, append=True)
    assert fd is not None
    try:
        with _locked(fd):
            size = os.fstat(fd).st_size
            if size and _read_at(fd, 1, size - 1) != b"\n":
                payload = b"\n" + payload  # keep a torn line apart from this record
            written = os.write(fd, payload)
            while written < len(payload):  # pragma: no cover - partial writes are rare
                written += os.write(fd, payload[written:])
            os.fsync(fd)
    finally:
        os.close(fd)


def privacy_warnings(home: Path) -> list[str]:
    """A warning when other users can read the data folder or the history."""
    try:
        info = os.stat(home)
    except OSError:
        return []
    folder = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode) and folder & 0o077:
        return [
            f"{home}: the data folder is open to other users (mode {folder:04o}); "
            f"`chmod 700 {home}` keeps your answers private"
        ]
    path = history_file(home)
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return []
    if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o044:
        return [
            f"{path}: the history is readable by other users (mode {stat.S_IMODE(mode):04o}); "
            f"`chmod 600 {path}` keeps it private"
        ]
    return []


def forward_lines(fd: int) -> Iterator[bytes | None]:
    """Every line of the file, first to last, as `bytes.split(b"\\n")` gives them.

    A line longer than MAX_LINE_BYTES comes as None, its bytes never kept.
    """
    carry = b""
    too_long = False
    while chunk := os.read(fd, CHUNK_BYTES):
        pieces = chunk.split(b"\n")
        for piece in pieces[:-1]:
            if too_long or len(carry) + len(piece) > MAX_LINE_BYTES:
                yield _LONG_LINE
            else:
                yield carry + piece if carry else piece
            carry, too_long = b"", False
        tail = pieces[-1]
        if too_long or len(carry) + len(tail) > MAX_LINE_BYTES:
            carry, too_long = b"", True
        else:
            carry += tail
    yield _LONG_LINE if too_long else carry


def backward_lines(fd: int) -> Iterator[tuple[int, bytes | None]]:
    """(offset, line) of every line, last to first, read in blocks from the end of the file.

    A line longer than MAX_LINE_BYTES comes as None; the final empty line after a trailing
    newline is included, as forward_lines gives it.
    """
    end = os.fstat(fd).st_size
    carry = b""  # the start of the line that began before the block just read
    too_long = False
    while end > 0:
        start = max(0, end - CHUNK_BYTES)
        block = _read_at(fd, end - start, start)
        pieces = block.split(b"\n")
        # pieces[-1] ends the line that carry began; pieces[1:-1] are whole lines
        offset = end
        for index in range(len(pieces) - 1, 0, -1):
            piece = pieces[index]
            offset -= len(piece)
            if index == len(pieces) - 1:
                line = _LONG_LINE if too_long or len(piece) + len(carry) > MAX_LINE_BYTES else piece + carry
                carry, too_long = b"", False
            else:
                line = piece
            yield offset, line
            offset -= 1  # the newline
        head = pieces[0]
        if len(pieces) == 1:  # no newline in this block: the line goes on
            if too_long or len(head) + len(carry) > MAX_LINE_BYTES:
                carry, too_long = b"", True
            else:
                carry = head + carry
        else:
            carry, too_long = head, len(head) > MAX_LINE_BYTES
            if too_long:
                carry = b""
        end = start
    yield 0, _LONG_LINE if too_long else carry


def line_numbers(fd: int, offsets: list[int]) -> dict[int, int]:
    """The 1-based line number of each line starting at one of `offsets` (counted in chunks)."""
    wanted = sorted(set(offsets))
    numbers: dict[int, int] = {}
    newlines = position = 0
    for offset in wanted:
        while position < offset:
            block = _read_at(fd, min(CHUNK_BYTES, offset - position), position)
            if not block:
                break
            newlines += block.count(b"\n")
            position += len(block)
        numbers[offset] = newlines + 1
    return numbers
