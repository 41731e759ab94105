"""Helpers of the importer (`llmquiz.importer` is the public API).

Notes: `text` cleans inline Markdown and makes slugs, `formats` finds the items of each kind
of notes, `answers` turns an item's answer lines into answer text and key points.
Decks: `apkg` reads Anki packages and collections, `delimited` tab- or comma-separated
exports, `cards` turns a note's fields into question / answer cards (clozes included),
`markup` HTML into text, and `decks` cards into the importer's `items`.
"""
