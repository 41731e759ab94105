"""Which step of loading a grader is running, for a UI that says what the learner waits for.

Loading reports each step here (`report`); whoever loads a grader may listen (`listening`),
in its own thread or context only. Nothing here prints or imports anything heavy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

VERIFY = "verify"  # hashing the bundled model's weights: the first load after an install only
MODEL = "model"  # loading the embedding model (and importing torch, on cuda or for another model)
JUDGE = "judge"  # checking and loading the claim judge (a second, adapted copy of the model)
EMBED = "embed"  # encoding bank texts not in the cache yet: a bank's (or model's) first use

Listener = Callable[[str], None]
_listener: ContextVar[Listener | None] = ContextVar("llmquiz_grading_step", default=None)


def report(step: str) -> None:
    """Tell the listener of this context, if any, that `step` starts now."""
    listener = _listener.get()
    if listener is not None:
        listener(step)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Have the steps reported in this context (thread) go to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
