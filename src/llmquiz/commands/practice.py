"""quiz, drill and review: build a plan, run it through the learner's UI, return the summary."""

from __future__ import annotations

import random
from collections.abc import Sequence

from llmquiz.bank import Question
from llmquiz.commands.browsing import Warn, check_privacy, history_records
from llmquiz.context import Context
from llmquiz.grading_service import GradingService
from llmquiz.history import utc_now
from llmquiz.historyfile import refuse_unsafe_history
from llmquiz.session import (
    ListSource,
    Session,
    SessionPlan,
    SessionSummary,
    SessionUI,
    pick_questions,
)


def quiz_plan(
    context: Context,
    topics: Sequence[str],
    count: int,
    difficulty: str | None,
    seed: int | None,
    on_warning: Warn,
) -> SessionPlan:
    check_privacy(context, on_warning)  # a quiz only appends to the history: it never reads it
    questions = pick_questions(context.bank(), topics, count, difficulty, random.Random(seed))
    return SessionPlan(mode="quiz", source=ListSource(questions), total=len(questions), questions=questions)


def drill_plan(
    context: Context, topic: str, count: int, on_warning: Warn, seed: int | None = None
) -> SessionPlan:
    from llmquiz.scheduler import DrillQueue, drill_order

    questions = context.bank().topic(topic).questions
    records = history_records(context, on_warning)
    ordered = drill_order(questions, records, utc_now(), random.Random(seed), context.cards())
    return SessionPlan(mode="drill", source=DrillQueue(ordered, count), total=None, questions=ordered[:count])


def review_plan(context: Context, count: int, on_warning: Warn) -> SessionPlan | None:
    from llmquiz.scheduler import due_questions

    records = history_records(context, on_warning)
    due = due_questions(context.bank().questions, records, utc_now(), context.cards())[:count]
    if not due:
        return None
    return SessionPlan(mode="review", source=ListSource(due), total=len(due), questions=due)


def start_grading(context: Context, questions: Sequence[Question], *, allow_fallback: bool) -> GradingService:
    """Start loading the model in the background; interactive modes may fall back to lexical."""
    fallback = (lambda: context.grader("lexical")) if allow_fallback else None
    return GradingService(context.grader(), questions, fallback=fallback).start()


def run_practice(context: Context, plan: SessionPlan, ui: SessionUI) -> SessionSummary:
    """Run a plan with the model loading in the background; every answer lands in the history."""
    refuse_unsafe_history(context.home)  # before anything is asked
    service = start_grading(context, plan.questions, allow_fallback=True)
    return Session(plan, ui, service, context.home).run()
