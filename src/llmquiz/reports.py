"""Exam reports for machines: the JSON document and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from llmquiz.exam import ExamReport
from llmquiz.safetext import json_text, xml_text


def exam_json(report: ExamReport) -> str:
    return json_text(report.to_dict())


def junit_xml(report: ExamReport) -> str:
    """One testcase per question; a question below the pass mark is a failure with its details.

    Every text from a bank passes through xml_text: only characters XML allows.
    """
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
        ET.SubElement(properties, "property", name=name, value=xml_text(str(value)))
    for item in report.items:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=xml_text(f"llmquiz.{item.question.topic}"),
            name=xml_text(item.question.id),
        )
        if item.score >= report.pass_mark:
            continue
        missed = "".join(f"\n- {xml_text(point)}" for point in item.missed)
        failure = ET.SubElement(
            case,
            "failure",
            message=f"score {item.score} ({item.verdict}), pass mark {report.pass_mark:g}",
            type=item.verdict,
        )
        failure.text = f"score: {item.score}\nverdict: {item.verdict}\nmissed:{missed or ' none'}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
