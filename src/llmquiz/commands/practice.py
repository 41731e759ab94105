"""quiz, drill and review: build a plan, run it in the terminal, summarise."""

from __future__ import annotations

import random
from collections.abc import Sequence

from llmquiz import render
from llmquiz.bank import Bank, Question
from llmquiz.commands.browsing import history_records
from llmquiz.errors import EXIT_INTERRUPTED, EXIT_OK, warn
from llmquiz.history import utc_now
from llmquiz.prompts import TerminalUI
from llmquiz.session import GradingService, ListSource, Session, SessionPlan, pick_questions
from llmquiz.settings import Settings


def quiz_plan(
    bank: Bank, topics: Sequence[str], count: int, difficulty: str | None, seed: int | None
) -> SessionPlan:
    questions = pick_questions(bank, topics, count, difficulty, random.Random(seed))
    return SessionPlan(mode="quiz", source=ListSource(questions), total=len(questions), questions=questions)


def drill_plan(settings: Settings, topic: str, count: int, seed: int | None = None) -> SessionPlan:
    from llmquiz.scheduler import DrillQueue, drill_order

    questions = settings.bank().topic(topic).questions
    records = history_records(settings)
    ordered = drill_order(questions, records, utc_now(), random.Random(seed))
    return SessionPlan(mode="drill", source=DrillQueue(ordered, count), total=None, questions=ordered[:count])


def review_plan(settings: Settings, count: int) -> SessionPlan | None:
    from llmquiz.scheduler import due_questions

    records = history_records(settings)
    due = due_questions(settings.bank().questions, records, utc_now())[:count]
    if not due:
        return None
    return SessionPlan(mode="review", source=ListSource(due), total=len(due), questions=due)


def start_grading(
    settings: Settings, questions: Sequence[Question], *, allow_fallback: bool
) -> GradingService:
    """Start loading the model in the background; interactive modes may fall back to lexical."""
    fallback = (lambda: settings.grader("lexical")) if allow_fallback else None
    return GradingService(settings.grader(), questions, fallback=fallback).start()


def run_practice(settings: Settings, plan: SessionPlan) -> int:
    """Run an interactive plan in the terminal; return the exit code."""
    console, err = render.make_console(), render.make_console(stderr=True)
    service = start_grading(settings, plan.questions, allow_fallback=True)
    summary = Session(plan, TerminalUI(console, err), service, settings.home).run()
    for warning in summary.warnings:
        warn(warning)
    console.print()
    if summary.outcomes:
        console.print(render.session_summary(summary, console))
    if summary.interrupted:
        err.print(f"Interrupted: {len(summary.outcomes)} answers kept in the history.")
        return EXIT_INTERRUPTED
    return EXIT_OK
