"""Rich renderings of core results; plain text when NO_COLOR is set or stdout is not a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from llmquiz.exporting import PARENT_DECK
from llmquiz.grading.result import CORRECT_AT, PARTIAL_AT
from llmquiz.safetext import terminal_line, terminal_text
from llmquiz.wording import plural

if TYPE_CHECKING:
    from llmquiz.bank import Question, Topic
    from llmquiz.commands.browsing import QuestionRow, TopicRow
    from llmquiz.commands.exporting import ExportOutcome
    from llmquiz.exam import ExamReport
    from llmquiz.grading import GradeResult
    from llmquiz.grading.calibrate import CalibrationResult
    from llmquiz.history import HistoryRecord
    from llmquiz.importing import ImportResult
    from llmquiz.session import SessionSummary

VERDICT_STYLES = {
    "correct": "bold green",
    "partial": "bold yellow",
    "incorrect": "bold red",
    "unanswered": "dim",
    "unrated": "dim",
    "ungraded": "dim",
}


def make_console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr): plain text with NO_COLOR or when not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    plain = not terminal or "NO_COLOR" in os.environ
    return Console(
        file=stream,
        color_system=None if plain else "auto",
        no_color=plain,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        width=None if terminal else 100,
    )


def fancy(console: Console) -> bool:
    """Box drawing and block characters: in a UTF-8 terminal without NO_COLOR; else ASCII."""
    return console.is_terminal and not console.no_color and console.encoding.lower().startswith("utf")


def safe(text: str, style: str = "") -> Text:
    """Text that came from a file, its control characters shown as escapes (see safetext)."""
    return Text(terminal_text(text), style=style)


def safe_title(text: str) -> str:
    """A panel or table title from file-borne parts: one line, no controls, no markup."""
    return escape(terminal_line(text))


def table_box(console: Console) -> box.Box:
    return box.ROUNDED if fancy(console) else box.ASCII


def loading_label(step: str | None, first_use: bool, ready: bool = False) -> str:
    """What the learner waits for while the grader loads or grades (steps: grading.progress)."""
    if step == "verify":
        return "Checking the model's weights (the first time after installing only: their sha256)…"
    if step == "judge":
        return "Loading the claim judge (it checks each claim of the answer against the key points)…"
    if step == "embed":
        return "Reading the bank's answers with the model (the first time only: kept for next time)…"
    if ready:
        return "Grading…"
    if first_use:
        return "Loading the grading model (the first time, its weights are read from disk)…"
    return "Loading the grading model…"


def disputed(value: float | None, grader: float | None, unit: str = "") -> str:
    """A figure, and where a dispute changed it what the grader's scores give: '0 (grader 94, disputed)'."""
    if value is None:
        return "-"
    shown = f"{value:.0f}{unit}"
    if grader is not None and f"{grader:.0f}" != f"{value:.0f}":
        return f"{shown} (grader {grader:.0f}{unit}, disputed)"
    return shown


def wrong_and_true(lead: str | tuple[str, str], claim: str, correction: str) -> Text:
    """A wrong claim in italics and what is true instead: "<lead><claim> — actually: <correction>"."""
    return Text.assemble(lead, (terminal_text(claim), "italic"), " — actually: ", terminal_text(correction))


def verdict_text(verdict: str) -> Text:
    return safe(verdict, style=VERDICT_STYLES.get(verdict, ""))


def record_score(record: HistoryRecord) -> str:
    """A recorded answer's score; '-' for one without (grading cut short, unrated, sent too late)."""
    from llmquiz.history import CUT_OFF, UNGRADED, UNRATED  # loaded already: there is a record

    return "-" if record.verdict in (UNGRADED, UNRATED, CUT_OFF) else str(record.score)


def score_bar(score: int, console: Console, width: int = 20) -> Text:
    filled = round(score / 100 * width)
    full, empty = ("█", "░") if fancy(console) else ("#", ".")
    colour = "green" if score >= CORRECT_AT else "yellow" if score >= PARTIAL_AT else "red"
    return Text.assemble((full * filled, colour), (empty * (width - filled), "dim"), f" {score:3d}/100")


