"""What the CLI's commands share: error handling, JSON output, stdin and stream checks, sessions."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup

from llmquiz.cli_args import hoist_global_options, missing_value
from llmquiz.context import Context
from llmquiz.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, BadInputError, LlmquizError, warn
from llmquiz.safetext import json_text, terminal_line
from llmquiz.wording import plural

if TYPE_CHECKING:
    from rich.console import Console

    from llmquiz.commands.examining import ExamOutcome
    from llmquiz.session import SessionPlan


class LlmquizGroup(TyperGroup):
    """Turns LlmquizError into `Error: ...` on stderr and the contract's exit code.

    Global options are accepted after the command too: `llmquiz quiz --grader lexical`.
    """

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if ctx.parent is None and not ctx.resilient_parsing:  # (completion reads what is typed so far)
            option = missing_value(args)
            if option is not None:
                raise typer.BadParameter("a value must follow it", ctx=ctx, param_hint=f"'{option}'")
        if ctx.parent is None:
            args = hoist_global_options(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmquizError as exc:
            if isinstance(ctx.obj, Context) and ctx.obj.debug:
                traceback.print_exc()
            typer.echo(f"Error: {terminal_line(str(exc))}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None


def end_process(code: int) -> NoReturn:
    """Exit with `code`; at once, without finalising the interpreter, while a daemon thread lives.

    A session leaves daemon threads behind: the model load (still inside torch, numpy or
    tokenizers C code when a session ends early: stdin closed, a quit before the model is
    ready), the grading worker that any model-graded answer starts, and the judge's batch
    threads when Ctrl-C stops a grade. Finalising the interpreter under such a thread crashed
    the process at random after all was done (a segfault, or an abort from C++ unwinding the
    frozen thread), so a script saw 139 or 134 instead of the command's code. So with one
    alive the streams are flushed and the process ends here, skipping atexit handlers and
    finalisers (the project registers none). Histories are fsynced and caches replaced
    atomically before this point; a cache save cut short leaves at most a temporary file.
    """
    if not any(thread.daemon and thread.is_alive() for thread in threading.enumerate()):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken pipe: nothing more to show
            stream.flush()
    os._exit(code)


def context(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    return obj


def emit_json(data: Any) -> None:
    typer.echo(json_text(data))


def require_stdin() -> None:
    """An interactive command started with stdin closed (`<&-`) has nothing to read."""
    if sys.stdin is None:
        raise BadInputError("standard input is closed: nothing to read answers from")


def tolerant_streams() -> None:
    """Text the terminal's encoding cannot hold comes out as escapes instead of a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def practise(cfg: Context, plan: SessionPlan) -> None:
    """Run a quiz, drill or review in the terminal and show its summary."""
    from llmquiz.commands.practice import run_practice
    from llmquiz.ui import render
    from llmquiz.ui.prompts import TerminalUI

    require_stdin()
    console, err = render.make_console(), render.make_console(stderr=True)
    summary = run_practice(cfg, plan, TerminalUI(console, err))
    for warning in summary.warnings:
        warn(warning)
    console.print()
    if summary.outcomes:
        console.print(render.session_summary(summary, console))
    if summary.interrupted:
        err.print(f"Interrupted: {plural(len(summary.outcomes), 'answer')} kept in the history.")
        raise typer.Exit(EXIT_INTERRUPTED)


def show_exam(outcome: ExamOutcome, console: Console, err: Console, as_json: bool) -> int:
    """Print the exam's report (or why there is none); return the exit code."""
    from llmquiz.reports import exam_json
    from llmquiz.ui import render

    report = outcome.report
    if report is None:
        err.print(f"Interrupted: {plural(outcome.answers_kept, 'answer')} kept in the history.")
        return EXIT_INTERRUPTED
    if report.timed_out:
        err.print("Time is up.")
    if as_json:
        typer.echo(exam_json(report))
    else:
        console.print(render.exam_report(report, console))
    return EXIT_OK if report.passed else EXIT_FAILED
