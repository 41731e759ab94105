"""A disposable cache of the claim judge's readings, so that a pair read once is not read again.

The claim judge is most of what grading costs: every (answer sentence, statement) pair is a
BERT pass. The same pairs come back whenever the same answer is graded again: an exam run
again in CI over an unchanged or partly changed answers file, `calibrate` run again on the
same CSV, a learner who grades the same sentence twice. So each pair's three probabilities
are kept in `<home>/cache/judgements/<stamp[:16]>.msgpack`, keyed by a hash of the pair's
two texts. The stamp (judge.ClaimJudge.reading_stamp) names what decides a reading: the
artifact, the engine and device, and the source of the code that reads: another judge, engine
or version of llmquiz reads from another file. A kept row is what the judge gave that pair
the first time, in that run's batch; read again in another batch it can differ in the sixth
decimal. The MAX_ROWS pairs used last are kept (one pass over more pairs than that finds none
of them next time). Two processes writing at once: the last one's rows are kept. The cache
is only ever a shortcut: a file that is unreadable, damaged or for another stamp is ignored
and replaced; one that cannot be written costs the next run the judge's passes; deleting it
loses nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from llmquiz.digests import parts_digest
from llmquiz.errors import InputFileError
from llmquiz.inputfiles import read_input_bytes
from llmquiz.outputfiles import write_private

FOLDER_NAME = "judgements"
MAX_ROWS = 50_000  # 28 bytes a pair: a file of at most 1.4 MB, rewritten when new pairs come
KEY_BYTES = 16
ROW_BYTES = 3 * 4  # support, contradict, neither as float32
Judge = Callable[[Sequence[tuple[str, str]]], Any]


class _File(msgspec.Struct, array_like=True):
    stamp: str
    keys: bytes  # the pairs' keys, KEY_BYTES each, least recently used first
    probs: bytes  # their rows, float32 little-endian, ROW_BYTES each


def pair_key(clause: str, statement: str) -> bytes:
    return parts_digest(*(text.encode("utf-8", "surrogatepass") for text in (clause, statement)))[:KEY_BYTES]


def _valid_rows(probs: np.ndarray) -> bool:
    """Rows that a softmax could have given: finite, within 0..1, each summing to about 1."""
    return bool(
        np.isfinite(probs).all()
        and (probs >= 0).all()
        and (probs <= 1).all()
        and np.allclose(probs.sum(axis=1), 1, atol=1e-3)
    )


class JudgementCache:
    """The judge's rows of pairs already read, for one stamp; `judged` reads only the new ones."""

    def __init__(self, cache_folder: Path | None, stamp: str) -> None:
        self.stamp = stamp
        name = f"{stamp[:16]}.msgpack"
        self.path = cache_folder / FOLDER_NAME / name if cache_folder is not None else None
        # key -> its row as the file holds it (so a save is two joins), least recently used first
        self._rows: OrderedDict[bytes, bytes] | None = None
        self._lock = threading.Lock()

    def judged(self, pairs: Sequence[tuple[str, str]], judge: Judge) -> np.ndarray:
        """The (n, 3) rows of `pairs`: from the cache where kept, from `judge` for the rest."""
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        if not pairs:
            return out
        keys = [pair_key(clause, statement) for clause, statement in pairs]
        with self._lock:
            rows = self._loaded()
            new: dict[bytes, int] = {}  # each new pair read once, however often it comes
            for i, key in enumerate(keys):
                row = rows.get(key)
                if row is None:
                    new.setdefault(key, i)
                else:
                    out[i] = np.frombuffer(row, dtype="<f4")
                    rows.move_to_end(key)  # used again: the last to go
        fresh: dict[bytes, np.ndarray] = {}
        if new:
            judged = np.asarray(judge([pairs[i] for i in new.values()]), dtype=np.float32)
            fresh = dict(zip(new, judged, strict=True))
            for i, key in enumerate(keys):
                if key in fresh:
                    out[i] = fresh[key]
        with self._lock:  # saved after hits too, so that the order of use outlives the run
            rows = self._loaded()
            # a row no softmax gives (a broken artifact's NaN) is returned but never kept: one
            # such row would make every later read of the file fail its check
            rows.update(
                (key, row.astype("<f4").tobytes()) for key, row in fresh.items() if _valid_rows(row[None])
            )
            while len(rows) > MAX_ROWS:
                rows.popitem(last=False)
            self._save(rows)
        return out

    def _loaded(self) -> OrderedDict[bytes, bytes]:
        if self._rows is None:
            self._rows = self._read()
        return self._rows

    def _read(self) -> OrderedDict[bytes, bytes]:
        if self.path is None:
            return OrderedDict()
        try:
            kept = msgspec.msgpack.decode(
                read_input_bytes(self.path, MAX_ROWS * (KEY_BYTES + ROW_BYTES) + 4096), type=_File
            )
        except (InputFileError, msgspec.DecodeError):
            return OrderedDict()  # none yet, or damaged: the judge reads the pairs again
        count = len(kept.keys) // KEY_BYTES
        if (
            kept.stamp != self.stamp
            or len(kept.keys) != count * KEY_BYTES
            or len(kept.probs) != count * ROW_BYTES
            or count > MAX_ROWS
        ):
            return OrderedDict()
        if count and not _valid_rows(np.frombuffer(kept.probs, dtype="<f4").reshape(count, 3)):
            return OrderedDict()
        keys = (kept.keys[i * KEY_BYTES : (i + 1) * KEY_BYTES] for i in range(count))
        rows = (kept.probs[i * ROW_BYTES : (i + 1) * ROW_BYTES] for i in range(count))
        return OrderedDict(zip(keys, rows, strict=True))

    def _save(self, rows: OrderedDict[bytes, bytes]) -> None:
        if self.path is None:
            return
        data = msgspec.msgpack.encode(_File(self.stamp, b"".join(rows), b"".join(rows.values())))
        # a data folder that cannot be written only costs the next run the judge's passes
        with contextlib.suppress(OSError):
            write_private(self.path, data)