def question_panel(
    question: Question, position: int, total: int | None, console: Console, extra: str = ""
) -> Panel:
    counter = f"{position}/{total}" if total else f"{position}"
    title = f"Question {counter} · {question.topic} · {question.difficulty}{extra}"
    body: list[RenderableType] = [safe(question.question, style="bold")]
    if question.kind == "choice":
        body.extend(safe(f"  {i + 1}. {choice}") for i, choice in enumerate(question.choices))
        body.append(Text("Answer with the number of your choice.", style="dim"))
    elif question.kind == "open":
        body.append(Text("Open question: no single right answer; you rate yourself.", style="dim"))
    return Panel(Group(*body), title=safe_title(title), title_align="left", box=table_box(console))


def feedback(question: Question, result: GradeResult | None, console: Console) -> RenderableType:
    parts: list[RenderableType] = []
    if result is not None:
        parts.append(Text.assemble(score_bar(result.score, console), "  ", verdict_text(result.verdict)))
        parts.extend(
            wrong_and_true(("Not right: ", "bold red"), w.claim, w.correction) for w in result.wrong_claims
        )
        if result.missed:
            parts.append(Text("What you missed:", style="bold"))
            parts.extend(safe(f"  - {point}") for point in result.missed)
        elif question.key_points and result.verdict == "correct":
            parts.append(Text("You covered every key point.", style="green"))
    elif question.key_points:
        parts.append(Text("A complete answer covers:", style="bold"))
        parts.extend(safe(f"  - {point}") for point in question.key_points)
    parts.append(Text("Reference answer:", style="bold"))
    parts.append(safe(question.answer))
    return Panel(Group(*parts), title="Feedback", title_align="left", box=table_box(console))


def session_summary(summary: SessionSummary, console: Console) -> RenderableType:
    table = Table(title=f"Session summary ({summary.mode})", box=table_box(console))
    table.add_column("question")
    table.add_column("topic")
    table.add_column("score", justify="right")
    table.add_column("verdict")
    table.add_column("you", justify="right")
    for outcome in summary.outcomes:
        record = outcome.record
        you = str(record.self_rating) if record.self_rating else ""
        if record.override:
            you += f" (disputed: {record.override})"
        table.add_row(
            safe(record.question_id),
            safe(record.topic),
            record_score(record),
            verdict_text(record.verdict),
            Text(you),
        )
    mean = summary.mean_score
    caption = f"{len(summary.outcomes)} answered"
    if mean is not None:
        caption += f", mean score {mean:.0f}"
    table.caption = caption
    return table


def topics_table(rows: Sequence[TopicRow], console: Console) -> Table:
    table = Table(box=table_box(console))
    for column, justify in (
        ("topic", "left"),
        ("title", "left"),
        ("questions", "right"),
        ("answered", "right"),
        ("mastery", "right"),
        ("due", "right"),
    ):
        table.add_column(column, justify=justify, no_wrap=column == "mastery")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            safe(row.topic),
            safe(row.title),
            str(row.questions),
            str(row.answered),
            disputed(row.mastery, row.grader_mastery, "%"),
            str(row.due),
        )
    return table


def questions_listing(questions: Iterable[QuestionRow], console: Console) -> Text:
    """One line per question (a table of hundreds of rows is slow to lay out)."""
    rows = list(questions)
    width = max((len(q.id) for q in rows), default=0)
    text = Text()
    for q in rows:
        text.append(f"{q.id:<{width}}", style="cyan")
        text.append(f"  {q.kind:<6}  {q.difficulty:<6}  ", style="dim")
        text.append(terminal_line(q.question) + "\n")
    return text


def question_detail(question: Question, topic: Topic, console: Console) -> RenderableType:
    parts: list[RenderableType] = [safe(question.question, style="bold"), Text("")]
    if question.kind == "choice":
        for i, choice in enumerate(question.choices):
            mark = "*" if i == question.correct else " "
            parts.append(safe(f" {mark} {i + 1}. {choice}"))
        parts.append(Text(""))
    if question.kind == "short":
        parts.append(safe("Accepted answers: " + ", ".join(question.accept)))
    parts += [Text("Reference answer:", style="bold"), safe(question.answer)]
    if question.misconceptions:
        parts.append(Text("Common mistakes:", style="bold"))
        parts.extend(wrong_and_true("  - ", w.claim, w.correction) for w in question.misconceptions)
    if question.key_points:
        parts.append(Text("Key points:", style="bold"))
        parts.extend(safe(f"  - {point}") for point in question.key_points)
    if question.keywords:
        parts.append(safe("Keywords: " + ", ".join(question.keywords)))
    if question.tags:
        parts.append(safe("Tags: " + ", ".join(question.tags), style="dim"))
    sources = ", ".join(question.sources) or "none"
    parts.append(safe(f"Sources: {sources}", style="dim"))
    parts.append(safe(f"Defined at {question.file}:{question.line}", style="dim"))
    title = f"{question.id} · {topic.title} · {question.kind} · {question.difficulty}"
    return Panel(Group(*parts), title=safe_title(title), title_align="left", box=table_box(console))


