"""How the grader does on the graded LLM-topic answers of tests/data/graded_answers.yaml.

    PYTHONPATH=src python benchmarks/graded_set.py [tests/data/graded_answers.yaml]
        [--grader semantic|lexical] [--set NAME=VALUE]... [--verbose] [--judge PATH]

Prints the share of answers that get exactly their labelled verdict (overall and per kind),
the mean score per kind, and each answer's score with --verbose.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "graded_answers.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("yaml", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--grader", default="semantic", choices=("semantic", "lexical"))
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--judge", type=Path, default=None, help="a claim judge artifact to grade with (a retrained one)"
    )
    args = parser.parse_args(argv)
    if args.judge is not None and args.grader != "semantic":
        parser.error("--judge needs the semantic grader")

    import yaml

    from llmquiz.bank import Question
    from llmquiz.grading import make_grader

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_grading import apply_settings, use_engine

    data = yaml.safe_load(args.yaml.read_text(encoding="utf-8"))

    def question(raw: dict) -> Question:
        return Question(
            id=raw["id"],
            topic="llm",
            question=raw["question"],
            answer=raw["answer"],
            key_points=tuple(raw["key_points"]),
            keywords=tuple(raw.get("keywords", ())),
        )

    graded = [question(q) for q in data["questions"]]
    others = [question(q) for q in data.get("neighbours", [])]
    items = [(q, a) for q, raw in zip(graded, data["questions"], strict=True) for a in raw["answers"]]
    with tempfile.TemporaryDirectory(prefix="llmquiz-graded-") as tmp:
        grader = make_grader(args.grader, device=args.device, home=Path(tmp), neighbours=[*graded, *others])
        if args.judge is not None:
            use_engine(grader, "auto", args.device, Path(tmp), args.judge)
        if args.set:
            apply_settings(grader, args.set)
        results = grader.grade_many([(q, a["text"] or "") for q, a in items])
    by_kind: dict[str, list[tuple[bool, int]]] = defaultdict(list)
    for (q, a), r in zip(items, results, strict=True):
        by_kind[a["kind"]].append((r.verdict == a["band"], r.score))
        if args.verbose:
            mark = "" if r.verdict == a["band"] else f"  <- {r.verdict}"
            print(f"{q.id:18s} {a['kind']:10s} {a['band']:9s} {r.score:3d}{mark}")
    agree = sum(ok for rows in by_kind.values() for ok, _ in rows)
    from llmquiz.grading.calibrate import pearson, spearman

    rank = {"incorrect": 0.0, "partial": 1.0, "correct": 2.0}
    labels = [rank[a["band"]] for _, a in items]
    scores = [float(r.score) for r in results]
    print(
        f"{grader.name}: {agree}/{len(items)} answers in their labelled band; "
        f"Pearson {pearson(scores, labels):.3f}, Spearman {spearman(scores, labels):.3f} "
        "with the band (0/1/2)"
    )
    for kind, rows in by_kind.items():
        ok = sum(o for o, _ in rows)
        mean = statistics.mean(s for _, s in rows)
        print(f"  {kind:10s} {ok:2d}/{len(rows):2d} in band, mean score {mean:5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
