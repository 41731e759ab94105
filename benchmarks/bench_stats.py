"""Where `stats` over a long history spends its time, part by part, in process.

Run from the repository root with the project installed:

    python benchmarks/bench_stats.py              # 100,000 records, best of 5
    python benchmarks/bench_stats.py --records 20000 --repeat 3

It writes a history as llmquiz does (`bench_cli.big_history`) into a temporary folder and
prints the best time of each part: reading the history, grouping the answers by question,
replaying them through FSRS (without the card cache and with it), the tally, and the whole
of `compute_stats`, the collector paused as `llmquiz stats` pauses it. `bench_cli.py` times
the command itself.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_cli import big_history

from llmquiz import stats
from llmquiz.cardcache import CardCache
from llmquiz.history import gc_paused, read_history, utc_now
from llmquiz.paths import shipped_bank_dir
from llmquiz.scheduler import answers_by_question


def best_of(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from llmquiz.bank import load_bank

    bank = load_bank([shipped_bank_dir()])
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        big_history(home, args.records)
        records = read_history(home).records
        now = utc_now()
        with gc_paused():
            grouped = answers_by_question(records)
            parts = {
                "read the history": lambda: read_history(home),
                "group by question": lambda: answers_by_question(records),
                "FSRS replay, no cache": lambda: stats._bank_cards(bank.topics, grouped, None),
                "FSRS cards, cache kept": lambda: stats._bank_cards(bank.topics, grouped, CardCache(home)),
                "tally": lambda: stats._tally(grouped),
                "compute_stats, no cache": lambda: stats.compute_stats(bank, records, now),
                "compute_stats, cache kept": lambda: stats.compute_stats(
                    bank, records, now, cache=CardCache(home)
                ),
            }
            for name, work in parts.items():
                print(f"{name:<24} {best_of(args.repeat, work):.3f} s", flush=True)


if __name__ == "__main__":
    main()