def history_table(records: Sequence[HistoryRecord], console: Console) -> Table:
    table = Table(box=table_box(console))
    for column in ("when (UTC)", "mode", "question", "score", "verdict", "self", "answer"):
        table.add_column(column, justify="right" if column in ("score", "self") else "left")
    for r in records:
        answer = r.answer if len(r.answer) <= 60 else r.answer[:57] + "..."
        table.add_row(
            safe(r.ts.replace("T", " ").rstrip("Z")),
            safe(r.mode),
            safe(r.question_id),
            record_score(r),
            verdict_text(r.verdict),
            str(r.self_rating or ""),
            safe(answer),
        )
    return table


def exam_report(report: ExamReport, console: Console) -> RenderableType:
    table = Table(title="Exam report", box=table_box(console))
    table.add_column("question", no_wrap=True)
    table.add_column("topic")
    table.add_column("score", justify="right")
    table.add_column("verdict")
    table.add_column("missed")
    for item in report.items:
        table.add_row(
            safe(item.question.id),
            safe(item.question.topic),
            str(item.score),
            verdict_text(item.verdict),
            safe("; ".join(item.missed)),
        )
    outcome = Text("PASSED", style="bold green") if report.passed else Text("FAILED", style="bold red")
    line = Text.assemble(
        outcome,
        f": score {report.score} (pass mark {report.pass_mark:g}), "
        f"{len(report.items) - report.unanswered}/{len(report.items)} answered",
    )
    if report.timed_out:
        line.append(" — time ran out; unanswered questions count 0")
    return Group(table, line)


@contextmanager
def loading_status(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the grader's loading step; yields the `on_step` callback."""
    console = make_console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda step: None
        return
    status = console.status(loading_label(None, False))
    first_use = False

    def on_step(step: str) -> None:
        nonlocal first_use
        first_use = first_use or step == "verify"
        status.update(loading_label(step, first_use))
        status.start()  # shown from the first step on: nothing shows when nothing loads

    try:
        yield on_step
    finally:
        status.stop()


@contextmanager
def progress_bar(label: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr; yields the `progress(done, total)` callback the core calls."""
    console = make_console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _figure(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"  # NaN: gold grades that never vary


def calibration_text(result: CalibrationResult) -> str:
    return "\n".join(
        [
            f"answers graded        {result.n}",
            f"Pearson               {_figure(result.pearson)}",
            f"Spearman              {_figure(result.spearman)}",
            f"ROC AUC (gold >= 60%) {_figure(result.auc)}",
            f"suggested pass mark   {result.suggested_pass_mark}",
            f"answers per second    {result.answers_per_second:.0f}",
        ]
    )


def export_summary(outcome: ExportOutcome) -> str:
    where = f"{plural(outcome.notes, 'note')} ({outcome.format}) to {outcome.written_to}"
    if len(outcome.decks) == 1:
        return f"Wrote {where}, deck {outcome.decks[0].name}"
    return f"Wrote {where}, {len(outcome.decks)} decks under {PARENT_DECK}"


def import_table(result: ImportResult, console: Console) -> Table:
    table = Table(
        title=safe_title(
            f"{result.source_file}: {plural(len(result.items), 'question')} ({result.format}), "
            f"topic {result.topic}"
        ),
        box=table_box(console),
    )
    table.add_column("note" if result.format == "anki" else "line", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("key points", justify="right", no_wrap=True)
    # the id goes under its question: ids run long, and a column of them squeezed the questions
    table.add_column("question / id")
    for item in result.items:
        question = safe(item.question)
        question.append(f"\n{terminal_line(item.id)}", style="dim")
        table.add_row(safe(item.where), item.kind, str(len(item.key_points)), question)
    return table
