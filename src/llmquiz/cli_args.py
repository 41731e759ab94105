"""How the command line is read: global options anywhere, plain usage lines, number options.

Kept apart from cli.py, which defines the commands; nothing here imports more than typer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import typer
from typer.core import TyperCommand

# The global options (see cli.main_options) and whether each takes a value. Users put them
# after the command as often as before it (`llmquiz quiz --grader lexical`); both work.
GLOBAL_OPTIONS = {
    "--bank": True,
    "--home": True,
    "--grader": True,
    "--model": True,
    "--device": True,
    "--debug": False,
}


def hoist_global_options(args: Sequence[str], options: dict[str, bool] = GLOBAL_OPTIONS) -> list[str]:
    """Move global options given after the command to before it; anything after `--` stays."""
    args = list(args)
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        _, has_value = _option(args[index], options)
        index += 2 if has_value else 1  # a global option before the command, with its value
    if index >= len(args) or args[index] == "--":
        return args
    command, rest = args[: index + 1], args[index + 1 :]
    moved: list[str] = []
    kept: list[str] = []
    position = 0
    while position < len(rest):
        arg = rest[position]
        if arg == "--":
            kept.extend(rest[position:])
            break
        name, has_value = _option(arg, options)
        if name is None or (has_value and position + 1 == len(rest)):  # no value: see missing_value
            kept.append(arg)
            position += 1
            continue
        take = 2 if has_value else 1
        moved.extend(rest[position : position + take])
        position += take
    return command[:-1] + moved + command[-1:] + kept


def missing_value(args: Sequence[str], options: dict[str, bool] = GLOBAL_OPTIONS) -> str | None:
    """The global option that ends the command line without its value (`llmquiz quiz --bank`)."""
    if not args or "--" in args:
        return None
    name, has_value = _option(args[-1], options)
    return name if has_value else None


def _option(arg: str, options: dict[str, bool]) -> tuple[str | None, bool]:
    """(the global option `arg` names, whether its value is the next argument)."""
    name, equals, _ = arg.partition("=")
    if name not in options:
        return None, False
    return name, options[name] and not equals


class PlainUsageCommand(TyperCommand):
    """Usage lines as users know them: `drill [OPTIONS] TOPIC`, not Typer's `{TOPIC}`."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return [plain_metavar(piece) for piece in super().collect_usage_pieces(ctx)]


def plain_metavar(piece: str) -> str:
    return re.sub(r"\{([^{}|]*)\}", lambda m: m[1].upper(), piece)


def use_plain_usage(*apps: Any) -> None:
    """Give every command of these Typer apps that has no class of its own the plain usage."""
    for app in apps:
        for info in app.registered_commands:
            if info.cls in (None, TyperCommand):
                info.cls = PlainUsageCommand


def whole_number(minimum: int | None = None) -> Callable[[str], int]:
    """A parser for an integer option, with a message a user understands.

    Click's own reads "'x' is not a valid int range" for `--count x`.
    """

    def parse(value: str | int) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise typer.BadParameter(f"{value!r} is not a whole number") from None
        if minimum is not None and number < minimum:
            raise typer.BadParameter(f"{number} is too small: it must be at least {minimum}")
        return number

    return parse


def minutes(value: str | float) -> float:
    """A positive number of minutes (0.5 is 30 seconds)."""
    try:
        number = float(str(value).strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number of minutes") from None
    if not 0 < number < float("inf"):
        raise typer.BadParameter(f"{value}: the time limit must be more than 0 minutes")
    return number
