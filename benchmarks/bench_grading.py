"""Grading accuracy and speed on a human-graded CSV, beside raw SentenceTransformer.encode.

    PYTHONPATH=src python benchmarks/bench_grading.py ../shared/benchmarks/mohler_dev.csv \
        --gold score_avg [--model NAME] [--device cpu] [--repeat 3] [--json] [--judge PATH]

Prints: agreement with the gold grades (Pearson, Spearman, ROC AUC, suggested pass mark) and,
measured side by side on the same answer texts with the same loaded model,
  raw encode  answers/s of the embedder's own encode(answers) (the bundled model's fast path,
              or sentence-transformers for another --model): one model pass per answer
  grade_many  answers/s of the grader (bank side cached; model load excluded): the encode,
              the claim judge's passes and the scoring
  cold        answers/s of the grader with an empty cache (bank side encoded too)
              (both read every judge pair: the judge's kept rows are left out of them)
  again       answers/s of grade_many on the same answers once the judge's rows are kept
              (one run, after the others)
  single      milliseconds for one `grade` call (the wait after Enter): median, p95, max
  load_s      seconds to load the embedding model and the claim judge
--judge PATH grades with another claim judge artifact (a training/train_judge.py --out).
Each speed is the median of --repeat runs, alternating raw and graded runs so that load from
other processes hits both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path, help="graded CSV (question, reference, answer, gold)")
    parser.add_argument("--gold", default="score", help="gold column (default: score)")
    parser.add_argument("--model", default=None, help="sentence-transformers name or path")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--grader", default="semantic", choices=("semantic", "lexical"))
    parser.add_argument("--repeat", type=int, default=3, help="speed runs of each kind")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one semantic grader setting (ablations), e.g. --set polarity=false",
    )
    parser.add_argument("--no-speed", action="store_true", help="agreement only: skip the speed comparison")
    parser.add_argument(
        "--judge", type=Path, default=None, help="a claim judge artifact to grade with (a retrained one)"
    )
    args = parser.parse_args(argv)
    if args.judge is not None and args.grader != "semantic":
        parser.error("--judge needs the semantic grader")

    from llmquiz.grading import make_grader
    from llmquiz.grading.calibrate import calibrate, questions_for, read_graded_csv

    rows = read_graded_csv(args.csv, gold=args.gold)
    answers = [row.answer for row in rows]
    items = list(zip(questions_for(rows), answers, strict=True))
    with tempfile.TemporaryDirectory(prefix="llmquiz-bench-") as tmp:
        home = Path(tmp)
        grader = make_grader(args.grader, model=args.model, device=args.device, home=home)
        if args.set:
            apply_settings(grader, args.set)
        started = time.perf_counter()
        if args.judge is not None:
            use_engine(grader, "auto", args.device, home, args.judge)
        grader.load()
        load_s = time.perf_counter() - started
        result = calibrate(rows, grader, gold_column=args.gold)  # also warms the bank cache
        report: dict[str, object] = {
            "csv": str(args.csv),
            "grader": grader.name,
            "device": getattr(getattr(grader, "_embedder", None), "device", None),
            "load_s": round(load_s, 2),
            **result.to_dict(),
        }
        if args.set:
            report["settings"] = dict(item.split("=", 1) for item in args.set)
        raw, warm, cold, single = [], [], [], []
        embedder = getattr(grader, "_embedder", None)
        remembered = getattr(grader, "remember_judgements", False)
        grader.remember_judgements = False  # type: ignore[attr-defined]  # the judge's own cost, every run
        if embedder is not None:
            report["plain_cosine_pearson"] = round(plain_cosine(embedder, rows), 4)
        for i in range(0 if args.no_speed else args.repeat):
            if embedder is not None:
                started = time.perf_counter()
                embedder.encode(answers)
                raw.append(len(answers) / (time.perf_counter() - started))
            started = time.perf_counter()
            grader.grade_many(items)
            warm.append(len(items) / (time.perf_counter() - started))
            fresh = make_grader(args.grader, model=args.model, device=args.device, home=home / f"cold-{i}")
            if embedder is not None:  # same loaded models, empty cache
                fresh._embedder, fresh._judge, fresh._loaded = grader._embedder, grader._judge, True
                fresh.settings, fresh.remember_judgements = grader.settings, False
            started = time.perf_counter()
            fresh.grade_many(items)
            cold.append(len(items) / (time.perf_counter() - started))
        for question, answer in items[:: max(1, len(items) // 50)] if not args.no_speed else []:
            started = time.perf_counter()
            grader.grade(question, answer)
            single.append((time.perf_counter() - started) * 1000)
        if remembered and not args.no_speed:
            report["answers_per_second_again"] = round(again_per_second(grader, items), 1)
    if warm:
        report["answers_per_second_warm"] = round(statistics.median(warm), 1)
        report["answers_per_second_cold"] = round(statistics.median(cold), 1)
    if raw:
        report["raw_encode_answers_per_second"] = round(statistics.median(raw), 1)
        report["ratio_to_raw"] = round(statistics.median(warm) / statistics.median(raw), 3)
    if single:
        report["single_grade_ms_median"] = round(statistics.median(single), 1)
        report["single_grade_ms_p95"] = round(statistics.quantiles(single, n=20)[-1], 1)
        report["single_grade_ms_max"] = round(max(single), 1)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:32s} {value}")
    return 0


def apply_settings(grader: object, overrides: list[str]) -> None:
    """`--set name=value` onto the semantic grader's Settings (typed like the default)."""
    import dataclasses

    settings = grader.settings  # type: ignore[attr-defined]
    changes: dict[str, object] = {}
    for item in overrides:
        name, _, value = item.partition("=")
        default = getattr(settings, name)
        if isinstance(default, bool):
            changes[name] = value.lower() in ("1", "true", "yes", "on")
        else:
            changes[name] = type(default)(value)
    grader.settings = dataclasses.replace(settings, **changes)  # type: ignore[attr-defined]


