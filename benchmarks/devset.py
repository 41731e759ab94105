"""How the grader agrees with the blind dev set (benchmarks/devset/answers.yaml).

    python benchmarks/devset.py [--grader semantic|lexical] [--bare] [--set NAME=VALUE]...
        [--verbose] [--json] [--speed [--repeat N]] [--engine numpy|torch] [--judge PATH]
        [--split-from N]

The answers are graded as `llmquiz exam --answers` grades them: the shipped bank, its
questions as neighbours, the default model. The gold grade is the mean of the two blind
examiners' 0-5 grades; its band is correct from 3.5, partial from 1.5, else incorrect, the
same cut the grader's verdicts make at 70 and 40 of 100. Printed:

  pearson / spearman   of the grader's score with the gold grade, over all answers
  ROC AUC              how well the score ranks answers graded 3 of 5 or better above the rest
                       (as `llmquiz calibrate` reports it)
  verdict agreement    share of answers whose verdict is the gold band
  wrong called right   answers with gold below 1.5 that score 70 or more (of how many)
  per kind             gold mean, score mean, answers called correct, key points listed as
                       covered (of all the kind's answers' key points)
  ceiling              the two examiners' Pearson and band agreement with each other

--bare grades with the question and reference only (no key points, no misconceptions), as
`llmquiz calibrate` grades a CSV of interview answers that has no key points.

--speed also times, side by side in one process with the models loaded and the bank side
cached (medians of --repeat runs, alternating): raw encode (the embedder's own pass over the
answers), grade_many of all answers (encode, claim judge, scoring), and single `grade` calls
(median and p95, the wait after Enter).

--engine numpy|torch runs the bundled model and the claim judge on that forward pass (the
default, auto, is numpy on cpu and torch on cuda), to compare the two engines' speed.

--judge PATH grades with another claim judge artifact (one training/train_judge.py --out
wrote), to compare a retrained judge with the shipped one without replacing it.

--split-from N splits one batch of judge pairs, or of texts to encode, between the cores from
N on (default: batching.SPLIT_FROM; a large N never splits them), to time the single grade
both ways.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset" / "answers.yaml"


def band(grade: float) -> str:
    return "correct" if grade >= 3.5 else "partial" if grade >= 1.5 else "incorrect"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("yaml", type=Path, nargs="?", default=DEVSET)
    parser.add_argument("--grader", default="semantic", choices=("semantic", "lexical"))
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--bare", action="store_true", help="question and reference only, as in a CSV")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--verbose", action="store_true", help="one line per answer")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--speed", action="store_true", help="also time grading beside raw encode")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--engine",
        default="auto",
        choices=("auto", "numpy", "torch"),
        help="the bundled model's and the claim judge's forward pass (auto: numpy on cpu, torch on cuda)",
    )
    parser.add_argument(
        "--judge", type=Path, default=None, help="a claim judge artifact to grade with (a retrained one)"
    )
    parser.add_argument(
        "--split-from",
        type=int,
        default=None,
        help="split one batch of judge pairs or texts to encode between the cores from this many "
        "(batching.SPLIT_FROM)",
    )
    args = parser.parse_args(argv)

    import yaml

    from llmquiz.bank import load_bank
    from llmquiz.grading import batching, make_grader
    from llmquiz.grading.calibrate import pearson, roc_auc, spearman
    from llmquiz.paths import shipped_bank_dir

    sys.path.insert(0, str(HERE))
    from bench_grading import apply_settings, use_engine

    if args.split_from is not None:
        batching.SPLIT_FROM = args.split_from
    rows = yaml.safe_load(args.yaml.read_text(encoding="utf-8"))["answers"]
    bank = load_bank([shipped_bank_dir()])
    questions = bank.questions
    if args.bare:
        questions = [replace(q, key_points=(), misconceptions=(), keywords=()) for q in questions]
    by_id = {q.id: q for q in questions}
    items = [(by_id[row["question_id"]], row["text"] or "") for row in rows]
    with tempfile.TemporaryDirectory(prefix="llmquiz-devset-") as tmp:
        grader = make_grader(args.grader, device=args.device, home=Path(tmp), neighbours=questions)
        if (args.engine != "auto" or args.judge is not None) and args.grader == "semantic":
            use_engine(grader, args.engine, args.device, Path(tmp), args.judge)
        if args.set:
            apply_settings(grader, args.set)
        results = grader.grade_many(items)
        speed = measure_speed(grader, items, args.repeat) if args.speed else {}

    gold = [statistics.mean(row["grades"]) for row in rows]
    scores = [float(r.score) for r in results]
    agree = sum(r.verdict == band(g) for r, g in zip(results, gold, strict=True))
    wrong = [(r, g) for r, g in zip(results, gold, strict=True) if g < 1.5]
    wrong_right = sum(r.verdict == "correct" for r, _ in wrong)
    first = [float(row["grades"][0]) for row in rows]
    second = [float(row["grades"][1]) for row in rows]
    kinds: dict[str, list[tuple[float, int, str, int, int]]] = defaultdict(list)
    for row, r, g in zip(rows, results, gold, strict=True):  # ... and key points covered, of all
        kinds[row["kind"]].append((g, r.score, r.verdict, len(r.covered), len(r.covered) + len(r.missed)))
    report = {
        "grader": grader.name + (" (bare: no key points)" if args.bare else ""),
        "n": len(rows),
        "pearson": round(pearson(scores, gold), 3),
        "spearman": round(spearman(scores, gold), 3),
        # as `calibrate` reports it: an answer graded 3 of 5 or better is a correct one
        "roc_auc": round(roc_auc(scores, [g >= 3 for g in gold]), 3),
        "verdict_agreement": round(agree / len(rows), 3),
        "wrong_called_right": wrong_right,
        "wrong": len(wrong),
        "kinds": {
            kind: {
                "n": len(v),
                "gold": round(statistics.mean(g for g, *_ in v), 2),
                "score": round(statistics.mean(s for _, s, *_ in v), 1),
                "called_correct": sum(verdict == "correct" for _, _, verdict, *_ in v),
                "covered_points": sum(c for *_, c, _ in v),
                "key_points": sum(n for *_, n in v),
            }
            for kind, v in kinds.items()
        },
        **speed,
        "ceiling": {
            "pearson": round(pearson(first, second), 3),
            "band_agreement": round(
                sum(band(a) == band(b) for a, b in zip(first, second, strict=True)) / len(rows), 3
            ),
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if args.verbose:
        for row, r, g in zip(rows, results, gold, strict=True):
            mark = "" if r.verdict == band(g) else f"  <- {r.verdict}"
            wrong_claims = "; ".join(w.claim for w in getattr(r, "wrong_claims", ()))
            line = f"{row['uid']} {row['question_id'][:34]:34s} {row['kind']:13s} gold {g:3.1f}"
            line += f" score {r.score:3d}"
            print(line + mark + (f"  wrong: {wrong_claims[:80]}" if wrong_claims else ""))
    per_100 = 100 * wrong_right / max(1, len(wrong))
    print(
        f"{report['grader']}: n={report['n']}  Pearson {report['pearson']:.3f}  "
        f"Spearman {report['spearman']:.3f}  ROC AUC {report['roc_auc']:.3f}  "
        f"verdict agreement {report['verdict_agreement']:.1%}  "
        f"wrong called right {wrong_right}/{len(wrong)} ({per_100:.1f} per 100)"
    )
    for kind, k in sorted(report["kinds"].items(), key=lambda kv: -kv[1]["gold"]):
        print(
            f"  {kind:13s} n={k['n']:3d}  gold {k['gold']:4.2f}  score {k['score']:5.1f}  "
            f"called correct {k['called_correct']:2d}  "
            f"covered {k['covered_points']}/{k['key_points']} key points"
        )
    c = report["ceiling"]
    for key, value in speed.items():
        print(f"{key:32s} {value}")
    print(f"ceiling (examiner vs examiner): Pearson {c['pearson']:.3f}, bands {c['band_agreement']:.1%}")
    return 0


def measure_speed(grader: object, items: list, repeat: int) -> dict[str, float]:
    import time

    from bench_grading import again_per_second

    from llmquiz.grading import text as tx

    embedder = grader._embedder  # type: ignore[attr-defined]
    answers = [tx.normalize(answer) for _, answer in items if answer.strip()]
    raw, graded, single = [], [], []
    grader.remember_judgements = False  # type: ignore[attr-defined]  # the judge's own cost, every run
    for _ in range(repeat):
        started = time.perf_counter()
        embedder.encode(answers)
        raw.append(len(answers) / (time.perf_counter() - started))
        started = time.perf_counter()
        grader.grade_many(items)  # type: ignore[attr-defined]
        graded.append(len(items) / (time.perf_counter() - started))
    for question, answer in items[::4]:
        started = time.perf_counter()
        grader.grade(question, answer)  # type: ignore[attr-defined]
        single.append((time.perf_counter() - started) * 1000)
    again = again_per_second(grader, items)
    return {
        "raw_encode_answers_per_second": round(statistics.median(raw), 1),
        "grade_many_answers_per_second": round(statistics.median(graded), 1),
        "grade_many_again_answers_per_second": round(again, 1),
        "single_grade_ms_median": round(statistics.median(single), 1),
        "single_grade_ms_p95": round(statistics.quantiles(single, n=20)[-1], 1),
    }


if __name__ == "__main__":
    sys.exit(main())
