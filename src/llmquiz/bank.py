"""Load and validate YAML question banks into immutable Question objects."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmquiz.errors import BankError, InputFileError, Problem, UnknownQuestionError, UnknownTopicError
from llmquiz.inputfiles import line_of, parse_yaml, read_text_file
from llmquiz.wording import did_you_mean

KINDS = ("free", "short", "choice", "open")
DIFFICULTIES = ("easy", "medium", "hard")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TOP_KEYS = {"topic", "title", "questions"}
QUESTION_KEYS = {
    "id",
    "question",
    "answer",
    "key_points",
    "difficulty",
    "tags",
    "sources",
    "kind",
    "accept",
    "choices",
    "correct",
    "keywords",
    "misconceptions",
}
MISCONCEPTION_KEYS = {"claim", "correction"}
# a misconception claim this close (rapidfuzz ratio) to a key point, and negated alike, restates it
NEAR_COPY = 90
_NEGATED = re.compile(r"\b(?:not|no|never|without|none|nothing)\b|n't\b", re.IGNORECASE)
BANK_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Misconception:
    """A wrong claim learners commonly make about a question, and what is true instead."""

    claim: str
    correction: str


@dataclass(frozen=True)
class Question:
    """One bank question, as loaded; `file` and `line` say where it is defined."""

    id: str
    topic: str
    question: str
    answer: str
    key_points: tuple[str, ...] = ()
    difficulty: str = "medium"
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    kind: str = "free"
    accept: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    correct: int | None = None
    keywords: tuple[str, ...] = ()
    misconceptions: tuple[Misconception, ...] = ()
    file: str = ""
    line: int = 0

    @property
    def auto_graded(self) -> bool:
        """Open questions have no single right answer: the learner rates themselves."""
        return self.kind != "open"


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    file: str
    questions: tuple[Question, ...]
    # (id, line) of every entry of the file with an id, usable or not: duplicates across files
    entries: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Bank:
    topics: tuple[Topic, ...]
    _by_id: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for topic in self.topics:
            for question in topic.questions:
                self._by_id.setdefault(question.id, question)

    @property
    def questions(self) -> list[Question]:
        return [q for topic in self.topics for q in topic.questions]

    def question(self, question_id: str) -> Question:
        try:
            return self._by_id[question_id]
        except KeyError:
            hint = did_you_mean(question_id, list(self._by_id)) or " (see `llmquiz list`)"
            raise UnknownQuestionError(f"unknown question id: {question_id!r}{hint}") from None

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id

    def topic(self, slug: str) -> Topic:
        wanted = slug.lower()  # slugs are lowercase: `--topic Rag` is the topic rag
        for topic in self.topics:
            if topic.slug == wanted:
                return topic
        slugs = [t.slug for t in self.topics]
        hint = did_you_mean(wanted, slugs)
        raise UnknownTopicError(f"unknown topic: {slug!r}{hint} (topics: {', '.join(slugs) or 'none'})")

    def select(self, topics: Sequence[str] = ()) -> list[Question]:
        """The questions of the given topics (all topics when none are given)."""
        if not topics:
            return self.questions
        chosen = {topic.slug: topic for topic in map(self.topic, topics)}  # `rag` and `Rag`: once
        return [q for topic in chosen.values() for q in topic.questions]


# --- validation -------------------------------------------------------------------------


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _text_list(raw: dict, key: str, file: str, problems: list[Problem], qid: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int | float) and str(v).strip() for v in value
    ):
        problems.append(Problem(file, line_of(raw, key), f"{qid}: {key} must be a list of texts"))
        return ()
    return tuple(str(v).strip() for v in value)


def _build_question(
    raw: Any, topic: str, file: str, problems: list[Problem], item_line: int
) -> Question | None:
    line = line_of(raw, default=item_line)
    if not isinstance(raw, dict):
        problems.append(Problem(file, line, "each question must be a mapping with id, question, answer"))
        return None
    qid = raw.get("id")
    if not isinstance(qid, str) or not QUESTION_ID.match(qid):
        problems.append(
            Problem(
                file,
                line_of(raw, "id"),
                f"question id must be a slug like 'rag-what-is', got {qid!r}",
            )
        )
        return None
    before = len(problems)
    for key in sorted(set(raw) - QUESTION_KEYS, key=str):
        problems.append(Problem(file, line_of(raw, key), f"{qid}: unknown key {key!r}"))
    for key in ("question", "answer"):
        if not _is_text(raw.get(key)):
            problems.append(Problem(file, line_of(raw, key, line), f"{qid}: {key} is missing or empty"))
    kind = raw.get("kind", "free")
    if kind not in KINDS:
        problems.append(Problem(file, line_of(raw, "kind"), f"{qid}: kind must be one of {', '.join(KINDS)}"))
    difficulty = raw.get("difficulty", "medium")
    if difficulty not in DIFFICULTIES:
        problems.append(
            Problem(file, line_of(raw, "difficulty"), f"{qid}: difficulty must be easy, medium or hard")
        )
    lists = {
        key: _text_list(raw, key, file, problems, qid)
        for key in ("key_points", "tags", "sources", "accept", "choices", "keywords")
    }
    if kind == "short" and not lists["accept"]:
        problems.append(Problem(file, line, f"{qid}: kind short needs a non-empty accept list"))
    correct = raw.get("correct")
    if kind == "choice":
        if len(lists["choices"]) < 2:
            problems.append(Problem(file, line, f"{qid}: kind choice needs at least 2 choices"))
        elif (
            not isinstance(correct, int)
            or isinstance(correct, bool)
            or not 0 <= correct < len(lists["choices"])
        ):
            problems.append(
                Problem(
                    file,
                    line_of(raw, "correct", line),
                    f"{qid}: correct must be the 0-based index of a choice (0-{len(lists['choices']) - 1})",
                )
            )
    elif "correct" in raw:
        problems.append(Problem(file, line_of(raw, "correct"), f"{qid}: correct is only for kind choice"))
    misconceptions = _misconceptions(raw, lists["key_points"], file, problems, qid)
    if len(problems) > before:
        return None
    return Question(
        id=qid,
        topic=topic,
        question=str(raw["question"]).strip(),
        answer=str(raw["answer"]).strip(),
        difficulty=difficulty,
        kind=kind,
        correct=correct if kind == "choice" else None,
        misconceptions=misconceptions,
        file=file,
        line=line,
        **lists,
    )


def _misconceptions(
    raw: dict, key_points: tuple[str, ...], file: str, problems: list[Problem], qid: str
) -> tuple[Misconception, ...]:
    """The entry's `misconceptions`: each a mapping with a non-empty claim and correction."""
    from rapidfuzz import fuzz

    value = raw.get("misconceptions")
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(
            Problem(file, line_of(raw, "misconceptions"), f"{qid}: misconceptions must be a list")
        )
        return ()
    out: list[Misconception] = []
    seen: set[str] = set()
    item_lines = getattr(value, "item_lines", [])
    for index, item in enumerate(value):
        line = item_lines[index] if index < len(item_lines) else line_of(raw, "misconceptions")
        where = f"{qid}: misconception {index + 1}"
        if not isinstance(item, dict):
            problems.append(Problem(file, line, f"{where} must be a mapping with claim and correction"))
            continue
        line = line_of(item, default=line)
        for key in sorted(set(item) - MISCONCEPTION_KEYS, key=str):
            problems.append(Problem(file, line_of(item, key, line), f"{where}: unknown key {key!r}"))
        texts = {}
        for key in ("claim", "correction"):
            if _is_text(item.get(key)):
                texts[key] = " ".join(str(item[key]).split())
            else:
                problems.append(
                    Problem(file, line_of(item, key, line), f"{where}: {key} is missing or empty")
                )
        claim = texts.get("claim")
        if claim is None:
            continue
        if claim.lower() in seen:
            problems.append(Problem(file, line_of(item, "claim", line), f"{where}: duplicate claim"))
        seen.add(claim.lower())
        for point in key_points:
            same_polarity = bool(_NEGATED.search(claim)) == bool(_NEGATED.search(point))
            if same_polarity and fuzz.ratio(claim.lower(), point.lower()) >= NEAR_COPY:
                problems.append(
                    Problem(
                        file,
                        line_of(item, "claim", line),
                        f"{where}: the claim nearly copies the key point {point!r}",
                    )
                )
                break
        if "correction" in texts:
            out.append(Misconception(claim, texts["correction"]))
    return tuple(out)


