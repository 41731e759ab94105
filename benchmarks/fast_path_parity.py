"""The dev set graded on the fast path and through sentence-transformers: do the scores agree?

    python benchmarks/fast_path_parity.py

Grades every answer of benchmarks/devset/answers.yaml twice with the default grader, once with
the bundled model on llmquiz's own forward pass and once with the same model loaded by
sentence-transformers, and prints the largest score difference and how many answers differ.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

from llmquiz.bank import load_bank
from llmquiz.grading.embedder import SentenceTransformerEmbedder
from llmquiz.grading.semantic import SemanticGrader
from llmquiz.paths import shipped_bank_dir

DEVSET = Path(__file__).resolve().parent / "devset" / "answers.yaml"


def main() -> int:
    rows = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))["answers"]
    bank = load_bank([shipped_bank_dir()])
    items = [(bank.question(row["question_id"]), row["text"] or "") for row in rows]
    with tempfile.TemporaryDirectory(prefix="llmquiz-parity-") as tmp:
        fast_home, reference_home = Path(tmp) / "fast", Path(tmp) / "reference"
        fast = SemanticGrader(home=fast_home, neighbours=bank.questions, device="cpu").grade_many(items)
        embedder = SentenceTransformerEmbedder(None, "cpu", reference_home / "cache")
        reference = SemanticGrader(
            home=reference_home, neighbours=bank.questions, embedder=embedder, device="cpu"
        ).grade_many(items)
    differences = [abs(a.score - b.score) for a, b in zip(fast, reference, strict=True)]
    differing = sum(d > 0 for d in differences)
    print(f"largest score difference {max(differences)}; {differing} of {len(items)} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
