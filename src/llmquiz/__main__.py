"""`python -m llmquiz` runs the same program as the `llmquiz` command."""

from __future__ import annotations

from llmquiz.cli import main

if __name__ == "__main__":
    main()
