"""Helpers of the notes importer (`llmquiz.importer` is the public API).

`text` cleans inline Markdown and makes slugs, `formats` finds the items of each kind of
notes, `answers` turns an item's answer lines into answer text and key points.
"""
