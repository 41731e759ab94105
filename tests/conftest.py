"""Shared fixtures: every test gets its own data folder; paths to the shipped bank and ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
QUESTIONS = REPO / "questions"


@pytest.fixture(autouse=True)
def llmquiz_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point LLMQUIZ_HOME at a fresh folder so no test touches a real history."""
    home = tmp_path / "home"
    monkeypatch.setenv("LLMQUIZ_HOME", str(home))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skip (with the reason) where a user's clone lacks it.

    CI always has ../shared and treats such a skip as a failure (see .ci/run).
    """
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} not found (a user's clone)")
    return path


@pytest.fixture(scope="session")
def model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder shared by the tests that load the real model, so its cache is reused."""
    return tmp_path_factory.mktemp("model-home")


def in_ci() -> bool:
    return bool(os.environ.get("LLMQUIZ_CI"))


def as_a_script_runs(env: dict[str, str]) -> dict[str, str]:
    """`env` without PYTHONUNBUFFERED: the child's stdout to a pipe is block-buffered, as a
    script's is by default (so a test sees what an exit without a flush would lose)."""
    return {name: value for name, value in env.items() if name != "PYTHONUNBUFFERED"}
