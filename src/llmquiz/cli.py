"""The llmquiz command line: parse options, call the core, render the results."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from llmquiz import __version__
from llmquiz import cli_args as opt  # the options several commands share
from llmquiz.bank import DIFFICULTIES
from llmquiz.cli_support import (
    LlmquizGroup,
    context,
    emit_json,
    end_process,
    practise,
    require_stdin,
    show_exam,
    tolerant_streams,
)
from llmquiz.context import Context
from llmquiz.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, warn
from llmquiz.exporting import EXPORT_FORMATS
from llmquiz.grading.options import DEVICES, GRADER_KINDS
from llmquiz.safetext import terminal_line
from llmquiz.wording import plural

# Typer shows and checks choices from an Enum; these are built from the core's own tuples.
GraderKind = enum.StrEnum("GraderKind", {kind: kind for kind in GRADER_KINDS})
Device = enum.StrEnum("Device", {device: device for device in DEVICES})
Difficulty = enum.StrEnum("Difficulty", {level: level for level in DIFFICULTIES})
ExportFormat = enum.StrEnum("ExportFormat", {fmt: fmt for fmt in EXPORT_FORMATS})


app = typer.Typer(
    cls=LlmquizGroup,
    no_args_is_help=True,
    help="Quiz yourself for LLM and ML interviews; answers are graded by meaning.",
    epilog="Global options may also follow the command: llmquiz quiz --grader lexical.",
    rich_markup_mode=None,
)
bank_app = typer.Typer(cls=LlmquizGroup, no_args_is_help=True, help="Check question bank files.")
app.add_typer(bank_app, name="bank")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"llmquiz {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    bank: Annotated[
        list[Path] | None,
        typer.Option(
            "--bank",
            metavar="PATH",
            help="A bank file or folder (repeatable); default: the shipped bank.",
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", metavar="PATH", help="Data folder for history and caches [env: LLMQUIZ_HOME]."
        ),
    ] = None,
    grader: Annotated[GraderKind, typer.Option(help="semantic (embeddings) or lexical (no torch).")] = (
        GraderKind.semantic
    ),
    model: Annotated[
        str | None,
        typer.Option(metavar="NAME_OR_PATH", help="A sentence-transformers model name or path."),
    ] = None,
    device: Annotated[Device, typer.Option(help="Where the model runs.")] = Device.auto,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Quiz yourself for LLM and ML interviews; answers are graded by meaning."""
    ctx.obj = Context(
        bank_paths=tuple(bank or ()),
        home_override=home,
        grader_kind=grader.value,
        model=model,
        device=device.value,
        debug=debug,
    )


# --- practice -----------------------------------------------------------------------------


@app.command()
def quiz(
    ctx: typer.Context,
    topic: opt.TopicOpt = None,
    count: opt.CountOpt = 10,
    difficulty: Annotated[Difficulty | None, typer.Option(help="Only this difficulty.")] = None,
    seed: opt.SeedOpt = None,
) -> None:
    """Ask questions, grade each answer, show what was missed."""
    from llmquiz.commands.practice import quiz_plan

    require_stdin()  # before the bank is read: nothing to do, nothing written
    cfg = context(ctx)
    practise(cfg, quiz_plan(cfg, topic or [], count, difficulty.value if difficulty else None, seed, warn))


@app.command()
def drill(
    ctx: typer.Context,
    topic: opt.TopicArg,
    count: opt.CountOpt = 10,
) -> None:
    """Drill one topic, weakest questions first."""
    from llmquiz.commands.practice import drill_plan

    require_stdin()
    cfg = context(ctx)
    practise(cfg, drill_plan(cfg, topic, count, warn))


@app.command()
def review(
    ctx: typer.Context,
    count: opt.AtMostOpt = 20,
) -> None:
    """Review the questions that are due."""
    from llmquiz.commands.practice import review_plan

    cfg = context(ctx)
    plan = review_plan(cfg, count, warn)
    if plan is None:
        typer.echo("Nothing is due for review. Try `llmquiz quiz` or `llmquiz drill TOPIC`.", err=True)
        raise typer.Exit(0)
    practise(cfg, plan)


