"""The claim judge's artifact: verified by sha256, and reproducible from its training script."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmquiz.bank import load_bank
from llmquiz.errors import ModelError
from llmquiz.grading import judge
from training import judge_pairs as pairs_module
from training import written_pairs as written_module

from .conftest import QUESTIONS, REPO, shared_path

TRAINING = REPO / "training"


def test_the_shipped_artifact_passes_its_check() -> None:
    judge.verify_artifact()
    assert judge.ARTIFACT.stat().st_size < 5 * 1024 * 1024  # adapters and a head, not a model


def test_a_changed_artifact_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "judge.safetensors"
    shutil.copy(judge.ARTIFACT, copy)
    with copy.open("r+b") as fh:
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 1]))
    with pytest.raises(ModelError, match="fail verification"):
        judge.verify_artifact(copy)
    with pytest.raises(ModelError, match="missing"):
        judge.verify_artifact(tmp_path / "absent.safetensors")


def test_rules_make_each_kind_of_pair() -> None:
    rng = random.Random(3)
    assert pairs_module.negate("the cache stores keys and values") is None  # no auxiliary to negate
    assert pairs_module.negate("the cache is small") == "the cache is not small"
    assert pairs_module.negate("it cannot be merged") == "it can be merged"
    assert pairs_module.swap_opposite("a low temperature sharpens", rng) == "a high temperature sharpens"
    swapped = pairs_module.swap_roles("precision counts retrieved items, recall relevant ones", [], rng)
    assert swapped == "recall counts retrieved items, precision relevant ones"
    assert pairs_module.change_number("about 80 GB", rng) != "about 80 GB"


def test_pairs_are_seeded_and_cover_every_label() -> None:
    questions = [q for q in load_bank([QUESTIONS / "rag.yaml"]).questions if q.kind == "free"]
    first = pairs_module.build_pairs(questions, [], random.Random(5))
    again = pairs_module.build_pairs(questions, [], random.Random(5))
    assert first == again
    assert {p.label for p in first} == {0, 1, 2}
    rules = {p.rule for p in first}
    assert {"negated", "opposite-word", "swapped-roles", "term-list", "question-echo", "far-off"} <= rules
    assert {"misconception-corrected", "misconception-against-truth"} <= rules


@pytest.mark.slow
def test_the_same_seed_gives_the_same_artifact(tmp_path: Path) -> None:
    seeds = shared_path("seeds")

    def train(name: str, seed: int, *more: str) -> str:
        out = tmp_path / f"{name}.safetensors"
        command = [sys.executable, str(TRAINING / "train_judge.py"), "--bank", str(QUESTIONS / "rag.yaml"),
                   "--seeds", str(seeds), "--out", str(out), "--seed", str(seed), "--max-pairs", "24",
                   "--holdout", "0", *more]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=300)
        return judge.file_sha256(out)

    first = train("a", 1)
    assert train("b", 1) == first
    assert train("c", 2) != first
    assert train("d", 1, "--layers", "2") != first
    state, meta = judge.read_artifact(tmp_path / "d.safetensors", "np")
    assert meta["layers"] == "2"
    assert not any(name.startswith("bert.encoder.layer.2.") for name in state)  # adapters on two layers only


@pytest.mark.parametrize(
    ("folder", "kind"),
    [
        pytest.param(written_module.WRITTEN, "written", id="sentences"),
        pytest.param(written_module.PASSAGES, "passage", id="passages"),
    ],
)
def test_written_text_fits_the_shipped_bank(folder: Path, kind: str) -> None:
    """Every key point and misconception of the bank has its written restatements and answer
    passages, and they make support, contradiction and neither pairs, the same ones for the
    same seed."""
    questions = [q for q in load_bank([QUESTIONS]).questions if q.kind == "free"]
    written = written_module.load_written(folder)
    first, stale = written_module.written_pairs(questions, written, random.Random(5), kind)
    assert stale == 0
    assert first == written_module.written_pairs(questions, written, random.Random(5), kind)[0]
    missing = [
        q.id
        for q in questions
        if q.id not in written
        or set(written[q.id].points) != set(q.key_points)
        or set(written[q.id].claims) != {m.claim for m in q.misconceptions}
    ]
    assert missing == []
    by_rule = {p.rule: p.label for p in first}
    assert by_rule[f"{kind}-same"] == pairs_module.SUPPORT
    assert by_rule[f"{kind}-reversed"] == pairs_module.CONTRADICT
    assert by_rule[f"{kind}-other-point"] == pairs_module.NEITHER
    assert by_rule[f"{kind}-misconception"] == pairs_module.SUPPORT
    in_context = [p for p in first if p.rule.endswith("-in-context")]
    assert (in_context == []) == (kind == "passage")  # a passage carries its own context


def test_learner_sentences_fit_the_shipped_bank() -> None:
    """Every key point has one correct learner sentence and two wrong ones, which make support,
    contradiction and neither pairs, the same ones for the same seed."""
    questions = [q for q in load_bank([QUESTIONS]).questions if q.kind == "free"]
    variants = written_module.load_variants()
    first, stale = written_module.variant_pairs(questions, variants, random.Random(5))
    assert stale == 0
    assert first == written_module.variant_pairs(questions, variants, random.Random(5))[0]
    incomplete = [
        q.id
        for q in questions
        if set(variants.get(q.id, {})) != set(q.key_points)
        or any(len(wrong) != 2 for _, wrong in variants[q.id].values())
    ]
    assert incomplete == []
    labels = {p.rule: p.label for p in first}
    assert labels["variant-same"] == pairs_module.SUPPORT
    assert labels["variant-reversed"] == pairs_module.CONTRADICT
    assert labels["variant-other-point"] == pairs_module.NEITHER


def test_a_stale_restatement_is_counted_not_used(tmp_path: Path) -> None:
    questions = [q for q in load_bank([QUESTIONS / "rag.yaml"]).questions if q.kind == "free"]
    q = questions[0]
    (tmp_path / "rag.yaml").write_text(
        "questions:\n"
        f"- id: {q.id}\n"
        "  points:\n"
        '  - point: "a key point the bank no longer has"\n'
        '    same: "x"\n'
        '    reversed: "y"\n',
        encoding="utf-8",
    )
    pairs, stale = written_module.written_pairs([q], written_module.load_written(tmp_path), random.Random(1))
    assert stale == 1
    assert pairs == []


def test_framing_openers_change_premises_only() -> None:
    from training.train_judge import FRAMINGS, _framed

    made = [
        pairs_module.Pair("The cache stores keys.", "it stores keys", 0, "rule"),
        pairs_module.Pair("LoRA cannot be merged.", "it can be merged", 1, "rule"),
    ] * 200
    framed = _framed(made, 0.25, random.Random(3))
    changed = [(a, b) for a, b in zip(made, framed, strict=True) if a != b]
    assert 60 < len(changed) < 140
    for before, after in changed:
        assert (after.hypothesis, after.label, after.rule) == (before.hypothesis, before.label, before.rule)
        opener = next(f for f in FRAMINGS if after.premise.startswith(f + " "))
        rest = after.premise[len(opener) + 1 :]
        assert rest in ("the cache stores keys.", "LoRA cannot be merged.")
    assert _framed(made, 0.25, random.Random(3)) == framed
