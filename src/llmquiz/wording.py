"""Counts in messages: "1 topic", "2 topics" (no imports: the lightest commands use it)."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 answer', '0 answers', '2 answers'; `plural_form` for words that do not just add an s."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"
