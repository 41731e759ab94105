"""Private cache files: written atomically with mode 0600 in 0700 folders, read defensively.

`EmbeddingCache` keeps reference and key-point vectors per model and text hash, so a second
exam over the same bank only encodes the answers. A file that fails any check (JSON shape,
count, dtype, vector shape, sha256 of the vector bytes, finiteness) is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmquiz.errors import InputFileError
from llmquiz.inputfiles import read_input_bytes
from llmquiz.outputfiles import write_private

CACHE_VERSION = 1
MAX_CACHE_ROWS = 200_000
MAX_CACHE_BYTES = 2 * 1024**3  # read through the input reader: a FIFO or device is no cache
MAX_INDEX_BYTES = 64 * 1024**2


def read_json(path: Path) -> Any:
    """Parsed JSON, or None for a missing, unreadable, invalid or non-regular file."""
    try:
        return json.loads(read_input_bytes(path, MAX_INDEX_BYTES).decode("utf-8"))
    except (InputFileError, ValueError, RecursionError):
        return None


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_slug(model_id: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id.rsplit("/", 1)[-1])[:40]
    return f"{readable}-{hashlib.sha256(model_id.encode()).hexdigest()[:12]}"


class EmbeddingCache:
    """Encodings of bank texts for one model: `<cache>/embeddings/<model>.npz` + `.json`.

    The .npz holds plain arrays (no pickles): `vecs` (N x D float32), `toks` (T x D float16),
    `offs` (T x 2 int32), `spans` (N x 2 int64: first token row and count per text). The
    .json index lists the texts' sha256 keys and the sha256 of the .npz bytes.
    """

    def __init__(self, folder: Path | None, model_id: str) -> None:
        self.model_id = model_id
        self._folder = folder / "embeddings" if folder is not None else None
        slug = model_slug(model_id)
        self._npz = self._folder / f"{slug}.npz" if self._folder else None
        self._json = self._folder / f"{slug}.json" if self._folder else None
        self._items: dict[str, Any] = {}  # text key -> Encoded
        self._dirty = False
        self._loaded = False
        self._lock = threading.RLock()

    # -- disk -----------------------------------------------------------------------------
    def _read_disk(self) -> dict[str, tuple[Any, Any, Any]]:
        """Validated (vec, tok, off) per key; {} for anything missing, corrupt or foreign."""
        import numpy as np

        if self._npz is None or self._json is None:
            return {}
        index = read_json(self._json)
        if not isinstance(index, dict):
            return {}
        keys = index.get("keys")
        dim = index.get("dim")
        if (
            index.get("version") != CACHE_VERSION
            or index.get("model") != self.model_id
            or not isinstance(keys, list)
            or not isinstance(dim, int)
            or dim <= 0
            or not 0 < len(keys) <= MAX_CACHE_ROWS
            or len(set(keys)) != len(keys)
            or not all(isinstance(k, str) and re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)
            or not isinstance(index.get("sha256"), str)
        ):
            return {}
        try:
            raw = read_input_bytes(self._npz, MAX_CACHE_BYTES)
        except InputFileError:
            return {}
        if hashlib.sha256(raw).hexdigest() != index["sha256"]:
            return {}
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                arrays = {name: data[name] for name in ("vecs", "toks", "offs", "spans")}
        except (ValueError, OSError, EOFError, KeyError, TypeError):
            return {}
        vecs, toks, offs, spans = (arrays[n] for n in ("vecs", "toks", "offs", "spans"))
        n = len(keys)
        if (
            vecs.dtype != np.float32
            or vecs.shape != (n, dim)
            or toks.dtype != np.float16
            or toks.ndim != 2
            or toks.shape[1] != dim
            or offs.dtype != np.int32
            or offs.shape != (toks.shape[0], 2)
            or spans.dtype != np.int64
            or spans.shape != (n, 2)
            or not np.isfinite(vecs).all()
            or not np.isfinite(toks).all()
            or (spans < 0).any()
            or (spans[:, 0] + spans[:, 1] > toks.shape[0]).any()
        ):
            return {}
        out = {}
        for i, key in enumerate(keys):
            a, count = int(spans[i, 0]), int(spans[i, 1])
            out[key] = (vecs[i], toks[a : a + count], offs[a : a + count])  # float16 until used
        return out

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self._npz.stat() if self._npz is not None else None
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns) if st is not None else None

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            self._disk_stamp = self._stamp()
            self._disk = self._read_disk()

    def save(self) -> None:
        """Write new encodings (merged with whatever another process saved meanwhile)."""
        import numpy as np

        with self._lock:
            if not self._dirty or self._npz is None or self._json is None:
                return
            self._ensure_loaded()
            # re-read only when another process wrote the file since we read it
            merged = dict(self._disk) if self._stamp() == self._disk_stamp else self._read_disk()
            for key, enc in self._items.items():
                merged[key] = (enc.vec, enc.tok, enc.off)
            if len(merged) > MAX_CACHE_ROWS:
                merged = dict(list(merged.items())[-MAX_CACHE_ROWS:])
            keys = list(merged)
            dims = {merged[k][0].shape[0] for k in keys}
            if len(dims) != 1:
                return
            dim = dims.pop()
            counts = np.array([len(merged[k][1]) for k in keys], dtype=np.int64)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            toks = [merged[k][1] for k in keys if len(merged[k][1])]
            offs = [merged[k][2] for k in keys if len(merged[k][2])]
            buf = io.BytesIO()
            np.savez(
                buf,
                vecs=np.stack([merged[k][0] for k in keys]).astype(np.float32),
                toks=(np.concatenate(toks) if toks else np.zeros((0, dim))).astype(np.float16),
                offs=(np.concatenate(offs) if offs else np.zeros((0, 2))).astype(np.int32),
                spans=np.stack([starts, counts], axis=1),
            )
            raw = buf.getvalue()
            index = {
                "version": CACHE_VERSION,
                "model": self.model_id,
                "dim": int(dim),
                "keys": keys,
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
            try:
                write_private(self._npz, raw)
                write_private(self._json, json.dumps(index).encode())
            except OSError:
                return  # a cache that cannot be written is only slower next time
            self._disk = merged
            self._disk_stamp = self._stamp()
            self._dirty = False

    # -- memory ---------------------------------------------------------------------------
    def get(self, text: str) -> Any | None:
        """The `Encoded` of a text, from memory or disk, or None."""
        from llmquiz.grading.encoding import Encoded

        key = text_key(text)
        with self._lock:
            enc = self._items.get(key)
            if enc is not None:
                return enc
            self._ensure_loaded()
            stored = self._disk.get(key)
            if stored is None:
                return None
            vec, tok, off = stored
            enc = Encoded(text, vec, tok.astype("float32"), off)
            if len(enc.off) and int(enc.off[:, 1].max()) > len(text):
                return None  # offsets that do not fit the text: not ours
            self._items[key] = enc
            return enc

    def missing(self, texts: Sequence[str]) -> list[str]:
        return [t for t in dict.fromkeys(texts) if self.get(t) is None]

    def put(self, encodings: Sequence[Any]) -> None:
        """Keep encodings of bank texts (their content-word tokens only, see Encoded)."""
        with self._lock:
            for enc in encodings:
                self._items[text_key(enc.text)] = enc.content_only()
                self._dirty = True
