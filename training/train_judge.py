"""Train the claim judge: low-rank adapters and a 3-way head on the bundled MiniLM.

    python training/train_judge.py [--bank questions] [--seeds ../shared/seeds]
        [--written training/data/written] [--passages training/data/passages]
        [--out src/llmquiz/grading/weights/claim-judge.safetensors]
        [--seed 13] [--max-pairs N] [--holdout 0] [--variants DIR] [--layers N] [--framing SHARE]

The judge reads (premise, hypothesis) as one BERT input and says whether the premise
supports, contradicts or says neither of the hypothesis. Its pairs come from the bank and
the seed documents by rule (training/judge_pairs.py) and from written restatements and
answer passages of the bank (training/written_pairs.py, training/data/), never from graded
answers. The written pairs are scarce beside the rule pairs and closer to real answers, so
each is seen --written-weight times. The shipped artifact is what the defaults make
(--holdout 0: every question; with a holdout the report scores the held-out questions'
pairs). Only the adapters and the head are written (about 1.3 MB); the base weights stay
those of all-MiniLM-L6-v2, checked by sha256 at load.

--layers N trains a judge that reads with the base model's first N layers only (the artifact
says so, and the judge runs only those); the shipped judge reads with all six.

--framing SHARE puts a framing opener ("The trade-off is that", "In practice,") before that
share of the premises, labels unchanged, so that the judge learns to read the claim behind one
(benchmarks/RESULTS.md: the shipped judge does not); the shipped judge has none.

Reproducible: the same inputs, seed and thread count give a byte-identical artifact (the
test suite checks this on a tiny run). A full run is 58,848 pairs, 1,489 steps: 22 minutes
on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from llmquiz.bank import Question  # noqa: E402
from training import judge_pairs, written_pairs  # noqa: E402
from training.artifact import adapter_state, save_artifact  # noqa: E402
from training.judge_pairs import Pair, SeedPassage  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bank", type=Path, default=REPO / "questions")
    parser.add_argument("--seeds", type=Path, default=REPO.parent / "shared" / "seeds")
    parser.add_argument("--written", type=Path, default=REPO / "training" / "data" / "written")
    parser.add_argument("--passages", type=Path, default=REPO / "training" / "data" / "passages")
    parser.add_argument(
        "--variants",
        type=Path,
        default=None,
        help="also train on the learner sentences (training/data/variants; not in the shipped judge)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-pairs", type=int, default=0, help="train on the first N pairs only (tests)")
    parser.add_argument("--epochs", type=float, default=0.81)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument(
        "--layers", type=int, default=0, help="read with the base model's first N layers only (0: all)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--written-weight", type=int, default=2, help="times each written pair is among the rule pairs"
    )
    parser.add_argument(
        "--framing",
        type=float,
        default=0.0,
        help="share of pairs whose premise gets a framing opener ('The trade-off is that ...'; 0: none)",
    )
    parser.add_argument(
        "--holdout", type=float, default=0.0, help="share of questions held out for the report (0: none)"
    )
    args = parser.parse_args(argv)

    import torch

    from llmquiz.bank import load_bank
    from llmquiz.grading import judge
    from llmquiz.grading.bert import add_adapters, load_bert, load_tokenizer, mean_pool
    from llmquiz.grading.model import bundled_model_dir, verify_bundled

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(args.seed)
    started = time.perf_counter()

    base_dir = bundled_model_dir()
    verify_bundled(base_dir, None)
    bert = load_bert(base_dir)
    tokenizer = load_tokenizer(base_dir, judge.MAX_TOKENS)
    questions = [q for q in load_bank([args.bank]).questions if q.kind == "free"]
    held = (
        {q.id for q in rng.sample(questions, int(len(questions) * args.holdout))} if args.holdout else set()
    )
    seeds = judge_pairs.seed_passages(questions, args.seeds)
    similar = _seed_similarity(bert, tokenizer, questions, seeds, torch, mean_pool)
    train_q = [q for q in questions if q.id not in held]
    test_q = [q for q in questions if q.id in held]
    written: list[tuple[str, Any]] = [("written", written_pairs.load_written(args.written))]
    if args.passages.is_dir():
        written.append(("passage", written_pairs.load_written(args.passages)))
    if args.variants is not None:
        written.append(("variant", written_pairs.load_variants(args.variants)))
    rule_pairs = judge_pairs.build_pairs(train_q, seeds, rng, similar)
    pairs = _mixed(rule_pairs, train_q, written, rng, args.written_weight)
    if args.framing:
        pairs = _framed(pairs, args.framing, rng)
    test_rng = random.Random(args.seed + 1)
    test_rules = judge_pairs.build_pairs(test_q, seeds, test_rng, similar)
    test_pairs = _mixed(test_rules, test_q, written, test_rng, 1)
    if args.max_pairs:
        pairs, test_pairs = pairs[: args.max_pairs], test_pairs[: max(8, args.max_pairs // 4)]
    _report_pairs(pairs)

    if args.layers:
        del bert.encoder.layer[args.layers :]
    add_adapters(bert, rank=args.rank, alpha=2.0 * args.rank, seed=args.seed)
    head = torch.nn.Linear(bert.config.hidden_size, len(judge_pairs.LABELS))
    torch.nn.init.normal_(head.weight, std=0.02, generator=torch.Generator().manual_seed(args.seed))
    torch.nn.init.zeros_(head.bias)
    params = [p for p in bert.parameters() if p.requires_grad] + list(head.parameters())
    steps = max(1, int(len(pairs) * args.epochs / args.batch))
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    bert.train()
    batches = _batches(pairs, args.batch, steps, rng)
    for step, batch in enumerate(batches):
        logits = _logits(bert, head, tokenizer, batch, torch, mean_pool)
        labels = torch.tensor([p.label for p in batch])
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            print(
                f"step {step + 1}/{steps}  loss {loss.item():.3f}  {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    bert.eval()
    _report_accuracy(bert, head, tokenizer, test_pairs, torch, mean_pool)

    state = {f"bert.{k}": v for k, v in adapter_state(bert).items()}
    state["head.weight"] = head.weight.detach().clone()
    state["head.bias"] = head.bias.detach().clone()
    out = args.out or judge.ARTIFACT
    meta = {"rank": str(args.rank), "alpha": str(2.0 * args.rank), "labels": ",".join(judge_pairs.LABELS),
            "base_sha256": judge.BASE_SHA256, "seed": str(args.seed), "pairs": str(len(pairs))}  # fmt: skip
    if args.layers:
        meta["layers"] = str(args.layers)
    digest = save_artifact(out, state, meta)
    print(json.dumps({"artifact": str(out), "sha256": digest, "pairs": len(pairs), "steps": steps,
                      "seconds": round(time.perf_counter() - started, 1)}))  # fmt: skip
    return 0


def _mixed(
    rule_pairs: list[Pair],
    questions: list[Question],
    written: list[tuple[str, Any]],
    rng: random.Random,
    weight: int,
) -> list[Pair]:
    """The rule pairs and the written ones together, shuffled: each (premise, hypothesis) once,
    then each written pair `weight` times in all (the written text is closer to real answers
    than the rules' one-word changes, and far scarcer)."""
    extra: list[Pair] = []
    for kind, restated in written:
        if kind == "variant":
            more, stale = written_pairs.variant_pairs(questions, restated, rng)
        else:
            more, stale = written_pairs.written_pairs(questions, restated, rng, kind)
        extra += more
        if stale:
            print(f"{stale} {kind} entries no longer match the bank and were skipped")
    unique = {(p.premise, p.hypothesis): p for p in [*rule_pairs, *extra]}
    written_keys = {(p.premise, p.hypothesis) for p in extra}
    repeats = [p for key, p in unique.items() if key in written_keys] * (weight - 1)
    pairs = [*unique.values(), *repeats]
    rng.shuffle(pairs)
    return pairs


# Openers a candidate puts before a claim that change nothing of what it claims: the judge must
# read the claim behind them the same way (it read "The trade-off is that X cannot ..." as support)
FRAMINGS = (
    "The trade-off is that",
    "The nice thing is that",
    "In practice,",
    "The key point is that",
    "What people often miss is that",
    "As far as I know,",
    "The main idea is that",
    "Importantly,",
    "The catch is that",
    "Put simply,",
)


def _framed(pairs: list[Pair], share: float, rng: random.Random) -> list[Pair]:
    """A `share` of the pairs with a framing opener before the premise, labels unchanged."""
    out = []
    for p in pairs:
        if p.premise and rng.random() < share:
            word = p.premise.split(" ", 1)[0]
            premise = p.premise
            if word[1:].islower():  # "The cache ..." -> "the cache ...", but "LoRA", "BM25", "I" stay
                premise = premise[0].lower() + premise[1:]
            p = Pair(f"{rng.choice(FRAMINGS)} {premise}", p.hypothesis, p.label, p.rule)
        out.append(p)
    return out


def _batches(pairs: list[Pair], size: int, steps: int, rng: random.Random) -> list[list[Pair]]:
    """`steps` batches over shuffled passes of the pairs; each batch holds pairs of similar length
    (sorted within windows of 50 batches), so little of a batch is padding."""
    out: list[list[Pair]] = []
    while len(out) < steps:
        order = list(range(len(pairs)))
        rng.shuffle(order)
        window = size * 50
        for start in range(0, len(order), window):
            chunk = sorted(
                order[start : start + window], key=lambda i: len(pairs[i].premise) + len(pairs[i].hypothesis)
            )
            group = [[pairs[i] for i in chunk[b : b + size]] for b in range(0, len(chunk), size)]
            rng.shuffle(group)
            out.extend(group)
    return out[:steps]


def _logits(bert: Any, head: Any, tokenizer: Any, batch: list[Pair], torch: Any, mean_pool: Any) -> Any:
    encoded = tokenizer.encode_batch([(p.premise, p.hypothesis) for p in batch])
    ids = torch.tensor([e.ids for e in encoded])
    attention = torch.tensor([e.attention_mask for e in encoded])
    types = torch.tensor([e.type_ids for e in encoded])
    return head(mean_pool(bert(ids, attention, types), attention))


def _seed_similarity(
    bert: Any, tokenizer: Any, questions: list[Question], seeds: list[SeedPassage], torch: Any, mean_pool: Any
) -> dict[tuple[str, str], float]:
    """Cosine of each key point with each seed sentence of its question (the bi-encoder's view)."""
    of = {s.question_id: s.sentences for s in seeds}
    wanted = [(p, s) for q in questions for p in q.key_points for s in of.get(q.id, ())]
    texts = sorted({t for pair in wanted for t in pair})
    vectors = {}
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            chunk = texts[start : start + 64]
            encoded = tokenizer.encode_batch(chunk)
            ids = torch.tensor([e.ids for e in encoded])
            attention = torch.tensor([e.attention_mask for e in encoded])
            pooled = torch.nn.functional.normalize(mean_pool(bert(ids, attention), attention), dim=-1)
            vectors.update(zip(chunk, pooled, strict=True))
    return {(p, s): float(vectors[p] @ vectors[s]) for p, s in wanted}


def _report_pairs(pairs: list[Pair]) -> None:
    from collections import Counter

    rules = Counter((p.rule, judge_pairs.LABELS[p.label]) for p in pairs)
    labels = Counter(judge_pairs.LABELS[p.label] for p in pairs)
    print(f"{len(pairs)} pairs: {dict(labels)}")
    for (rule, label), n in sorted(rules.items()):
        print(f"  {rule:30s} {label:10s} {n}")


def _report_accuracy(
    bert: Any, head: Any, tokenizer: Any, pairs: list[Pair], torch: Any, mean_pool: Any
) -> None:
    """Accuracy per rule on the held-out questions' pairs."""
    from collections import defaultdict

    hits: dict[str, list[bool]] = defaultdict(list)
    with torch.inference_mode():
        for start in range(0, len(pairs), 64):
            batch = pairs[start : start + 64]
            predicted = _logits(bert, head, tokenizer, batch, torch, mean_pool).argmax(-1).tolist()
            for p, guess in zip(batch, predicted, strict=True):
                hits[p.rule].append(guess == p.label)
    total = [h for rows in hits.values() for h in rows]
    if total:
        print(f"held-out pairs: {sum(total)}/{len(total)} right")
    for rule, rows in sorted(hits.items()):
        print(f"  {rule:30s} {sum(rows):4d}/{len(rows):4d}")


if __name__ == "__main__":
    sys.exit(main())
