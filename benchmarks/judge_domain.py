"""How close a CSV's references are to the shipped bank's: the claim judge's domain gate.

    python benchmarks/judge_domain.py [../shared/benchmarks/mohler_dev.csv]

Without key points the claim judge reads a question's reference sentences only when its
reference is at least `judge_domain_at` (cosine) from one of the shipped bank's references.
This prints where that threshold falls: for each bank question its nearest *other* bank
reference (what a question on the bank's subjects but not in it would be like), and for each
distinct reference of the CSV its nearest bank reference.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE.parents[1] / "shared" / "benchmarks" / "mohler_dev.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path, nargs="?", default=DEFAULT_CSV)
    args = parser.parse_args(argv)

    import numpy as np

    from llmquiz.grading.embedder import BundledEmbedder
    from llmquiz.grading.semantic import shipped_references
    from llmquiz.grading.tuning import GraderSettings

    bank = list(shipped_references())
    with args.csv.open(encoding="utf-8", newline="") as fh:
        references = sorted({row["reference"] for row in csv.DictReader(fh)})
    embedder = BundledEmbedder("cpu", None)
    bank_vecs = np.stack([e.vec for e in embedder.encode(bank)])
    csv_vecs = np.stack([e.vec for e in embedder.encode(references)])
    among_bank = bank_vecs @ bank_vecs.T
    np.fill_diagonal(among_bank, -1.0)
    nearest_other = among_bank.max(axis=1)
    nearest_bank = (csv_vecs @ bank_vecs.T).max(axis=1)
    at = GraderSettings().judge_domain_at
    rows = (("bank, nearest other bank reference", nearest_other), (args.csv.name, nearest_bank))
    for name, values in rows:
        low, p5, median, p95, high = np.percentile(values, [0, 5, 50, 95, 100])
        share = float((values >= at).mean())
        print(
            f"{name:40s} n={len(values):4d}  min {low:.2f}  p5 {p5:.2f}  median {median:.2f}  "
            f"p95 {p95:.2f}  max {high:.2f}  at or above {at}: {share:.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