@app.command()
def exam(
    ctx: typer.Context,
    topic: opt.TopicOpt = None,
    count: opt.ExamCountOpt = None,
    pass_mark: opt.PassMarkOpt = opt.DEFAULT_PASS_MARK,
    answers: opt.AnswersOpt = None,
    as_json: opt.JsonOpt = False,
    junit: opt.JunitOpt = None,
    time_limit: opt.TimeLimitOpt = None,
    seed: opt.SeedOpt = None,
) -> None:
    """Take an exam; the exit code says pass (0) or fail (1)."""
    from llmquiz.commands.examining import ExamOptions, run_exam
    from llmquiz.ui import render
    from llmquiz.ui.prompts import SilentUI

    options = ExamOptions(topic or [], count, pass_mark, answers, junit, time_limit, seed)
    if answers is None:
        require_stdin()
    err = render.make_console(stderr=True)
    console = err if as_json else render.make_console()  # with --json, stdout carries only the JSON
    with render.progress_bar("Grading", enabled=answers is not None and not as_json) as progress:
        ui = lambda deadline: SilentUI(console, err, deadline=deadline)  # noqa: E731
        outcome = run_exam(context(ctx), options, ui, warn, progress)
    raise typer.Exit(show_exam(outcome, console, err, as_json))


@app.command()
def grade(
    ctx: typer.Context,
    question_id: opt.QuestionIdArg,
    answer: Annotated[str, typer.Argument(metavar="ANSWER", help="Your answer, in quotes.")],
    as_json: opt.JsonOpt = False,
) -> None:
    """Grade one answer: score, verdict and the key points it missed."""
    from llmquiz.commands.examining import grade_one
    from llmquiz.ui import render

    with render.loading_status(enabled=not as_json) as on_step:
        graded = grade_one(context(ctx), question_id, answer, warn, on_step)
    if as_json:
        emit_json(graded.to_dict())
        return
    console = render.make_console()
    console.print(render.feedback(graded.question, graded.result, console))


# --- browsing -----------------------------------------------------------------------------


@app.command()
def topics(ctx: typer.Context, as_json: opt.JsonOpt = False) -> None:
    """Topics with question counts and your mastery."""
    from llmquiz.commands.browsing import topic_rows

    rows = topic_rows(context(ctx), warn)
    if as_json:
        emit_json([row.to_dict() for row in rows])
        return
    from llmquiz.ui import render

    console = render.make_console()
    console.print(render.topics_table(rows, console))


@app.command("list")
def list_questions(ctx: typer.Context, topic: opt.TopicOpt = None, as_json: opt.JsonOpt = False) -> None:
    """Question ids and questions."""
    from llmquiz.commands.browsing import question_rows

    rows = question_rows(context(ctx), topic or [])
    if as_json:
        emit_json([row.to_dict() for row in rows])
        return
    from llmquiz.ui import render

    console = render.make_console()
    console.print(render.questions_listing(rows, console), soft_wrap=True, end="")


@app.command()
def show(ctx: typer.Context, question_id: opt.QuestionIdArg) -> None:
    """A question with its reference answer, key points and sources."""
    from llmquiz.commands.browsing import question_detail
    from llmquiz.ui import render

    question, topic = question_detail(context(ctx), question_id)
    console = render.make_console()
    console.print(render.question_detail(question, topic, console))


@app.command()
def stats(
    ctx: typer.Context,
    topic: opt.OneTopicOpt = None,
    as_json: opt.JsonOpt = False,
) -> None:
    """Mastery per topic, trend over time, weakest questions, streak."""
    from llmquiz.commands.browsing import compute_user_stats

    result = compute_user_stats(context(ctx), topic, warn)
    if as_json:
        emit_json(result.to_dict())
        return
    from llmquiz.ui import render  # rich's tables: not needed for --json
    from llmquiz.ui.stats import stats_screen

    console = render.make_console()
    console.print(stats_screen(result, console))