def use_engine(grader: object, engine: str, device: str, home: Path, judge: Path | None) -> None:
    """Run the bundled model and the claim judge on the given engine, the judge from the given
    artifact (its sha256 taken as it is) where one is named: a benchmark's override."""
    from llmquiz.grading.embedder import BundledEmbedder
    from llmquiz.grading.judge import ARTIFACT, ARTIFACT_SHA256, ClaimJudge
    from llmquiz.grading.model import file_sha256
    from llmquiz.grading.semantic import SemanticGrader

    assert isinstance(grader, SemanticGrader)
    if engine != "auto":
        grader._embedder = BundledEmbedder(device, home / "cache", engine=engine)
    grader.load()
    if grader._judge is not None:
        artifact, sha256 = (judge, file_sha256(judge)) if judge is not None else (ARTIFACT, ARTIFACT_SHA256)
        on = getattr(grader._embedder, "device", None) or "cpu"
        grader._judge = ClaimJudge(on, artifact, sha256, engine=getattr(grader._embedder, "engine", engine))
        grader._judge.load()


def again_per_second(grader: object, items: list) -> float:
    """Answers/s of grade_many over `items` graded a second time, the judge's rows kept (one run)."""
    grader.remember_judgements = True  # type: ignore[attr-defined]
    grader.grade_many(items)  # type: ignore[attr-defined]
    started = time.perf_counter()
    grader.grade_many(items)  # type: ignore[attr-defined]
    return len(items) / (time.perf_counter() - started)


def plain_cosine(embedder: object, rows: list) -> float:
    """Pearson of plain cosine(answer, reference) with the gold grades: the baseline."""
    from llmquiz.grading.calibrate import pearson

    answers = embedder.encode([r.answer for r in rows])  # type: ignore[attr-defined]
    refs = embedder.encode([r.reference for r in rows])  # type: ignore[attr-defined]
    cos = [float(a.vec @ b.vec) for a, b in zip(answers, refs, strict=True)]
    return pearson(cos, [r.gold for r in rows])


if __name__ == "__main__":
    sys.exit(main())
