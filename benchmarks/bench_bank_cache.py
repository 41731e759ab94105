"""What the parsed-bank cache saves: commands run with it kept and with it deleted, alternating.

    python benchmarks/bench_bank_cache.py [--repeat 7]

Each command runs in a fresh process over the shipped bank, once with `cache/banks/`
deleted just before (every bank file parsed, as before the cache) and once with it kept,
alternating, so that the machine's load falls on both alike; medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import env_for, llmquiz_command, wall

COMMANDS = [
    ["topics"],
    ["list"],
    ["show", "rag-what-is"],
    ["stats"],
    ["--grader", "lexical", "grade", "rag-what-is", "Retrieval adds documents to the prompt."],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmquiz-bankcache-") as tmp:
        home = Path(tmp)
        print(f"{'command':60} {'parsed':>8} {'cached':>8}")
        for command in COMMANDS:
            # once checked (a command that fails is not timed), warming the file system and the cache
            subprocess.run([*llmquiz_command(), *command], env=env_for(home), capture_output=True, check=True)
            parsed, cached = [], []
            for _ in range(args.repeat):  # one of each in turn: the machine's load falls on both
                parsed.append(wall(command, home, 1, parse=True))
                cached.append(wall(command, home, 1))
            label = "llmquiz " + " ".join(command)
            print(f"{label[:60]:60} {statistics.median(parsed):7.3f}s {statistics.median(cached):7.3f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
