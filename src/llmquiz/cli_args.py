"""How the command line is read: global options anywhere, plain usage lines, number options.

Kept apart from cli.py, which defines the commands; nothing here imports more than typer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from llmquiz.completion import complete_question_id, complete_topic

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


GLOBAL_NOTE = "Global options work here too: " + ", ".join(GLOBAL_OPTIONS) + " (see llmquiz --help)."


def use_plain_usage(*apps: Any) -> None:
    """Every command of these Typer apps: the plain usage line, and a word on the global options."""
    for app in apps:
        for info in app.registered_commands:
            if info.cls in (None, TyperCommand):
                info.cls = PlainUsageCommand
            info.epilog = info.epilog or GLOBAL_NOTE


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
    """A number of minutes (0.5 is 30 seconds); the exam checks its range."""
    try:
        return float(str(value).strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number of minutes") from None


# --- options and arguments several commands share ------------------------------------------

TopicOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--topic", "-t", metavar="TOPIC", help="Only this topic (repeatable).", autocompletion=complete_topic
    ),
]
OneTopicOpt = Annotated[
    str | None,
    typer.Option("--topic", "-t", metavar="TOPIC", help="Only this topic.", autocompletion=complete_topic),
]
TopicArg = Annotated[
    str, typer.Argument(metavar="TOPIC", help="The topic to drill.", autocompletion=complete_topic)
]
QuestionIdArg = Annotated[
    str,
    typer.Argument(
        metavar="QUESTION_ID",
        help="The question's id (see `llmquiz list`).",
        autocompletion=complete_question_id,
    ),
]
CountOpt = Annotated[
    int, typer.Option("--count", "-n", metavar="N", parser=whole_number(1), help="How many questions.")
]
ExamCountOpt = Annotated[
    int | None,
    typer.Option("--count", "-n", metavar="N", parser=whole_number(1), help="How many questions."),
]
AtMostOpt = Annotated[
    int, typer.Option("--count", "-n", metavar="N", parser=whole_number(1), help="At most this many.")
]
LimitOpt = Annotated[
    int, typer.Option("--limit", "-n", metavar="N", parser=whole_number(1), help="How many records.")
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", metavar="N", parser=whole_number(), help="Seed for a repeatable selection."),
]
TimeLimitOpt = Annotated[
    float | None,
    typer.Option("--time-limit", metavar="MINUTES", parser=minutes, help="Minutes for the interactive exam."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
DEFAULT_PASS_MARK = 70.0  # the contract's default
PassMarkOpt = Annotated[
    float, typer.Option("--pass-mark", metavar="SCORE", help="Score needed to pass (0-100).")
]
AnswersOpt = Annotated[
    Path | None,
    typer.Option("--answers", metavar="FILE", help="YAML/JSON file of id: answer; never reads the terminal."),
]
JunitOpt = Annotated[
    Path | None, typer.Option("--junit", metavar="FILE", help="Also write a JUnit XML report.")
]
NotesArg = Annotated[
    Path,
    typer.Argument(
        metavar="FILE", help="Notes (Markdown, numbered, flashcards), an Anki package, or a TSV / CSV export."
    ),
]
NewTopicOpt = Annotated[
    str | None, typer.Option("--topic", "-t", metavar="TOPIC", help="Topic slug for the questions.")
]
BankOutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the bank here.")
]
BankPathsArg = Annotated[
    list[Path] | None, typer.Argument(metavar="[PATH]...", help="Bank files or folders.")
]
GoldOpt = Annotated[
    str, typer.Option("--gold", metavar="COLUMN", help="The column with human grades (default: score).")
]
