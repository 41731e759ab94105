"""Speed of the parts a learner waits for: start-up, first question, grading, scale.

Run from the repository root with the project installed:

    python benchmarks/bench_cli.py            # all measurements, about two minutes
    python benchmarks/bench_cli.py --quick    # fewer repetitions

It prints one line per measurement with its budget from the speed issue.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
LIGHT = [
    ["--help"],
    ["topics"],
    ["list"],
    ["show", "rag-what-is"],
    ["history"],
    ["stats"],
    ["bank", "validate"],
]


def llmquiz_command() -> list[str]:
    return [sys.executable, "-m", "llmquiz"]


def env_for(home: Path) -> dict[str, str]:
    return {**os.environ, "LLMQUIZ_HOME": str(home), "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def kept_bank_folder(home: Path) -> Path:
    """Where a data folder keeps its parsed bank files (bankcache.py)."""
    from llmquiz.bankcache import ParsedBankCache
    from llmquiz.paths import cache_dir

    return ParsedBankCache(cache_dir(home)).folder


def kept_judgements_folder(home: Path) -> Path:
    """Where a data folder keeps the claim judge's readings (grading/judgecache.py)."""
    from llmquiz.grading.judgecache import FOLDER_NAME
    from llmquiz.paths import cache_dir

    return cache_dir(home) / FOLDER_NAME


def wall(args: list[str], home: Path, runs: int, *, parse: bool = False) -> float:
    """Median seconds of `runs` fresh processes; `parse`: the bank's kept parsed files deleted first."""
    times = []
    for _ in range(runs):
        if parse:
            shutil.rmtree(kept_bank_folder(home), ignore_errors=True)
        started = time.perf_counter()
        subprocess.run([*llmquiz_command(), *args], env=env_for(home), capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_question_seconds(home: Path, runs: int) -> float:
    """From process start to the first question on stdout (the model loads meanwhile)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [*llmquiz_command(), "quiz", "--count", "3"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env_for(home),
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if "Question 1" in line:
                times.append(time.perf_counter() - started)
                break
        process.kill()
        process.wait()
    return statistics.median(times)


def grading_latency_p95(home: Path, count: int) -> tuple[float, float]:
    """Seconds per single-answer grade once the model is ready: (p50, p95)."""
    from llmquiz.bank import load_bank
    from llmquiz.grading import make_grader
    from llmquiz.paths import shipped_bank_dir

    bank = load_bank([shipped_bank_dir()])
    questions = [q for q in bank.questions if q.kind == "free"]
    rng = random.Random(1)
    picked = rng.sample(questions, count)
    grader = make_grader("semantic", home=home)
    grader.load()
    grader.prepare(picked)
    times = []
    for q in picked:
        answer = " ".join(q.key_points[: max(1, len(q.key_points) // 2)])
        started = time.perf_counter()
        grader.grade(q, answer)
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def big_bank(folder: Path, questions: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    per_topic = 500
    for t in range(questions // per_topic):
        topic = f"gen{t:02d}"
        data = {
            "topic": topic,
            "title": f"Generated topic {t}",
            "questions": [
                {
                    "id": f"{topic}-q{i}",
                    "question": f"What is concept {i} of topic {t}?",
                    "answer": f"Concept {i} is a made-up idea. It exists to test loading speed.",
                    "key_points": [f"concept {i} is made up", "it tests loading speed"],
                    "difficulty": "medium",
                    "tags": ["generated"],
                    "sources": [],
                }
                for i in range(per_topic)
            ],
        }
        (folder / f"{topic}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def big_history(home: Path, records: int) -> None:
    """A history as llmquiz writes it: every field of every record, one answer each 5 minutes."""
    from llmquiz.bank import load_bank
    from llmquiz.history import answer_record
    from llmquiz.paths import shipped_bank_dir

    questions = load_bank([shipped_bank_dir()]).questions
    rng = random.Random(2)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    home.mkdir(parents=True, exist_ok=True)
    with (home / "history.jsonl").open("w", encoding="utf-8") as handle:
        for n in range(records):
            question = rng.choice(questions)
            score = rng.randint(0, 100)
            record = answer_record(
                question,
                "an answer of a few words",
                session=f"s{n // 20}",
                mode="quiz",
                score=score,
                verdict="correct" if score >= 70 else "partial" if score >= 40 else "incorrect",
                missed=question.key_points[:1] if score < 70 else [],
                grader="semantic:all-MiniLM-L6-v2",
                when=start + timedelta(minutes=5 * n),
                self_rating=rng.choice([None, 1, 2, 3, 4, 5]),
                override=rng.choice([None] * 19 + ["correct"]),
                elapsed_s=round(rng.uniform(5, 90), 1),
            )
            handle.write(json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")


def report(name: str, value: float, budget: float, unit: str = "s") -> None:
    verdict = "ok" if value <= budget else "OVER"
    print(f"{name:<46} {value:8.3f} {unit}   budget {budget:g} {unit}   {verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        # warm the embedding cache and the model verification once, as a second run would find them
        subprocess.run([*llmquiz_command(), "grade", "rag-what-is", "warm-up"], env=env_for(home),
                       capture_output=True, check=False)  # fmt: skip
        for command in LIGHT:
            report("llmquiz " + " ".join(command), wall(command, home, runs), 0.3)
        report("quiz: process start to first question", first_question_seconds(home, runs), 0.5)
        p50, p95 = grading_latency_p95(home, 50)
        report("grading one answer, model ready (p50)", p50 * 1000, 100, "ms")
        report("grading one answer, model ready (p95)", p95 * 1000, 100, "ms")

        bank_dir = big_bank(Path(tmp) / "bank", 10_000)
        validate = ["--bank", str(bank_dir), "bank", "validate"]
        report("bank validate, 10,000 generated questions", wall(validate, home, runs, parse=True), 2.0)
        report("... the same, parsed files kept", wall(validate, home, runs), 2.0)
        history_home = Path(tmp) / "big-history"
        big_history(history_home, 100_000)
        report("stats --json, 100,000 records", wall(["stats", "--json"], history_home, runs), 1.0)


if __name__ == "__main__":
    main()
