"""The claim judge's speed on the numpy and the torch engine, side by side in one process.

    python benchmarks/bench_judge.py [--repeat 3] [--pairs 320] [--engines numpy,torch]
    python benchmarks/bench_judge.py --engines numpy --rows 128,384  # npbert's feed-forward block
    python benchmarks/bench_judge.py --products   # one BLAS thread's speed at the model's products
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_judge.py --engines numpy   # one BLAS thread

The pairs are the shipped bank's reference answers' first sentences against key points (their
own question's and another's), like the pairs grading asks about. Each engine judges all of
them in turn, --repeat times, alternating; printed: the median pairs per second of each and
the largest difference between their probabilities. numpy's BLAS threads are OpenBLAS's
own choice (one per core) unless OPENBLAS_NUM_THREADS says otherwise, as in grading; torch
uses its default threads. --rows times the numpy engine once per feed-forward block size
(npbert.ROWS), in the same alternation. --products only times numpy's product of 1,040 and of
128 tokens by a feed-forward weight (384 x 1,536) on one BLAS thread, in GFLOP/s.
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
    parser.add_argument("--rows", default="", help="comma-separated npbert.ROWS values for numpy")
    parser.add_argument("--products", action="store_true", help="only time one thread's matrix products")
    args = parser.parse_args(argv)
    if args.products:
        return products(args.repeat)

    import numpy as np

    from llmquiz.bank import load_bank
    from llmquiz.grading import npbert
    from llmquiz.grading.judge import ClaimJudge
    from llmquiz.paths import shipped_bank_dir

    free = [q for q in load_bank([shipped_bank_dir()]).questions if q.kind == "free" and q.key_points]
    pairs = []
    for i, q in enumerate(free):
        other = free[(i + 7) % len(free)]
        pairs += [(q.answer.split(". ")[0], point) for point in (*q.key_points[:2], other.key_points[0])]
    pairs = pairs[: args.pairs]
    engines = args.engines.split(",")
    judges = {engine: ClaimJudge("cpu", engine=engine) for engine in engines}
    rows = [int(n) for n in args.rows.split(",") if n] or [npbert.ROWS]
    runs = [(e, n) for e in engines for n in (rows if e == "numpy" else [0])]
    names = {run: run[0] if run[0] != "numpy" or len(rows) == 1 else f"numpy rows={run[1]}" for run in runs}
    probs, speed = {}, {names[run]: [] for run in runs}
    for judge in judges.values():
        judge.judge(pairs[:8])  # load and warm up
    for _ in range(args.repeat):
        for engine, block in runs:
            npbert.ROWS = block or npbert.ROWS
            started = time.perf_counter()
            probs[engine] = judges[engine].judge(pairs)
            speed[names[engine, block]].append(len(pairs) / (time.perf_counter() - started))
    print(f"{len(pairs)} pairs; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    for name, values in speed.items():
        print(f"{name:14s} {statistics.median(values):6.1f} pairs/s")
    if len(judges) == 2:
        difference = float(np.abs(probs["numpy"] - probs["torch"]).max())
        print(f"largest probability difference {difference:.2e}")
    return 0


def products(repeat: int) -> int:
    """GFLOP/s of (tokens x 384) @ (384 x 1,536) on one BLAS thread, for a batch and a block."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    weight = rng.standard_normal((1536, 384), dtype=np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        for tokens in (1040, 128):
            x = rng.standard_normal((tokens, 384), dtype=np.float32)
            x @ weight.T  # warm up
            times = []
            for _ in range(max(repeat, 1) * 10):
                started = time.perf_counter()
                x @ weight.T
                times.append(time.perf_counter() - started)
            rate = 2 * tokens * 384 * 1536 / statistics.median(times) / 1e9
            print(f"{tokens:5d} tokens x 384 @ 384 x 1536, one thread: {rate:6.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
