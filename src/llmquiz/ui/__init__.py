"""The terminal: every Rich renderable and the interactive session UI; only the CLI imports it."""
