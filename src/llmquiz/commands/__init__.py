"""Command bodies: each builds core objects from the options and returns what the CLI renders."""
