"""Where the wait for the first grade goes, step by step (the steps the spinner names).

    python benchmarks/bench_first_use.py [--repeat 3] [--json]

Each run is a fresh process, like `llmquiz quiz` answered at once: it loads the bank, builds
the semantic grader, loads it while listening to its steps (llmquiz.grading.progress), then
grades one answer and a second one. "first use" runs start from an empty data folder (the
model's sha256 is checked and the bank's texts are embedded for the first time); "later" runs
reuse one folder. The operating system's file cache stays warm throughout: a first use right
after installing also reads the weights (and the libraries) from disk, which this cannot repeat.
Printed: the median seconds of each part, per kind of run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import kept_judgements_folder

REPO = Path(__file__).resolve().parents[1]

ONE_RUN = """
import json, sys, time
started = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter() - started))
from pathlib import Path
from llmquiz.grading import progress
from llmquiz.context import Context
settings = Context(home_override=Path(sys.argv[1]))
bank = settings.bank()
grader = settings.grader()
question = bank.question("rag-what-is")
with progress.listening(mark):
    grader.load()
    mark("grade 1")
    grader.grade(question, "RAG retrieves documents at query time and gives them to the model as context.")
    mark("grade 2")
    grader.grade(question, "It retrieves passages and puts them in the prompt.")
    mark("end")
print(json.dumps(marks))
"""

# each part runs from its step's mark to the next mark (the model step resumes after verify)
PARTS = {
    "start": "python start, imports, bank loaded",
    "model": "load the embedding model (numpy on cpu; torch on cuda)",
    "verify": "verify the weights' sha256 (first use only)",
    "judge": "load the claim judge",
    "grade 1": "first grade, bank texts in the cache",
    "embed": "first grade, embedding its bank texts (first use)",
    "grade 2": "second grade",
}


def parts(marks: list[tuple[str, float]]) -> dict[str, float]:
    """Seconds spent in each part."""
    spent: dict[str, float] = {}
    previous_name, previous_at = "start", 0.0
    for name, at in marks:
        spent[previous_name] = spent.get(previous_name, 0.0) + at - previous_at
        previous_name, previous_at = name, at
    return spent


def run(home: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", ONE_RUN, str(home)], capture_output=True, text=True, check=True, cwd=REPO
    )
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    return {**parts([(name, at) for name, at in marks]), "total": marks[-1][1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {"first use": [], "later": []}
    with tempfile.TemporaryDirectory() as tmp:
        later = Path(tmp) / "later"
        run(later)  # this folder's first use: not counted
        for index in range(args.repeat):
            results["first use"].append(run(Path(tmp) / f"fresh-{index}"))
            shutil.rmtree(kept_judgements_folder(later), ignore_errors=True)  # the judge reads again
            results["later"].append(run(later))
    medians = {
        kind: {key: round(statistics.median(r.get(key, 0.0) for r in runs), 2) for key in [*PARTS, "total"]}
        for kind, runs in results.items()
    }
    if args.json:
        print(json.dumps(medians, indent=2))
        return 0
    print(f"{'seconds (median of ' + str(args.repeat) + ')':<52}{'first use':>10}{'later':>10}")
    for key, label in [*PARTS.items(), ("total", "total, process start to the second grade done")]:
        print(f"{label:<52}{medians['first use'][key]:>10.2f}{medians['later'][key]:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
