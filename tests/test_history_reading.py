"""Reading the history: every kind of line, alone and in any mix, and what it reads as.

Every line goes through `HistoryRecord.from_dict`, the one rule for what a record is: a line
is kept as a record, skipped as damaged (one warning for all the damaged lines of a read,
naming them), or, when blank, skipped silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmquiz.history import HistoryRecord, append_record, damage_warnings, read_history
from llmquiz.paths import history_file

WRITTEN = HistoryRecord(
    ts="2026-01-01T09:00:00Z",
    session="s1",
    mode="quiz",
    question_id="rag-what-is",
    topic="rag",
    answer="retrieval, then generation",
    score=64,
    verdict="partial",
    missed=("cites sources",),
    grader="semantic:all-MiniLM-L6-v2",
)


def line(**changes: object) -> bytes:
    """A line as this version writes it, with some keys changed (`...`: the key left out)."""
    data = {**WRITTEN.to_dict(), **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...}, ensure_ascii=False).encode()


PLAIN = line()
# each kind of line, and what reading it gives: a record, a damaged line (warned about) or nothing
ODD_LINES = [
    pytest.param(PLAIN, "kept", id="plain"),
    pytest.param(line(self_rating=4, override="correct", elapsed_s=12.5), "kept", id="plain-rated"),
    pytest.param(line(answer='emoji 🚀, tab\t, quote " and \\u2028'), "kept", id="plain-unicode"),
    pytest.param(
        b'{"ts":"2026-01-02T00:00:00Z","question_id":"q","score":5}', "kept", id="only-required-keys"
    ),
    pytest.param(line(future={"from": "another version"}), "kept", id="unknown-key"),
    pytest.param(line(missed=None), "kept", id="missed-null"),
    pytest.param(line(missed=["a", 3]), "kept", id="missed-not-text"),
    pytest.param(line(score=80.0), "kept", id="score-float"),
    pytest.param(line(score=80.5), "kept", id="score-fraction"),
    pytest.param(line(score="80"), "kept", id="score-text"),
    pytest.param(line(score=True), "kept", id="score-bool"),
    pytest.param(line(self_rating=0), "damaged", id="rating-0"),
    pytest.param(line(self_rating=6), "damaged", id="rating-6"),
    pytest.param(line(self_rating=True), "kept", id="rating-bool"),
    pytest.param(line(self_rating=3.0), "kept", id="rating-float"),
    pytest.param(line(override="maybe"), "kept", id="override-unknown"),
    pytest.param(line(session=5), "kept", id="session-number"),
    pytest.param(line(topic=None), "kept", id="topic-null"),
    pytest.param(line(elapsed_s=12), "kept", id="elapsed-int"),
    pytest.param(line(elapsed_s="slow"), "damaged", id="elapsed-text"),
    pytest.param(line(v="1"), "damaged", id="version-text"),
    pytest.param(line(ts="2026-01-01T11:00:00+02:00"), "kept", id="ts-offset"),
    pytest.param(line(ts="2026-01-01 09:00:00"), "kept", id="ts-naive-space"),
    pytest.param(line(ts="not a time"), "damaged", id="ts-bad"),
    pytest.param(line(ts=5), "damaged", id="ts-number"),
    pytest.param(line(question_id=...), "damaged", id="no-question-id"),
    pytest.param(PLAIN[:-1] + b',"score":7}', "kept", id="duplicate-key"),
    pytest.param(PLAIN + b" " + PLAIN, "damaged", id="two-objects-on-a-line"),
    pytest.param(PLAIN[:40] + b"\n" + PLAIN[40:], "damaged", id="object-over-two-lines"),
    pytest.param(PLAIN + b"\r", "kept", id="crlf"),
    pytest.param(b"   ", "skipped", id="blank"),
    pytest.param(b"[1, 2]", "damaged", id="array"),
    pytest.param(b"null", "damaged", id="null"),
    pytest.param(b'{"ts": "\xff"}', "damaged", id="bad-utf8"),
    pytest.param(PLAIN[:-9], "damaged", id="torn"),
    pytest.param(line(score=-1), "damaged", id="score-negative"),
    pytest.param(line(score=101), "damaged", id="score-101"),
    pytest.param(line(score=10**23), "damaged", id="score-huge"),
    pytest.param(PLAIN.replace(b'"score": 64', b'"score": 1e400'), "damaged", id="score-infinite"),
    pytest.param(line(ts="9999-12-31T23:59:59Z"), "damaged", id="ts-year-9999"),
    pytest.param(line(ts="0001-01-01T00:00:00+14:00"), "damaged", id="ts-year-1-east-of-utc"),
    pytest.param(line(ts="1969-12-31T23:59:59Z"), "damaged", id="ts-before-1970"),
    pytest.param(line(ts="2199-12-31T23:59:59"), "kept", id="ts-naive-near-the-end"),
    pytest.param(line(elapsed_s=-1), "damaged", id="elapsed-negative"),
    pytest.param(line(elapsed_s=1e300), "damaged", id="elapsed-huge"),
    pytest.param(line(elapsed_s=True), "damaged", id="elapsed-bool"),
    pytest.param(b"[" * 5000 + b"]" * 5000, "damaged", id="deep-array"),
]


def expected(lines: list[bytes], outcomes: list[str]) -> tuple[list[HistoryRecord], list[int]]:
    """The records and the damaged line numbers of these table lines, one after another."""
    records: list[HistoryRecord] = []
    damaged: list[int] = []
    number = 1
    for raw, outcome in zip(lines, outcomes, strict=True):
        physical = raw.split(b"\n")
        if outcome == "kept":
            records.append(HistoryRecord.from_dict(json.loads(raw)))
        elif outcome == "damaged":
            damaged += [number + i for i, part in enumerate(physical) if part.strip()]
        number += len(physical)
    return records, damaged


def assert_reads_as_expected(home: Path, lines: list[bytes], outcomes: list[str]) -> None:
    history_file(home).parent.mkdir(parents=True, exist_ok=True)
    history_file(home).write_bytes(b"\n".join(lines))
    log = read_history(home)
    records, damaged = expected(lines, outcomes)
    assert list(map(repr, log.records)) == list(map(repr, records))  # 12 == 12.0 == True: not enough
    assert log.warnings == damage_warnings(history_file(home), damaged)  # one warning for them all


@pytest.mark.parametrize(("odd", "outcome"), ODD_LINES)
def test_each_kind_of_line(llmquiz_home: Path, odd: bytes, outcome: str) -> None:
    assert_reads_as_expected(llmquiz_home, [PLAIN, odd, PLAIN, b""], ["kept", outcome, "kept", "skipped"])
    assert read_history(llmquiz_home).records[0] == WRITTEN


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([tuple(p.values) for p in ODD_LINES] + [(PLAIN, "kept")] * 20), max_size=60))
def test_any_mix_of_lines_reads_as_each_line_alone(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[bytes, str]]
) -> None:
    home = tmp_path_factory.mktemp("home")
    assert_reads_as_expected(home, [raw for raw, _ in lines], [outcome for _, outcome in lines])


def test_what_this_version_writes_reads_back_the_same(llmquiz_home: Path) -> None:
    written = [
        WRITTEN,
        WRITTEN._replace(self_rating=2, override="incorrect", elapsed_s=3.5, kind="open"),
        WRITTEN._replace(answer="ünïcode ✓\nnew line", missed=()),
    ]
    for record in written:
        append_record(llmquiz_home, record)
    log = read_history(llmquiz_home)
    assert (log.records, log.warnings) == (written, [])