@app.command()
def history(
    ctx: typer.Context,
    limit: opt.LimitOpt = 20,
    as_json: opt.JsonOpt = False,
) -> None:
    """Past graded answers, newest first."""
    from llmquiz.commands.browsing import recent_records

    records = recent_records(context(ctx), limit, warn)
    if as_json:
        emit_json([r.to_dict() for r in records])
        return
    from llmquiz.ui import render

    console = render.make_console()
    if not records:
        typer.echo("No answers yet: start with `llmquiz quiz`.", err=True)
        return
    console.print(render.history_table(records, console))


# --- bank tools -----------------------------------------------------------------------------


@bank_app.command("validate")
def bank_validate(
    ctx: typer.Context,
    paths: opt.BankPathsArg = None,
) -> None:
    """Check bank files; print every problem as FILE:LINE: message."""
    from llmquiz.commands.banks import validate_bank

    validation = validate_bank(context(ctx), paths or [])
    for problem in validation.problems:
        typer.echo(terminal_line(str(problem)), err=True)
    if validation.problems:
        typer.echo(f"{plural(len(validation.problems), 'problem')} found.", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    typer.echo(f"OK: {plural(validation.topics, 'topic')}, {plural(validation.questions, 'question')}.")


@app.command("import")
def import_notes(
    ctx: typer.Context,
    file: opt.NotesArg,
    topic: opt.NewTopicOpt = None,
    output: opt.BankOutputOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be imported.")] = False,
) -> None:
    """Turn notes, an Anki deck or a Quizlet export into a bank file."""
    from llmquiz.commands.importing import run_import
    from llmquiz.ui import render

    outcome = run_import(file, topic, output, dry_run, context(ctx).home)
    for warning in outcome.result.warnings:
        warn(warning)
    if outcome.bank_yaml is None:
        console = render.make_console()
        console.print(render.import_table(outcome.result, console))
    elif outcome.written_to is None:
        typer.echo(outcome.bank_yaml, nl=False)
    else:
        count, kind = len(outcome.result.items), outcome.result.format
        wrote = f"Wrote {plural(count, 'question')} ({kind}) to {outcome.written_to}"
        typer.echo(terminal_line(wrote), err=True)


@app.command("export")
def export_bank(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write.")],
    topic: opt.TopicOpt = None,
    fmt: Annotated[
        ExportFormat | None,
        typer.Option("--format", help="apkg (Anki package) or tsv; default: from the file name."),
    ] = None,
) -> None:
    """Write the bank as an Anki package (type-in-answer cards) or a tab-separated file."""
    from llmquiz.commands.exporting import run_export
    from llmquiz.ui import render

    outcome = run_export(context(ctx), topic or [], fmt.value if fmt else None, output)
    typer.echo(render.export_summary(outcome), err=True)


@app.command()
def calibrate(
    ctx: typer.Context,
    csv_file: Annotated[
        Path, typer.Argument(metavar="CSV", help="question, reference, answer, gold columns.")
    ],
    gold: opt.GoldOpt = "score",
    as_json: opt.JsonOpt = False,
) -> None:
    """Agreement of the grader with human grades."""
    from llmquiz.commands.examining import run_calibration
    from llmquiz.ui.render import progress_bar

    with progress_bar("Grading", enabled=not as_json) as progress:
        calibration = run_calibration(context(ctx), csv_file, gold, progress)
    if as_json:
        emit_json(calibration.to_dict())
        return
    from llmquiz.ui.render import calibration_text

    typer.echo(calibration_text(calibration.result))


opt.use_plain_usage(app, bank_app)


def main() -> None:
    """Console-script entry point."""
    tolerant_streams()
    try:
        app(prog_name="llmquiz")
    except KeyboardInterrupt:  # pragma: no cover - outside a command
        end_process(EXIT_INTERRUPTED)
    except SystemExit as done:  # how click ends every run
        if not isinstance(done.code, int | None):
            raise  # a message to print: sys.exit's own handling
        end_process(done.code or 0)
    end_process(0)
