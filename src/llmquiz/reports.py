"""Exam reports for machines: the JSON document and JUnit XML."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from llmquiz.errors import BadInputError
from llmquiz.exam import ExamReport


def exam_json(report: ExamReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def junit_xml(report: ExamReport) -> str:
    """One testcase per question; a question below the pass mark is a failure with its details."""
    failures = sum(1 for item in report.items if item.score < report.pass_mark)
    suite = ET.Element(
        "testsuite",
        name="llmquiz exam",
        tests=str(len(report.items)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("score", report.score),
        ("pass_mark", report.pass_mark),
        ("passed", str(report.passed).lower()),
        ("grader", report.grader),
    ):
        ET.SubElement(properties, "property", name=name, value=str(value))
    for item in report.items:
        case = ET.SubElement(
            suite, "testcase", classname=f"llmquiz.{item.question.topic}", name=item.question.id
        )
        if item.score >= report.pass_mark:
            continue
        missed = "".join(f"\n- {point}" for point in item.missed)
        failure = ET.SubElement(
            case,
            "failure",
            message=f"score {item.score} ({item.verdict}), pass mark {report.pass_mark:g}",
            type=item.verdict,
        )
        failure.text = f"score: {item.score}\nverdict: {item.verdict}\nmissed:{missed or ' none'}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_text_atomically(path: Path, text: str) -> None:
    """Write a report so that a reader never sees half of it."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step: a reader sees the old file or the new one."""
    target = path.expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_output(path: Path, data: bytes, protected: Mapping[Path, str]) -> None:
    """Write an output file (`export -o`) atomically, only over a regular file that is not
    (inside) one of `protected`, which maps a path to what it is ("the history file");
    anything else is refused before a byte is written."""
    target = path.expanduser()
    if target.is_symlink():
        raise BadInputError(f"{path}: is a symbolic link; not written through")
    if target.exists() and not target.is_file():
        raise BadInputError(f"{path}: not a regular file; not overwritten")
    resolved = target.resolve()
    for guarded, what in protected.items():
        guarded = guarded.expanduser().resolve()
        if resolved == guarded or guarded in resolved.parents:
            raise BadInputError(f"{path}: is {what}; not overwritten")
    write_bytes_atomically(target, data)
