"""One digest of several parts, for the keys of what the caches keep."""

from __future__ import annotations

import hashlib


def parts_digest(*parts: bytes) -> bytes:
    """sha256 over each part's length and bytes: ("ab", "c") and ("a", "bc") differ."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little") + part)
    return digest.digest()
