"""The shipped bank: complete, gradable, traceable to every seed item, in its own words."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from llmquiz.bank import Bank, load_bank
from llmquiz.importing import find_items

from .conftest import QUESTIONS, shared_path

CHAPTERS = {
    "fundamentals", "prompting", "rag", "chunking", "embeddings", "vector-db", "search",
    "llm-internals", "sft", "alignment", "evaluation", "hallucination", "inference", "agents",
    "prompt-hacking", "case-studies", "ml-math", "ethics",
}  # fmt: skip
SEED_ITEM_COUNTS = {"000": 21, "001": 50, "002": 83, "003": 42, "004": 9}
COPY_RUN = 12  # words in a row that no reference answer may share with a seed
NEAR = 3  # a source must point within this many lines of the item's start


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank([QUESTIONS])


def sentence_count(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text.strip()))


def test_every_chapter_has_at_least_eight_questions(bank: Bank) -> None:
    counts = {topic.slug: len(topic.questions) for topic in bank.topics}
    assert set(counts) == CHAPTERS
    assert min(counts.values()) >= 8, counts
    assert 220 <= sum(counts.values()) <= 320


def test_free_questions_are_gradable(bank: Bank) -> None:
    problems = []
    for q in bank.questions:
        if q.kind in ("free", "open") and not 2 <= len(q.key_points) <= 6:
            problems.append(f"{q.id}: {len(q.key_points)} key points")
        if q.kind == "free" and not 2 <= sentence_count(q.answer) <= 6:
            problems.append(f"{q.id}: {sentence_count(q.answer)} sentences in the reference")
        if not q.tags:
            problems.append(f"{q.id}: no tags")
        if not q.id.startswith(q.topic + "-"):
            problems.append(f"{q.id}: id does not start with its topic")
    assert problems == []


def test_the_bank_uses_every_kind(bank: Bank) -> None:
    kinds = {q.kind for q in bank.questions}
    assert kinds == {"free", "short", "choice", "open"}
    assert {q.difficulty for q in bank.questions} == {"easy", "medium", "hard"}


def seed_sources(bank: Bank) -> dict[str, list[int]]:
    lines: dict[str, list[int]] = defaultdict(list)
    for q in bank.questions:
        for source in q.sources:
            file, _, line = source.rpartition(":")
            lines[file].append(int(line))
    return lines


def test_every_seed_item_is_in_the_bank(bank: Bank) -> None:
    seeds = shared_path("seeds")
    sources = seed_sources(bank)
    missing = []
    for prefix, expected in SEED_ITEM_COUNTS.items():
        (path,) = seeds.glob(f"{prefix}_*.txt")
        items = find_items(path.read_text(encoding="utf-8"))
        assert len(items) == expected, path.name
        for item in items:
            if not any(abs(line - item.line) <= NEAR for line in sources.get(path.name, [])):
                missing.append(f"{path.name}:{item.line}: {item.question[:60]}")
    assert missing == [], "\n".join(missing)


def test_sources_point_at_real_seed_lines(bank: Bank) -> None:
    seeds = shared_path("seeds")
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in seeds.glob("0*.txt")}
    bad = [
        f"{q.id}: {source}"
        for q in bank.questions
        for source in q.sources
        if source.rpartition(":")[0] not in sizes
        or not 1 <= int(source.rpartition(":")[2]) <= sizes[source.rpartition(":")[0]]
    ]
    assert bad == []


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def test_no_reference_answer_copies_a_seed(bank: Bank) -> None:
    seeds = shared_path("seeds")
    runs: set[tuple[str, ...]] = set()
    for path in seeds.glob("0*.txt"):
        seed_words = words(path.read_text(encoding="utf-8"))
        runs.update(tuple(seed_words[i : i + COPY_RUN]) for i in range(len(seed_words) - COPY_RUN + 1))
    copied = []
    for q in bank.questions:
        answer_words = words(q.answer)
        for i in range(len(answer_words) - COPY_RUN + 1):
            if tuple(answer_words[i : i + COPY_RUN]) in runs:
                copied.append(f"{q.id}: {' '.join(answer_words[i : i + COPY_RUN])}")
                break
    assert copied == []


def answer_text(bank: Bank, question_id: str) -> str:
    q = bank.question(question_id)
    return " ".join([q.question, q.answer, *q.key_points]).lower()


@pytest.mark.parametrize(
    ("question_id", "must", "must_not"),
    [
        pytest.param(
            "sft-qlora", ["4-bit", "normalfloat", "double quantization", "paged"], [], id="qlora-expansion"
        ),
        pytest.param(
            "fundamentals-gpt4-vs-gpt3",
            ["never disclosed"],
            ["1.7 trillion", "1.76 trillion"],
            id="gpt4-size",
        ),
        pytest.param("fundamentals-model-families", ["t5"], [" ts "], id="t5-not-ts"),
    ],
)
def test_seed_errors_are_corrected(
    bank: Bank, question_id: str, must: list[str], must_not: list[str]
) -> None:
    text = answer_text(bank, question_id)
    for phrase in must:
        assert phrase in text, phrase
    for phrase in must_not:
        assert phrase not in text, phrase


def test_dpo_is_not_described_as_rl_with_a_reward_model(bank: Bank) -> None:
    text = answer_text(bank, "alignment-dpo")
    assert "without training a separate reward model" in text
    assert "without a reinforcement-learning loop" in text


def test_seventy_billion_memory_arithmetic(bank: Bank) -> None:
    text = " ".join(q.answer for q in bank.questions if "70b" in q.answer.lower()).lower()
    assert "140 gb" in text and "280 gb" in text
