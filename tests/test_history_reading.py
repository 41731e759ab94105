"""Reading the history fast: lines decoded in C must give exactly what `from_dict` gives.

`read_history` decodes batches of plain lines (as this version writes them) with msgspec and
sends any batch holding something else down the line-by-line path of `HistoryRecord.from_dict`.
Either way the records and the damaged-line warnings must be the same as reading every line
by that slow path, whatever the lines hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmquiz import history
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
ODD_LINES = [
    pytest.param(PLAIN, id="plain"),
    pytest.param(line(self_rating=4, override="correct", elapsed_s=12.5), id="plain-rated"),
    pytest.param(line(answer='emoji 🚀, tab\t, quote " and \\u2028'), id="plain-unicode"),
    pytest.param(b'{"ts":"2026-01-02T00:00:00Z","question_id":"q","score":5}', id="only-required-keys"),
    pytest.param(line(future={"from": "another version"}), id="unknown-key"),
    pytest.param(line(missed=None), id="missed-null"),
    pytest.param(line(missed=["a", 3]), id="missed-not-text"),
    pytest.param(line(score=80.0), id="score-float"),
    pytest.param(line(score=80.5), id="score-fraction"),
    pytest.param(line(score="80"), id="score-text"),
    pytest.param(line(score=True), id="score-bool"),
    pytest.param(line(self_rating=0), id="rating-0"),
    pytest.param(line(self_rating=6), id="rating-6"),
    pytest.param(line(self_rating=True), id="rating-bool"),
    pytest.param(line(self_rating=3.0), id="rating-float"),
    pytest.param(line(override="maybe"), id="override-unknown"),
    pytest.param(line(session=5), id="session-number"),
    pytest.param(line(topic=None), id="topic-null"),
    pytest.param(line(elapsed_s=12), id="elapsed-int"),
    pytest.param(line(elapsed_s="slow"), id="elapsed-text"),
    pytest.param(line(v="1"), id="version-text"),
    pytest.param(line(ts="2026-01-01T11:00:00+02:00"), id="ts-offset"),
    pytest.param(line(ts="2026-01-01 09:00:00"), id="ts-naive-space"),
    pytest.param(line(ts="not a time"), id="ts-bad"),
    pytest.param(line(ts=5), id="ts-number"),
    pytest.param(line(question_id=...), id="no-question-id"),
    pytest.param(PLAIN[:-1] + b',"score":7}', id="duplicate-key"),
    pytest.param(PLAIN + b" " + PLAIN, id="two-objects-on-a-line"),
    pytest.param(PLAIN[:40] + b"\n" + PLAIN[40:], id="object-over-two-lines"),
    pytest.param(PLAIN + b"\r", id="crlf"),
    pytest.param(b"   ", id="blank"),
    pytest.param(b"[1, 2]", id="array"),
    pytest.param(b"null", id="null"),
    pytest.param(b'{"ts": "\xff"}', id="bad-utf8"),
    pytest.param(PLAIN[:-9], id="torn"),
    pytest.param(line(score=-1), id="score-negative"),
    pytest.param(line(score=101), id="score-101"),
    pytest.param(line(score=10**23), id="score-huge"),
    pytest.param(PLAIN.replace(b'"score": 64', b'"score": 1e400'), id="score-infinite"),
    pytest.param(line(ts="9999-12-31T23:59:59Z"), id="ts-year-9999"),
    pytest.param(line(ts="0001-01-01T00:00:00+14:00"), id="ts-year-1-east-of-utc"),
    pytest.param(line(ts="1969-12-31T23:59:59Z"), id="ts-before-1970"),
    pytest.param(line(ts="2199-12-31T23:59:59"), id="ts-naive-near-the-end"),
    pytest.param(line(elapsed_s=-1), id="elapsed-negative"),
    pytest.param(line(elapsed_s=1e300), id="elapsed-huge"),
    pytest.param(line(elapsed_s=True), id="elapsed-bool"),
    pytest.param(b"[" * 5000 + b"]" * 5000, id="deep-array"),
]


def read_line_by_line(raw: bytes) -> tuple[list[HistoryRecord], list[int]]:
    """The reference: every line through from_dict, as before the fast path existed."""
    records: list[HistoryRecord] = []
    damaged: list[int] = []
    history._parse_lines(raw.split(b"\n"), 1, records, damaged)
    return records, damaged


def assert_reads_like_line_by_line(home: Path, raw: bytes) -> None:
    history_file(home).parent.mkdir(parents=True, exist_ok=True)
    history_file(home).write_bytes(raw)
    log = read_history(home)
    records, damaged = read_line_by_line(raw)
    assert list(map(repr, log.records)) == list(map(repr, records))  # 12 == 12.0 == True: not enough
    assert log.warnings == damage_warnings(history_file(home), damaged)  # one warning for them all


@pytest.mark.parametrize("odd", ODD_LINES)
def test_each_kind_of_line_reads_as_from_dict_reads_it(llmquiz_home: Path, odd: bytes) -> None:
    assert_reads_like_line_by_line(llmquiz_home, b"\n".join([PLAIN, odd, PLAIN]) + b"\n")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([p.values[0] for p in ODD_LINES] + [PLAIN] * 20), max_size=60))
def test_any_mix_of_lines_in_small_batches_reads_as_from_dict_reads_it(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    home = tmp_path_factory.mktemp("home")
    batch = history._BATCH_LINES
    history._BATCH_LINES = 4  # many batches, plain and not, side by side
    try:
        assert_reads_like_line_by_line(home, b"\n".join(lines))
    finally:
        history._BATCH_LINES = batch


def test_lines_this_version_writes_take_the_fast_path(llmquiz_home: Path) -> None:
    """What append_record writes decodes in C (else a long history reads three times slower)."""
    written = [
        WRITTEN,
        WRITTEN._replace(self_rating=2, override="incorrect", elapsed_s=3.5, kind="open"),
        WRITTEN._replace(answer="ünïcode ✓\nnew line", missed=()),
    ]
    for record in written:
        append_record(llmquiz_home, record)
    lines = history_file(llmquiz_home).read_bytes().split(b"\n")
    assert history._decode_plain_lines(lines) == written
    assert history._PlainLine.__struct_fields__ == history._STORED_FIELD_NAMES


def test_a_batch_with_a_damaged_line_goes_down_the_slow_path() -> None:
    assert history._decode_plain_lines([PLAIN, b"{", PLAIN]) is None
    assert history._decode_plain_lines([PLAIN, b"", PLAIN]) is not None
