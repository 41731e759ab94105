"""Private cache files: written atomically with mode 0600 in 0700 folders, read defensively.

`EmbeddingCache` keeps reference and key-point vectors per model and text hash, so a second
exam over the same bank only encodes the answers. A file that fails any check (JSON shape,
count, dtype, vector shape, sha256 of the vector bytes, finiteness) is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmquiz.paths import ensure_private_dir

CACHE_VERSION = 1
MAX_CACHE_ROWS = 200_000


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`, readable by the user only."""
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(path: Path) -> Any:
    """Parsed JSON, or None for a missing, unreadable or invalid file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_slug(model_id: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id.rsplit("/", 1)[-1])[:40]
    return f"{readable}-{hashlib.sha256(model_id.encode()).hexdigest()[:12]}"


class EmbeddingCache:
    """Vectors of bank texts for one model, in `<cache>/embeddings/<model>.npy` + `.json`."""

    def __init__(self, folder: Path | None, model_id: str) -> None:
        self.model_id = model_id
        self._folder = folder / "embeddings" if folder is not None else None
        slug = model_slug(model_id)
        self._npy = self._folder / f"{slug}.npy" if self._folder else None
        self._json = self._folder / f"{slug}.json" if self._folder else None
        self._vectors: dict[str, Any] = {}
        self._dim: int | None = None
        self._dirty = False
        self._loaded = False
        self._lock = threading.RLock()

    # -- disk -----------------------------------------------------------------------------
    def _read_disk(self) -> dict[str, Any]:
        """What is on disk, validated; {} for anything missing, corrupt or foreign."""
        import numpy as np

        if self._npy is None or self._json is None:
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
            or not all(isinstance(k, str) and re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)
            or not isinstance(index.get("sha256"), str)
        ):
            return {}
        try:
            raw = self._npy.read_bytes()
        except OSError:
            return {}
        if hashlib.sha256(raw).hexdigest() != index["sha256"]:
            return {}
        try:
            matrix = np.load(io.BytesIO(raw), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return {}
        if (
            not isinstance(matrix, np.ndarray)
            or matrix.dtype != np.float32
            or matrix.shape != (len(keys), dim)
            or not np.isfinite(matrix).all()
        ):
            return {}
        if self._dim is not None and dim != self._dim:
            return {}
        self._dim = dim
        return {k: matrix[i] for i, k in enumerate(keys)}

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            disk = self._read_disk()
            disk.update(self._vectors)
            self._vectors = disk

    def save(self) -> None:
        """Write new vectors (merged with whatever another process saved meanwhile)."""
        import numpy as np

        with self._lock:
            if not self._dirty or self._npy is None or self._json is None:
                return
            merged = self._read_disk()
            merged.update(self._vectors)
            if len(merged) > MAX_CACHE_ROWS:
                merged = dict(list(merged.items())[-MAX_CACHE_ROWS:])
            keys = list(merged)
            matrix = np.stack([merged[k] for k in keys]).astype(np.float32, copy=False)
            buf = io.BytesIO()
            np.save(buf, matrix, allow_pickle=False)
            raw = buf.getvalue()
            index = {
                "version": CACHE_VERSION,
                "model": self.model_id,
                "dim": int(matrix.shape[1]),
                "keys": keys,
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
            try:
                write_private(self._npy, raw)
                write_private(self._json, json.dumps(index).encode())
            except OSError:
                return  # a cache that cannot be written is only slower next time
            self._vectors = merged
            self._dirty = False

    # -- memory ---------------------------------------------------------------------------
    def get(self, text: str) -> Any | None:
        with self._lock:
            self._ensure_loaded()
            return self._vectors.get(text_key(text))

    def missing(self, texts: Sequence[str]) -> list[str]:
        with self._lock:
            self._ensure_loaded()
            return [t for t in dict.fromkeys(texts) if text_key(t) not in self._vectors]

    def put(self, texts: Sequence[str], vectors: Any) -> None:
        import numpy as np

        with self._lock:
            self._ensure_loaded()
            for text, vec in zip(texts, vectors, strict=True):
                vec = np.asarray(vec, dtype=np.float32)
                if self._dim is None:
                    self._dim = int(vec.shape[0])
                if vec.shape != (self._dim,):
                    raise ValueError("embedding dimension changed within one model")
                self._vectors[text_key(text)] = vec
                self._dirty = True
