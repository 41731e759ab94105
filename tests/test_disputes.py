"""Disputes ('I was right' / 'I was wrong') change figures, and the screen says where they did."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from llmquiz.cli import app
from llmquiz.history import append_record
from llmquiz.stats import compute_stats

from .records import answer
from .test_stats import HISTORY, NOW, day, make_bank

runner = CliRunner()


def test_each_figure_also_comes_as_the_grader_gave_it() -> None:
    stats = compute_stats(make_bank(), HISTORY, NOW)  # rag-b: 50, disputed "I was right" (100)
    rag, sft = stats.topics
    assert (rag.mean_score, rag.grader_mean_score) == (74.0, 64.0)
    assert (rag.mastery, rag.grader_mastery) == (66.7, 50.0)
    assert (sft.mean_score, sft.grader_mean_score, sft.mastery, sft.grader_mastery) == (
        70.0,
        70.0,
        70.0,
        70.0,
    )
    weak = {w.id: (w.mean_score, w.grader_mean_score) for w in stats.weakest}
    assert weak["rag-b"] == (65.0, 40.0) and weak["rag-a"] == (80.0, 80.0)
    assert [(p.mean_score, p.grader_mean_score) for p in stats.trend][1] == (80.0, 55.0)


def test_stats_and_topics_say_where_a_dispute_changed_a_figure(llmquiz_home: Path) -> None:
    append_record(llmquiz_home, answer("rag-what-is", day(0), 94, override="incorrect"))
    append_record(llmquiz_home, answer("rag-pipeline-steps", day(0, 1), 55, override="correct"))
    append_record(llmquiz_home, answer("chunking-overlap", day(0, 2), 40, topic="chunking"))
    text = runner.invoke(app, ["stats", "--topic", "rag"]).stdout
    assert "50 (grader 74, disputed)" in text  # the topic's mean: (0 + 100) / 2, not (94 + 55) / 2
    weakest = text.split("Weakest questions")[1]
    assert "rag-what-is" in weakest and "0 (grader 94, disputed)" in weakest
    assert "100 (grader 55, disputed)" in weakest
    assert "(last day: 50 (grader 74, disputed), 2 answers)" in text
    chunking = runner.invoke(app, ["stats", "--topic", "chunking"]).stdout
    assert "disputed)" not in chunking  # nothing disputed there: the plain figure
    topics = runner.invoke(app, ["topics"]).stdout
    (rag_row,) = [line for line in topics.splitlines() if line.startswith("| rag ")]
    assert "% (grader " in rag_row and "%, disputed)" in rag_row


def test_json_keeps_its_keys_and_adds_the_grader_s_figures(llmquiz_home: Path) -> None:
    append_record(llmquiz_home, answer("rag-what-is", day(0), 94, override="incorrect"))
    data = json.loads(runner.invoke(app, ["stats", "--json", "--topic", "rag"]).stdout)
    (topic,) = data["topics"]
    assert {"topic", "answered", "mean_score", "mastery", "due"} <= set(topic)
    assert (topic["mean_score"], topic["grader_mean_score"]) == (0.0, 94.0)
    assert (data["weakest"][0]["mean_score"], data["weakest"][0]["grader_mean_score"]) == (0.0, 94.0)
    assert data["trend"][0]["grader_mean_score"] == 94.0
    rows = json.loads(runner.invoke(app, ["topics", "--json"]).stdout)
    rag = next(r for r in rows if r["topic"] == "rag")
    assert {"topic", "title", "questions", "answered", "mastery", "due"} <= set(rag)
    assert rag["mastery"] == 0 and rag["grader_mastery"] > 0
