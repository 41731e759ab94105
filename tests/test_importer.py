"""The notes importer: the five seed documents, small fixtures of each format, bad input."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from llmquiz.bank import QUESTION_ID, parse_bank_text
from llmquiz.errors import BadInputError, InputFileError
from llmquiz.importing import (
    OPEN_ANSWER,
    ImportedItem,
    ImportResult,
    detect_format,
    find_items,
    import_notes,
    render_bank_yaml,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared/seeds"
FIXTURES = Path(__file__).resolve().parent / "data" / "import"
SEED_FILES = {
    "000": "000_d9446e4a114e93e5.txt",
    "001": "001_80abf55833768349.txt",
    "002": "002_b9953f8e77cdd6f6.txt",
    "003": "003_6ec52e3ba47eb7cc.txt",
    "004": "004_efab28d294c1bd01.txt",
}


def seed(key: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds not found (a user's clone)")
    return SEEDS / SEED_FILES[key]


@functools.cache
def imported(key: str) -> ImportResult:
    """Each seed is imported once per test session."""
    return import_notes(seed(key))


def item_at(result: ImportResult, line: int) -> ImportedItem:
    matches = [item for item in result.items if item.line == line]
    assert matches, f"no item starts at line {line}: {[item.line for item in result.items]}"
    return matches[0]


# --- the seed documents ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "count", "fmt"),
    [
        pytest.param("000", 21, "numbered", id="000-numbered-bullets"),
        pytest.param("001", 50, "markdown", id="001-markdown-numbered-headings"),
        pytest.param("002", 83, "numbered", id="002-three-numbered-lists"),
        pytest.param("003", 42, "flashcards", id="003-flashcards"),
        pytest.param("004", 9, "markdown", id="004-markdown-question-headings"),
    ],
)
def test_seed_counts_and_format(key: str, count: int, fmt: str) -> None:
    result = imported(key)
    assert result.format == fmt
    assert detect_format(seed(key).read_text(encoding="utf-8")) == fmt
    assert len(result.items) == count


@pytest.mark.parametrize(
    ("key", "numbers"),
    [
        pytest.param("000", [list(range(1, 22))], id="000"),
        pytest.param("001", [list(range(1, 51))], id="001"),
        pytest.param("002", [list(range(1, 26)), list(range(1, 19)), list(range(1, 41))], id="002"),
        pytest.param("003", [list(range(1, 43))], id="003"),
    ],
)
def test_seed_numbering_is_followed(key: str, numbers: list[list[int]]) -> None:
    """Each top-level list is complete and in order; nested lists are not counted."""
    assert [item.number for item in imported(key).items] == [n for run in numbers for n in run]


@pytest.mark.parametrize(
    ("key", "line", "end_line", "question"),
    [
        pytest.param("000", 3, 5, "A language model (LM) is...", id="000-first"),
        pytest.param("000", 15, 18, "What do we mean by fine-tuned language models", id="000-nested-bullet"),
        pytest.param("000", 20, 23, "Which one is more suitable for a chatbot", id="000-blank-before-answer"),
        pytest.param("000", 77, 83, "Smaller language models ($\\leq 100M$ parameters)", id="000-last"),
        pytest.param("001", 1, 27, "Tokenization? Why important in LLMs?", id="001-image-after-answer"),
        pytest.param("001", 31, 95, "LoRA & QLoRA?", id="001-subheadings-in-answer"),
        pytest.param("001", 600, 619, "Derivative of ReLU activation function", id="001-formula-block"),
        pytest.param("001", 1092, 1107, "Common challenges using LLMs", id="001-last"),
        pytest.param("002", 11, 15, "Definition", id="002-notes-first"),
        pytest.param(
            "002", 197, 197, "LLMs represent a transformative leap in AI", id="002-notes-12-no-answer"
        ),
        pytest.param("002", 423, 439, "Key Considerations for Adoption", id="002-notes-last"),
        pytest.param(
            "002", 443, 477, 'Define "pre-training" vs. "fine-tuning" in LLMs.', id="002-important-first"
        ),
        pytest.param(
            "002", 1177, 1239, "Explain the algorithm architecture for LLAMA", id="002-important-last"
        ),
        pytest.param("002", 1243, 1245, "What is a Large Language Model (LLM)?", id="002-interview-first"),
        pytest.param(
            "002",
            1398,
            1408,
            "How do you fine-tune an LLM for domain-specific applications like healthcare or finance?",
            id="002-wrapped-question",
        ),
        pytest.param(
            "002",
            1700,
            1722,
            "What are common debugging strategies when fine-tuning LLMs?",
            id="002-wrapped-question-2",
        ),
        pytest.param(
            "002", 1738, 1744, "What are emerging trends in LLM research", id="002-last-no-signature"
        ),
        pytest.param("003", 3, 47, "In the context of LLM prompting explain", id="003-card-1"),
        pytest.param("003", 57, 64, "In the context of LLM prompting exaplin", id="003-card-2"),
        pytest.param(
            "003", 204, 209, "what other techniques are there apart from RLHF?", id="003-card-8-open"
        ),
        pytest.param("003", 481, 516, "What is the passkey task in LLM?", id="003-card-17-no-rating"),
        pytest.param(
            "003", 518, 533, "what is supervised fine tuning? on an instruction dataset?", id="003-card-18"
        ),
        pytest.param("003", 535, 550, "What is direct preference optimization DPO?", id="003-card-19"),
        pytest.param("003", 744, 751, "Why if you need to serve multiple requests", id="003-card-42-last"),
        pytest.param(
            "004", 27, 30, "What is the difference between Predictive/Discriminative", id="004-first"
        ),
        pytest.param("004", 41, 63, "How are Large Language Models trained?", id="004-subsections"),
        pytest.param("004", 105, 108, "What are the stopping criteria for decoding", id="004-last"),
    ],
)
def test_seed_items_start_and_end_at_the_right_lines(
    key: str, line: int, end_line: int, question: str
) -> None:
    item = item_at(imported(key), line)
    assert item.end_line == end_line
    assert item.question.startswith(question)


def test_table_of_contents_is_not_a_question() -> None:
    questions = [item.question for item in imported("004").items]
    assert not any("Table of Contents" in question for question in questions)
    assert all(question.endswith("?") for question in questions)


def test_nested_lists_and_trailers_are_not_items() -> None:
    result = imported("002")
    assert not any(item.question.endswith(":") for item in result.items)
    assert all("LinkedIn" not in item.answer for item in result.items)
    assert "Important Questions" not in item_at(result, 423).answer


def test_truncated_first_question_line_is_dropped() -> None:
    card = item_at(imported("003"), 535)
    assert card.question == "What is direct preference optimization DPO?"


@pytest.mark.parametrize("key", [pytest.param(key, id=key) for key in SEED_FILES])
def test_images_and_markup_are_dropped(key: str) -> None:
    for item in imported(key).items:
        text = f"{item.question}\n{item.answer}"
        assert "![" not in text and ".png" not in text, item.line
        assert "**" not in text, item.line


def test_formulas_are_kept() -> None:
    result = imported("001")
    softmax = r"$$\text{softmax}(x_{i})={\frac{e^{x_{i}}}{\sum_{j=1}^{n}e^{x_{j}}}}$$"
    assert softmax in item_at(result, 486).answer
    assert "$x = [x_1, x_2, ..., x_n]$" in item_at(result, 486).answer
    relu = item_at(result, 600).answer
    assert r"$$f(x)=\text{max}(0,x)$$" in relu
    assert "\\begin{cases}\n1 & {\\mathrm{if~}}x > 0" in relu
    assert r"$\leq 100M$" in item_at(imported("000"), 77).question


def test_rating_boilerplate_is_dropped() -> None:
    for item in imported("003").items:
        assert "How well did you know this" not in item.answer
        assert not re.search(r"^(Not at all|Perfectly|[1-5])$", item.answer, re.MULTILINE), item.line


def test_cards_without_answers_are_open_with_a_warning() -> None:
    result = imported("003")
    open_cards = {item.number for item in result.items if item.kind == "open"}
    assert open_cards == {8, *range(25, 42)}
    assert all(item.answer == "" and item.key_points == () for item in result.items if item.kind == "open")
    name = SEED_FILES["003"]
    assert f"{name}:204: card 8 has no answer; imported as an open question" in result.warnings
    assert len(result.warnings) == 18


def test_flattened_bullets_become_key_points() -> None:
    temperature = item_at(imported("001"), 118)
    assert (
        "A low temperature (close to 0): makes model highly deterministic, favoring most probable tokens"
        in temperature.key_points
    )
    applications = item_at(imported("002"), 47)
    assert applications.answer.startswith("- Text Generation: Creative writing, such as stories")
    assert len(applications.key_points) == 6


@pytest.mark.parametrize("key", [pytest.param(key, id=key) for key in SEED_FILES])
def test_key_points_are_short_and_few(key: str) -> None:
    for item in imported(key).items:
        assert len(item.key_points) <= 6, item.line
        assert all(len(point.split()) <= 25 for point in item.key_points), item.line
        if item.kind == "free" and key in ("000", "001", "002"):
            assert item.key_points, item.line


@pytest.mark.parametrize("key", [pytest.param(key, id=key) for key in SEED_FILES])
def test_ids_are_unique_stable_slugs(key: str) -> None:
    result = imported(key)
    ids = [item.id for item in result.items]
    assert len(set(ids)) == len(ids)
    assert all(QUESTION_ID.match(qid) and qid.startswith(f"{result.topic}-") for qid in ids)
    assert ids == [item.id for item in import_notes(seed(key)).items]


@pytest.mark.parametrize("key", [pytest.param(key, id=key) for key in SEED_FILES])
def test_bank_yaml_of_each_seed_validates(key: str) -> None:
    result = imported(key)
    topic, problems = parse_bank_text(render_bank_yaml(result), f"{key}.yaml")
    assert problems == []
    assert topic is not None and topic.slug == result.topic
    assert len(topic.questions) == len(result.items)
    for question, item in zip(topic.questions, result.items, strict=True):
        assert question.sources == (f"{SEED_FILES[key]}:{item.line}",)
        assert question.kind == item.kind
        assert question.answer == (item.answer or OPEN_ANSWER)


@pytest.mark.parametrize("key", [pytest.param(key, id=key) for key in SEED_FILES])
def test_find_items_gives_the_start_lines(key: str) -> None:
    """What a bank coverage test uses: the line where each item of a seed starts."""
    text = seed(key).read_text(encoding="utf-8")
    lines = [item.line for item in find_items(text)]
    assert lines == [item.line for item in imported(key).items]
    source = text.splitlines()
    for item in find_items(text):
        if item.number is not None:
            assert source[item.line - 1].lstrip("# ").startswith(str(item.number)), item.line


# --- small fixtures of each format -----------------------------------------------------------


def test_markdown_fixture() -> None:
    result = import_notes(FIXTURES / "notes.md")
    assert (result.format, result.topic, result.title) == ("markdown", "notes", "Transformer interview notes")
    assert [(item.line, item.end_line, item.kind) for item in result.items] == [
        (7, 24, "free"),
        (26, 29, "free"),
        (31, 31, "open"),
    ]
    attention = result.items[0]
    assert attention.question == "What is self-attention?"
    assert "- queries are compared with keys: by a scaled dot product; per head" in attention.answer
    assert r"\frac{QK^T}{\sqrt{d_k}}" in attention.answer
    assert "Cost\nQuadratic in the sequence length, see the paper." in attention.answer
    assert "# this is a comment, not a heading" in attention.answer
    assert "attention.png" not in attention.answer and "arxiv" not in attention.answer
    assert result.items[1].question == "Explain greedy decoding"
    assert result.warnings == (
        "notes.md:31: section 'Why do we need positional encodings?' has no answer; "
        "imported as an open question",
    )


def test_numbered_fixture() -> None:
    result = import_notes(FIXTURES / "numbered.txt")
    assert result.format == "numbered"
    assert [(item.number, item.line, item.end_line) for item in result.items] == [
        (1, 3, 6),
        (2, 8, 18),
        (3, 20, 25),
        (4, 27, 27),
        (1, 31, 33),
    ]
    token, stages, quantization, opinion, perplexity = result.items
    assert token.answer.endswith("Words outside the vocabulary are split into subword tokens.")
    assert stages.key_points == (
        "Pretraining: Next-token prediction on a large corpus",
        "Fine-tuning: Supervised training on instructions",
        "Alignment: preference tuning such as RLHF or DPO.",
    )
    assert quantization.question.endswith("needs when it is served?")
    assert (
        quantization.answer.splitlines()[0]
        == "- weights are stored with fewer bits: int8 or 4-bit instead of fp16"
    )
    assert opinion.kind == "open"
    assert "Follow me" not in perplexity.answer


def test_flashcard_fixture() -> None:
    result = import_notes(FIXTURES / "cards.txt", topic="cards-demo")
    assert result.format == "flashcards"
    assert [(item.number, item.line, item.end_line, item.kind) for item in result.items] == [
        (1, 3, 12, "free"),
        (2, 22, 31, "free"),
        (3, 41, 46, "open"),
        (4, 47, 54, "free"),
    ]
    assert result.items[1].question == "What is LoRA?"
    assert result.items[3].question == "Why use beam search?"
    assert result.items[0].key_points == (
        "Retrieval-augmented generation retrieves documents at query time.",
        "The documents are given to the model as context.",
    )
    assert [item.id for item in result.items][:2] == ["cards-demo-what-rag", "cards-demo-what-lora"]
    assert result.warnings == ("cards.txt:41: card 3 has no answer; imported as an open question",)


def test_inline_q_and_a_markers(tmp_path: Path) -> None:
    path = tmp_path / "inline.txt"
    path.write_text("Q: What is top-p sampling?\nA: Sampling from the smallest set of tokens\n", "utf-8")
    [item] = import_notes(path).items
    assert (item.question, item.answer, item.line) == (
        "What is top-p sampling?",
        "Sampling from the smallest set of tokens",
        1,
    )


def test_repeated_questions_get_distinct_ids_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "twice.txt"
    path.write_text(
        "1. What is RAG?\n- retrieval\n\n2. What is RAG?\n- generation\n\n3. What is RAG 2?\n- again\n",
        "utf-8",
    )
    result = import_notes(path)
    assert [item.id for item in result.items] == ["twice-what-rag", "twice-what-rag-2", "twice-what-rag-2-2"]
    assert result.warnings == ("twice.txt:4: same question as line 1; imported as twice-what-rag-2",)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        pytest.param("# Notes\n\n## What is RAG?\nRetrieval.\n", "markdown", id="question-heading"),
        pytest.param("# 1. **Tokenization**\n\ntext\n", "markdown", id="numbered-heading"),
        pytest.param("1\nQ\nWhat?\nA\nThat.\n", "flashcards", id="card"),
        pytest.param("# Questions\n\n1. What is RAG?\n- retrieval\n", "numbered", id="numbered-list"),
        pytest.param("```\n# what is this?\n```\n1. Why?\n- because\n", "numbered", id="heading-in-code"),
        pytest.param("just prose\n", "numbered", id="fallback"),
    ],
)
def test_detect_format(text: str, fmt: str) -> None:
    assert detect_format(text) == fmt


def test_find_items_with_a_given_format() -> None:
    text = "## What is RAG?\nRetrieval.\n\n1. What is LoRA?\n- adapters\n"
    assert [item.question for item in find_items(text, "numbered")] == ["What is LoRA?"]
    assert [item.question for item in find_items(text, "markdown", topic="t")] == ["What is RAG?"]
    with pytest.raises(ValueError, match="unknown notes format"):
        find_items(text, "csv")


def test_render_bank_yaml_shape() -> None:
    result = import_notes(FIXTURES / "cards.txt")
    data = yaml.safe_load(render_bank_yaml(result))
    assert list(data) == ["topic", "title", "questions"]
    first, _, open_card, _ = data["questions"]
    assert first == {
        "id": "cards-what-rag",
        "question": "What is RAG?",
        "answer": result.items[0].answer,
        "key_points": list(result.items[0].key_points),
        "difficulty": "medium",
        "tags": ["imported"],
        "sources": ["cards.txt:3"],
    }
    assert open_card["kind"] == "open" and open_card["answer"] == OPEN_ANSWER
    assert "key_points" not in open_card
    assert "answer: |-\n" in render_bank_yaml(result)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"  \n\n\t\n", "the file is empty", id="blank"),
        pytest.param(
            b"Some thoughts about models.\nNothing numbered here.\n", "no questions found", id="prose"
        ),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data", id="binary"),
        pytest.param(b"1. Caf\xe9?\n- cr\xe8me\n", "not valid UTF-8", id="latin-1"),
    ],
)
def test_bad_input_is_an_input_file_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as caught:
        import_notes(path)
    assert caught.value.problems[0].file == str(path)


def test_missing_file_is_an_input_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        import_notes(tmp_path / "missing.md")


def test_invalid_topic_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="lowercase slug"):
        import_notes(FIXTURES / "cards.txt", topic="My Cards")


def test_topic_defaults_to_a_slug_of_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "My LLM Notes (v2).md"
    path.write_text("## What is RAG?\nRetrieval-augmented generation.\n", "utf-8")
    result = import_notes(path)
    assert result.topic == "my-llm-notes-v2"
    assert result.items[0].id == "my-llm-notes-v2-what-rag"


# --- any text at all ---------------------------------------------------------------------------

LINE_PARTS = st.sampled_from(
    [
        "",
        "# ",
        "## ",
        "### ",
        "1. ",
        "2. ",
        "3. ",
        "- ",
        "  - ",
        "    * ",
        "Q",
        "A",
        "Q: ",
        "A: ",
        "$$",
        "```",
    ]
)
LINE_TEXT = st.sampled_from(
    [
        "",
        "What is RAG?",
        "Why?",
        "Label:",
        "text here.",
        "**bold** _it_",
        "$x_1$",
        "![](a.png)",
        "7",
        "Perfectly",
    ]
)
NOTES = st.lists(st.tuples(LINE_PARTS, LINE_TEXT).map("".join), max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(text=NOTES)
def test_any_text_gives_well_formed_items(text: str) -> None:
    count = len(text.split("\n"))
    for fmt in (None, "markdown", "numbered", "flashcards"):
        items = find_items(text, fmt, topic="fuzz")
        lines = [item.line for item in items]
        assert lines == sorted(set(lines))
        assert all(1 <= item.line <= item.end_line <= count for item in items)
        assert len({item.id for item in items}) == len(items)
        assert all((item.kind == "open") == (item.answer == "") for item in items)
        assert all(item.question.strip() and len(item.key_points) <= 6 for item in items)
        if items:
            result = ImportResult("fuzz", "Fuzz", "fuzz.txt", fmt or detect_format(text), tuple(items), ())
            assert parse_bank_text(render_bank_yaml(result), "fuzz.yaml")[1] == []


def test_nested_list_whose_numbers_run_into_the_next_question(tmp_path: Path) -> None:
    path = tmp_path / "steps.txt"
    path.write_text(
        "1. How is RLHF done?\n\n1. Collect preferences.\n2. Train a reward model.\n3. Optimise with PPO.\n\n"
        "2. What is DPO?\n\nDirect preference optimisation.\n\n3. Explain LoRA.\n\n1. Freeze the weights.\n"
        "2. Train low-rank matrices.\n\n4. Why quantize?\n\n- less memory\n",
        "utf-8",
    )
    result = import_notes(path)
    assert [(item.number, item.line) for item in result.items] == [(1, 1), (2, 7), (3, 11), (4, 16)]
    assert result.items[0].key_points == (
        "Collect preferences.",
        "Train a reward model.",
        "Optimise with PPO.",
    )
