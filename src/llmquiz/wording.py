"""Words in messages: "1 topic", "2 topics", "did you mean" (cheap: the lightest commands use it)."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 answer', '0 answers', '2 answers'; `plural_form` for words that do not just add an s."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def did_you_mean(name: str, known: list[str]) -> str:
    """ "; did you mean 'rag'?" for the closest known name, or '' when none is close."""
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    if not close:  # 'rag-what' for 'rag-what-is': a prefix of exactly one name
        close = [k for k in known if k.startswith(name)] if len(name) >= 3 else []
        close = close if len(close) == 1 else []
    return f"; did you mean {close[0]!r}?" if close else ""