def parse_bank_text(text: str, file: str) -> tuple[Topic | None, list[Problem]]:
    """Validate one bank file's text; return its topic (if usable) and every problem found."""
    data, problems = parse_yaml(text, file)
    if data is None and problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [
            *problems,
            Problem(file, 1, "a bank file must be a mapping with topic, title, questions"),
        ]
    for key in sorted(set(data) - TOP_KEYS, key=str):
        problems.append(Problem(file, line_of(data, key), f"unknown key {key!r}"))
    slug = data.get("topic")
    if not isinstance(slug, str) or not SLUG.match(slug):
        problems.append(
            Problem(file, line_of(data, "topic"), f"topic must be a lowercase slug, got {slug!r}")
        )
        slug = "?"
    title = data.get("title", slug)
    if not _is_text(title):
        problems.append(Problem(file, line_of(data, "title"), "title must be a non-empty text"))
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.append(Problem(file, line_of(data, "questions"), "questions must be a non-empty list"))
        raw_questions = []
    questions: list[Question] = []
    seen: dict[str, int] = {}
    item_lines = getattr(raw_questions, "item_lines", [])
    for index, raw in enumerate(raw_questions):
        item_line = item_lines[index] if index < len(item_lines) else line_of(data, "questions")
        qid = raw.get("id") if isinstance(raw, dict) else None
        duplicate = False
        if isinstance(qid, str):
            line = line_of(raw, default=item_line)
            duplicate = qid in seen
            if duplicate:
                problems.append(Problem(file, line, f"duplicate id {qid!r} (first at line {seen[qid]})"))
            else:
                seen[qid] = line
        question = _build_question(raw, slug, file, problems, item_line)  # a duplicate's problems too
        if question is not None and not duplicate:
            questions.append(question)
    problems.sort(key=lambda problem: problem.line)
    topic = Topic(slug, str(title).strip(), file, tuple(questions), entries=tuple(seen.items()))
    return topic, problems


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their *.yaml / *.yml files (sorted); keep files as given.

    A file named twice (or reached through two names) is read once.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            try:
                found = sorted(p for p in path.iterdir() if p.suffix in BANK_SUFFIXES and p.is_file())
            except OSError as exc:
                raise BankError(
                    [Problem(str(path), 0, f"cannot list the folder: {exc.strerror or exc}")]
                ) from None
            if not found:
                raise BankError([Problem(str(path), 0, "no .yaml bank files in this folder")])
            files.extend(found)
        else:
            files.append(path)
    return _distinct(files)


