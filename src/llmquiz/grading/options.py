"""The grader and device choices, named once for the CLI, the factory and the model loader."""

from __future__ import annotations

GRADER_KINDS = ("semantic", "lexical")
DEVICES = ("auto", "cpu", "cuda")  # where the model runs; auto: cuda when torch sees a GPU
