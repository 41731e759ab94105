"""The input-file reader and its YAML and JSON loaders: bounded, never an exception but theirs."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmquiz.bank import Bank, load_bank
from llmquiz.errors import InputFileError, LlmquizError
from llmquiz.exam import load_answers
from llmquiz.inputfiles import (
    MAX_ALIAS_EXPANSION,
    MAX_ALIASES,
    line_of,
    parse_json,
    parse_yaml,
    read_input_bytes,
    read_text_file,
)

from .conftest import QUESTIONS


@functools.cache
def shipped_bank() -> Bank:
    return load_bank([QUESTIONS])


def test_reads_a_regular_file_exactly(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"\xef\xbb\xbfhello\nworld\n")
    assert read_input_bytes(path) == b"\xef\xbb\xbfhello\nworld\n"
    assert read_text_file(path) == "hello\nworld\n"  # the BOM dropped


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: os.mkfifo(p), "is a FIFO", id="fifo"),
        pytest.param(lambda p: p.mkdir(), "is a folder", id="folder"),
        pytest.param(lambda p: p.symlink_to("/dev/zero"), "is a character device", id="link-to-device"),
        pytest.param(lambda p: None, "no such file", id="missing"),
        pytest.param(lambda p: p.symlink_to(p.parent / "nowhere"), "no such file", id="dangling-link"),
    ],
)
def test_only_regular_files_are_read(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "input.yaml"
    make(path)
    with pytest.raises(InputFileError, match=message) as caught:
        read_input_bytes(path)
    assert caught.value.problems[0].file == str(path)


def test_the_limit_counts_bytes_read_not_st_size(tmp_path: Path) -> None:
    proc = Path("/proc/self/status")  # st_size 0, yet it has content
    if proc.exists():
        assert read_input_bytes(proc, max_bytes=1 << 20)
        with pytest.raises(InputFileError, match="file too large"):
            read_input_bytes(proc, max_bytes=10)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 101)
    with pytest.raises(InputFileError, match=r"file too large \(0\.0 MB"):
        read_input_bytes(big, max_bytes=100)
    assert read_input_bytes(big, max_bytes=101) == b"x" * 101


def test_text_problems_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"fine\nfine\ncaf\xe9\n")
    with pytest.raises(InputFileError) as caught:
        read_text_file(path)
    assert str(caught.value) == f"{path}:3: not valid UTF-8 text"


def test_yaml_records_lines_and_duplicate_keys() -> None:
    data, problems = parse_yaml("a: 1\nb:\n  - x\n  - y\na: 2\n", "f.yaml")
    assert data == {"a": 2, "b": ["x", "y"]}
    assert line_of(data, "b") == 2 and data["b"].item_lines == [3, 4]
    assert [str(p) for p in problems] == ["f.yaml:5: duplicate key 'a'"]


def test_yaml_aliases_within_the_budget_load() -> None:
    text = "base: &tags [a, b]\n" + "".join(f"k{i}: *tags\n" for i in range(50))
    data, problems = parse_yaml(text, "f.yaml")
    assert problems == [] and data["k49"] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a: &a x\n" + "".join(f"k{i}: *a\n" for i in range(MAX_ALIASES + 1)), "more than 1000 aliases", id="too-many-aliases"),
        pytest.param(f"a: &a {'x' * 1000}\nb: [{', '.join(['*a'] * 1001)}]\n", "aliases expand to more than", id="expansion"),
        pytest.param("a: &a [1, *a]\n", "an alias refers to the node that contains it", id="cycle"),
        pytest.param("? [a, b]\n: x\n", "a key must be a plain value", id="list-key"),
        pytest.param("a: &m {x: 1}\n? *m\n: y\n", "a key must be a plain value", id="alias-key"),
        pytest.param("n: " + "1" * 41 + "\n", "number too large (41 characters)", id="long-integer"),
        pytest.param("n: -1000000000000001\n", "number too large", id="integer-beyond-1e15"),
        pytest.param("n: 0x" + "f" * 30 + "\n", "number too large", id="hex-integer"),
        pytest.param("f: !!float not-a-number\n", "cannot read this value", id="tagged-float-that-is-not"),
    ],
)  # fmt: skip
def test_yaml_refusals_are_problems(text: str, message: str) -> None:
    data, problems = parse_yaml(text, "f.yaml")
    assert data is None
    assert len(problems) == 1 and message in problems[0].message and problems[0].line >= 1


def test_yaml_keeps_timestamps_as_written_and_numbers_as_numbers() -> None:
    data, problems = parse_yaml(
        "when: 2024-02-30\nat: 2001-12-14 21:59:43.10 -5\nn: 1000000000000000\nf: .inf\n", "f"
    )
    assert problems == []
    assert data == {"when": "2024-02-30", "at": "2001-12-14 21:59:43.10 -5", "n": 10**15, "f": float("inf")}


def test_the_expansion_budget_is_what_the_docs_say() -> None:
    assert MAX_ALIAS_EXPANSION == 1_000_000 and MAX_ALIASES == 1_000


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param('{"a": 1,\n "a": 2}', 1, "duplicate key 'a'", id="duplicate"),
        pytest.param('{\n\n"a": ' + "9" * 41 + "}", 3, "number too large", id="long-integer"),
        pytest.param('{"a": 1e999}', 1, "number too large", id="infinite-float"),
        pytest.param('{"a": -Infinity}', 1, "-Infinity is not a JSON number", id="infinity"),
        pytest.param("[" * 50_000 + "]" * 50_000, 1, "nested too deeply", id="deep"),
        pytest.param('{"a": }', 1, "invalid JSON: Expecting value", id="syntax"),
    ],
)
def test_json_refusals_are_problems(text: str, line: int, message: str) -> None:
    data, problems = parse_json(text, "f.json")
    assert data is None and len(problems) == 1
    assert problems[0].line == line and message in problems[0].message


# --- hypothesis: the loaders never raise, whatever they are given ------------------------

# YAML folds the Unicode line breaks NEL, LS and PS inside plain scalars: leave them out
TEXTS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=20
)
anchors = st.sampled_from(["a", "b", "c"])
scalars = st.one_of(
    st.text(alphabet="xyz019 -:.[]{}!&*?#|>'\"\n\t\\", max_size=12),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["~", "null", "true", ".inf", ".nan", "0x1F", "1:30:00", "2024-02-30", "1e999"]),
)


@st.composite
def yaml_with_aliases(draw: st.DrawFn) -> str:
    """YAML text mixing anchors, aliases (to defined, undefined and enclosing nodes) and scalars."""
    lines = []
    for index in range(draw(st.integers(1, 12))):
        indent = "  " * draw(st.integers(0, 2))
        key = draw(
            st.sampled_from([f"k{index}", f"*{draw(anchors)}", f"[{index}]", f"&{draw(anchors)} k{index}"])
        )
        value = draw(
            st.one_of(
                scalars,
                anchors.map(lambda name: f"*{name}"),
                anchors.map(lambda name: f"&{name} [1, *{name}]"),
                st.lists(anchors.map(lambda name: f"*{name}"), max_size=5).map(
                    lambda xs: "[" + ", ".join(xs) + "]"
                ),
                anchors.map(lambda name: f"&{name} {{x: 1}}"),
            )
        )
        lines.append(f"{indent}{key}: {value}")
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(yaml_with_aliases(), st.text(max_size=200)))
def test_yaml_loader_never_raises(text: str) -> None:
    data, problems = parse_yaml(text, "fuzz.yaml")
    assert all(p.file == "fuzz.yaml" and p.line >= 1 for p in problems)
    if problems and data is None:
        assert problems[0].message


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.one_of(st.text(max_size=200), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=15,
).map(json.dumps)))  # fmt: skip
def test_json_loader_never_raises(text: str) -> None:
    _, problems = parse_json(text, "fuzz.json")
    assert all(p.file == "fuzz.json" and p.line >= 1 for p in problems)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".yaml", ".json"]))
def test_answers_files_of_any_bytes_are_input_errors_or_answers(
    tmp_path: Path, raw: bytes, suffix: str
) -> None:
    path = tmp_path / f"answers{suffix}"
    path.write_bytes(raw)
    try:
        answers = load_answers(path, shipped_bank())
    except InputFileError as exc:
        assert exc.problems and all(p.file == str(path) for p in exc.problems)
    except LlmquizError:
        pass
    else:
        assert all(answer is None or answer.encode("utf-8") for answer in answers.values())


@settings(max_examples=100, deadline=None, derandomize=True)
@given(document=st.recursive(
    st.none() | st.booleans() | st.integers() | TEXTS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4),
    max_leaves=25,
))  # fmt: skip
def test_what_safe_dump_writes_loads_back_the_same(document: object) -> None:
    data, problems = parse_yaml(yaml.safe_dump(document, allow_unicode=True), "f.yaml")
    if problems:  # only numbers beyond the limit are refused
        assert all("number too large" in p.message for p in problems)
    else:
        assert data == document
