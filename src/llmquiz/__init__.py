"""llmquiz: quiz yourself for LLM and ML interviews, graded by embedding similarity."""

from __future__ import annotations

__version__ = "0.1.0"
