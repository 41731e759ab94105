"""`llmquiz stats --json` over a long history beside a plain `json.loads` pass over the same file.

Run from the repository root with the project installed:

    python benchmarks/bench_stats_vs_json.py                  # 100,000 records, median of 5
    python benchmarks/bench_stats_vs_json.py --records 20000 --repeat 3

Both are timed as whole processes, one after the other, on one history written as llmquiz
writes it (`bench_cli.big_history`): the plain pass is a Python process that reads the file
and calls `json.loads` on every line. `stats --json` is timed twice: the first run after the
card cache is deleted (every answer replayed through fsrs), then with the cache in place.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import big_history, env_for, llmquiz_command

PLAIN_PASS = (
    "import json, sys\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    records = [json.loads(line) for line in f if line.strip()]\n"
)


def seconds(command: list[str], home: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env_for(home), capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        big_history(home, args.records)
        history = str(home / "history.jsonl")
        plain = [sys.executable, "-c", PLAIN_PASS, history]
        stats = [*llmquiz_command(), "stats", "--json"]
        seconds(plain, home)  # the file into the page cache
        shutil.rmtree(home / "cache", ignore_errors=True)
        cold_plain, cold = seconds(plain, home), seconds(stats, home)
        plains, warms = [], []
        for _ in range(args.repeat):
            plains.append(seconds(plain, home))
            warms.append(seconds(stats, home))
        plain_s, warm_s = statistics.median(plains), statistics.median(warms)
        print(f"history: {args.records:,} records, {Path(history).stat().st_size / 1e6:.1f} MB")
        print(f"plain json.loads pass            {plain_s:.3f} s (median of {args.repeat})")
        ratio = warm_s / plain_s
        print(f"stats --json, card cache kept    {warm_s:.3f} s (median of {args.repeat})  {ratio:.2f}x")
        print(f"stats --json, after a cache loss {cold:.3f} s (plain pass beside it {cold_plain:.3f} s)  "
              f"{cold / cold_plain:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
