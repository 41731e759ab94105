"""Exam reports for machines: the JSON document and JUnit XML."""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
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
    target = path.expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write: {exc.strerror or exc}") from None
