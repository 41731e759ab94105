"""The claim judge's speed on the numpy and the torch engine, side by side in one process.

    python benchmarks/bench_judge.py [--repeat 3] [--pairs 320] [--engines numpy,torch]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_judge.py --engines numpy   # one BLAS thread

The pairs are the shipped bank's reference answers' first sentences against key points (their
own question's and another's), like the pairs grading asks about. Each engine judges all of
them in turn, --repeat times, alternating; printed: the median pairs per second of each and
the largest difference between their probabilities. numpy's BLAS threads are OpenBLAS's
own choice (one per core) unless OPENBLAS_NUM_THREADS says otherwise, as in grading; torch
uses its default threads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=320)
    parser.add_argument("--engines", default="numpy,torch", help="comma-separated: numpy, torch")
    args = parser.parse_args(argv)

    import numpy as np

    from llmquiz.bank import load_bank
    from llmquiz.grading.judge import ClaimJudge
    from llmquiz.paths import shipped_bank_dir

    free = [q for q in load_bank([shipped_bank_dir()]).questions if q.kind == "free" and q.key_points]
    pairs = []
    for i, q in enumerate(free):
        other = free[(i + 7) % len(free)]
        pairs += [(q.answer.split(". ")[0], point) for point in (*q.key_points[:2], other.key_points[0])]
    pairs = pairs[: args.pairs]
    judges = {engine: ClaimJudge("cpu", engine=engine) for engine in args.engines.split(",")}
    probs, speed = {}, {engine: [] for engine in judges}
    for judge in judges.values():
        judge.judge(pairs[:8])  # load and warm up
    for _ in range(args.repeat):
        for engine, judge in judges.items():
            started = time.perf_counter()
            probs[engine] = judge.judge(pairs)
            speed[engine].append(len(pairs) / (time.perf_counter() - started))
    print(f"{len(pairs)} pairs; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    for engine, values in speed.items():
        print(f"{engine:6s} {statistics.median(values):6.1f} pairs/s")
    if len(probs) == 2:
        difference = float(np.abs(probs["numpy"] - probs["torch"]).max())
        print(f"largest probability difference {difference:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