def _distinct(files: list[Path]) -> list[Path]:
    real = [os.path.realpath(path) for path in files]
    return [path for index, path in enumerate(files) if real[index] not in real[:index]]


Parser = Callable[[str, str], tuple[Topic | None, list[Problem]]]


def check_bank(paths: Sequence[Path], parse: Parser = parse_bank_text) -> tuple[Bank, list[Problem]]:
    """Load every bank file, collecting all problems instead of stopping at the first.

    `parse` reads one file's text (bankcache.py's ParsedBankCache.parse keeps the clean files).
    """
    topics: list[Topic] = []
    problems: list[Problem] = []
    for path in bank_files(paths):
        try:
            text = read_text_file(path)
        except InputFileError as exc:
            problems.extend(exc.problems)
            continue
        topic, file_problems = parse(text, str(path))
        problems.extend(file_problems)
        if topic is not None:
            topics.append(topic)
    problems.extend(_cross_file_problems(topics))
    return Bank(tuple(topics)), problems


def _cross_file_problems(topics: Sequence[Topic]) -> list[Problem]:
    problems: list[Problem] = []
    topic_files: dict[str, str] = {}
    id_places: dict[str, str] = {}
    for topic in topics:
        if topic.slug in topic_files and topic.slug != "?":
            problems.append(
                Problem(
                    topic.file,
                    1,
                    f"topic {topic.slug!r} is also defined in {topic_files[topic.slug]}",
                )
            )
        topic_files.setdefault(topic.slug, topic.file)
        for qid, line in topic.entries or [(q.id, q.line) for q in topic.questions]:  # bad ones too
            place = f"{topic.file}:{line}"
            if qid in id_places and id_places[qid] != place:
                problems.append(Problem(topic.file, line, f"duplicate id {qid!r} (also at {id_places[qid]})"))
            id_places.setdefault(qid, place)
    return problems


def load_bank(paths: Sequence[Path], parse: Parser = parse_bank_text) -> Bank:
    """Load a bank for use; any problem at all is a BankError (exit 2)."""
    bank, problems = check_bank(paths, parse)
    if problems:
        raise BankError(problems)
    if not bank.questions:
        raise BankError([Problem(", ".join(str(p) for p in paths), 0, "the bank has no questions")])
    return bank
