"""The one writer of files: output files a command is asked for, and llmquiz's private caches.

Every write is atomic: the data goes to a temporary file in the target's own folder, which
then replaces the target (`os.replace`), so a reader sees the old file or the new one,
never half of either, and a failed write leaves the old file as it was.

An output path (`--junit`, `import -o`, `export -o`) is written only when it names a
regular file or nothing yet. It is refused, before the command changes anything, when it
is (after following symlinks, or as a hard link) the history, a file in the cache folder,
an input of the same command, a folder, or anything but a regular file (a device, a FIFO,
a socket): `write_output(path, data, protected=inputs, home=home)`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from llmquiz.errors import OutputFileError
from llmquiz.inputfiles import file_kind
from llmquiz.paths import cache_dir, ensure_private_dir, history_file

_NEW_FILE_MODE = 0o600  # mkstemp's: a report or bank nobody asked to share stays private


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samestat(os.stat(a), os.stat(b))
    except OSError:
        return False


def check_output(path: Path, *, protected: Iterable[Path] = (), home: Path | None = None) -> Path:
    """The real path that writing `path` would replace; OutputFileError when it is refused."""
    shown = str(path)
    target = Path(os.path.realpath(Path(path).expanduser()))
    guarded: list[tuple[Path, str]] = [(Path(p), "an input of this command") for p in protected]
    if home is not None:
        guarded.append((history_file(home), "the history"))
    for guard, what in guarded:
        real = Path(os.path.realpath(guard))
        if target == real or _same_file(target, real):
            raise OutputFileError(f"{shown}: refusing to write over {what} ({guard})")
    if home is not None:
        cache = Path(os.path.realpath(cache_dir(home)))
        if target == cache or cache in target.parents:
            raise OutputFileError(f"{shown}: refusing to write into the cache folder ({cache_dir(home)})")
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputFileError(f"{shown}: cannot write: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise OutputFileError(f"{shown}: is {file_kind(mode)}; only a regular file is written over")
    return target


def write_output(
    path: Path, data: bytes, *, protected: Iterable[Path] = (), home: Path | None = None
) -> Path:
    """Write an output file atomically after check_output; return the real path written.

    `protected`: the command's input files; `home`: the data folder, whose history and
    cache files are never written over. A replaced file keeps its permission bits.
    """
    target = check_output(path, protected=protected, home=home)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = _NEW_FILE_MODE
        _replace(target, data, mode, durable=True)
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return target


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace one of llmquiz's own files (0600, in 0700 folders); OSError on failure."""
    ensure_private_dir(path.parent)
    _replace(path, data, 0o600, durable=False)  # a cache lost in a crash is rebuilt


def _replace(target: Path, data: bytes, mode: int, *, durable: bool) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
