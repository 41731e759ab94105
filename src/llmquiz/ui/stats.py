"""The `stats` screen: mastery per topic, a trend chart, weakest questions, streak, confidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from llmquiz.ui.render import disputed, fancy, safe, score_bar, table_box
from llmquiz.wording import plural

if TYPE_CHECKING:
    from rich.console import Console

    from llmquiz.stats import Stats

SPARKS = "▁▂▃▄▅▆▇█"
TREND_DAYS = 30


def trend_chart(stats: Stats, console: Console) -> Text:
    """One bar per day (last 30 days with answers): height is the mean score."""
    points = list(stats.trend)[-TREND_DAYS:]
    if not points:
        return Text("No answers yet.", style="dim")
    chars = SPARKS if fancy(console) else "_.-=+*#@"
    top = len(chars) - 1
    bars = "".join(chars[max(0, min(top, int(p.mean_score / 100 * len(chars))))] for p in points)
    return Text.assemble(
        ("Score trend ", "bold"),
        f"{points[0].date} ",
        (bars, "cyan"),
        f" {points[-1].date}  (last day: {disputed(points[-1].mean_score, points[-1].grader_mean_score)}, "
        f"{plural(points[-1].answered, 'answer')})",
    )


def topics_mastery(stats: Stats, console: Console) -> Table:
    table = Table(title="Mastery per topic", box=table_box(console))
    table.add_column("topic")
    table.add_column("answered", justify="right")
    table.add_column("mean", justify="right")
    table.add_column("mastery")
    table.add_column("due", justify="right")
    table.add_column("disputed", justify="right")
    for t in stats.topics:
        bar = score_bar(round(t.mastery), console, width=12)
        if disputed(t.mastery, t.grader_mastery) != disputed(t.mastery, None):
            bar.append(f" (grader {t.grader_mastery:.0f}, disputed)")
        table.add_row(
            safe(t.topic),
            f"{t.answered}/{t.questions}",
            disputed(t.mean_score, t.grader_mean_score),
            bar,
            str(t.due),
            f"{t.override_rate:.0%}" if t.override_rate is not None else "-",
        )
    return table


def weakest_table(stats: Stats, console: Console) -> Table:
    table = Table(title="Weakest questions", box=table_box(console))
    table.add_column("question")
    table.add_column("mean score", justify="right")
    for weak in stats.weakest:
        table.add_row(safe(weak.id), disputed(weak.mean_score, weak.grader_mean_score))
    return table


def stats_screen(stats: Stats, console: Console) -> Group:
    """The whole `stats` screen, one part a line."""
    weakest = [weakest_table(stats, console)] if stats.weakest else []
    return Group(
        topics_mastery(stats, console),
        trend_chart(stats, console),
        *weakest,
        f"Day streak: {stats.streak_days}",
        confidence_line(stats),
    )


def confidence_line(stats: Stats) -> str:
    c = stats.confidence
    if not c.pairs or c.mean_self is None or c.mean_auto is None:
        return "Self-ratings: none yet (rate yourself 1-5 after each answer)."
    return (
        f"Self-ratings: {plural(c.pairs, 'answer')}; you rated yourself {c.mean_self:.0f} on average vs. "
        f"{c.mean_auto:.0f} from the grader; over-confident {c.over_confident}, "
        f"under-confident {c.under_confident}."
    )
