"""Where llmquiz keeps its data: one function, resolved at call time."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "LLMQUIZ_HOME"


def data_home(override: Path | None = None) -> Path:
    """The data folder: the --home option, else $LLMQUIZ_HOME, else the platform user data dir."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("llmquiz", appauthor=False))


def ensure_private_dir(path: Path) -> Path:
    """Create a folder (and any missing parents) readable by the user only (mode 0700)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    return path


def history_file(home: Path) -> Path:
    return home / "history.jsonl"


def cache_dir(home: Path) -> Path:
    return home / "cache"


def shipped_bank_dir() -> Path:
    """The bank shipped with llmquiz: inside the installed wheel, else the source checkout's."""
    packaged = Path(__file__).resolve().parent / "questions"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "questions"
