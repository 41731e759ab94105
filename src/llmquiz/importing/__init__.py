"""Import: notes (Markdown, numbered Q&A, flashcard text) and decks (Anki packages, tab-separated
Anki or Quizlet exports) into a bank file. This module is the package's public API.

`import_notes` reads a file, tells its kind by its content, and returns an `ImportResult`;
`render_bank_yaml` writes it as the YAML of a bank file that `llmquiz bank validate` accepts;
`find_items` finds the items of notes already read. Nothing here prints.

Inside: `notes` reads a file and dispatches on its kind. Notes: `text` cleans inline Markdown
and makes slugs, `formats` finds the items of each kind of notes, `answers` turns an item's
answer lines into answer text and key points. Decks: `apkg` reads Anki packages and
collections, `delimited` tab- or comma-separated exports, `cards` turns a note's fields into
question / answer cards (clozes included), `markup` HTML into text, and `decks` cards into the
importer's `items`.
"""

from __future__ import annotations

from llmquiz.importing.decks import ANKI
from llmquiz.importing.formats import FORMATS, detect_format
from llmquiz.importing.items import ImportedItem, ImportResult
from llmquiz.importing.notes import OPEN_ANSWER, find_items, import_notes, render_bank_yaml

__all__ = [
    "ANKI",
    "FORMATS",
    "OPEN_ANSWER",
    "ImportResult",
    "ImportedItem",
    "detect_format",
    "find_items",
    "import_notes",
    "render_bank_yaml",
]
