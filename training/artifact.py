"""Writing the claim judge's artifact: its adapters and head (the package only reads it, judge.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmquiz.grading.model import file_sha256


def adapter_state(model: Any) -> dict[str, Any]:
    """Only the adapter weights: what the claim judge's artifact stores."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if ".lora_" in k}


_DTYPES = {"float32": "F32", "uint8": "U8"}


def save_artifact(path: Path, state: dict[str, Any], meta: dict[str, str]) -> str:
    """Write the adapters, the head and the settings as a safetensors file; returns its sha256.

    Written here rather than by safetensors' save_file, whose header lists tensors and
    settings in hash-map order: the same weights gave different bytes, and the sha256 is the
    artifact's identity (checked at load, and by the reproducibility test). The layout is
    the safetensors format: an 8-byte little-endian header length, a JSON header naming
    each tensor's dtype, shape and byte range, then the tensors' bytes.
    """
    header: dict[str, Any] = {"__metadata__": dict(sorted(meta.items()))}
    blobs = []
    offset = 0
    for name in sorted(state):
        array = state[name].detach().contiguous().cpu().numpy()
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[str(array.dtype)], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}  # fmt: skip
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the tensors start 8-byte aligned
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(len(encoded).to_bytes(8, "little") + encoded + b"".join(blobs))
    return file_sha256(path)
