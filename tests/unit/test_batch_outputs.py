"""Discovery of submissions, and what a batch writes: CSV, JUnit, Gradescope, HTML."""

import csv
import json
import xml.etree.ElementTree as ET

import pytest

from graders.batch import outputs
from graders.batch.discover import discover
from graders.errors import UsageError
from graders.report import html


def result(learner, statuses, passed=True):
    criteria = [{"id": cid, "title": cid.title(), "status": status, "points": 5.0 if status == "passed" else 0.0,
                 "max_points": 5.0, "message": f"{cid} was {status}", "hint": "" if status == "passed" else f"fix {cid}",
                 "evidence": {}, "visibility": "visible"} for cid, status in statuses.items()]
    gradable = [c for c in criteria if c["status"] not in ("skipped", "not_gradable")]
    score = sum(c["points"] for c in gradable)
    maximum = 5.0 * len(gradable)
    return {"learner": learner, "criteria": criteria, "score": score, "max_score": maximum,
            "percent": round(100 * score / maximum, 1) if maximum else 0, "passed": passed, "problems": [],
            "timings": {"total": 3.0}, "image": None, "build": None}


def test_discover_folders_and_archives(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob c.zip").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("skip me")
    found = discover(tmp_path, "01-x")
    assert [(s.learner, s.archive) for s in found] == [("alice", False), ("bob_c", True)]


def test_discover_nbgrader_course(tmp_path):
    (tmp_path / "submitted" / "s1" / "01-x").mkdir(parents=True)
    (tmp_path / "submitted" / "s2" / "02-y").mkdir(parents=True)
    assert [s.learner for s in discover(tmp_path, "01-x")] == ["s1"]


def test_discover_refuses_two_submissions_for_one_learner(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.zip").write_bytes(b"")
    with pytest.raises(UsageError, match="more than one submission for: alice"):
        discover(tmp_path, "01-x")


def test_csv_junit_and_gradescope(tmp_path, lab01):
    ids = [c.id for c in lab01.rubric]
    good = result("alice", {i: "passed" for i in ids})
    marks = {"builds": "failed", "size": "not_gradable", "dockerignore": "skipped"}
    bad = result("bob", {i: marks.get(i, "passed") for i in ids}, False)
    outputs.write_csv(lab01, [good, bad], tmp_path / "grades.csv")
    rows = list(csv.DictReader(open(tmp_path / "grades.csv")))
    assert [r["learner"] for r in rows] == ["alice", "bob"]
    assert rows[1]["builds"] == "0" and rows[1]["size"] == "n/a" and rows[1]["status"] == "not yet"
    assert rows[1]["dockerignore"] == "skipped"
    outputs.write_junit(lab01, [good, bad], tmp_path / "junit.xml")
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    bob = suites.find("testsuite[@name='bob']")
    assert bob.get("failures") == "1" and bob.get("skipped") == "2"
    assert bob.find("testcase[@name='builds']/failure") is not None
    outputs.write_gradescope([good, bad], tmp_path / "gs")
    doc = json.loads((tmp_path / "gs" / "bob" / "results.json").read_text())
    assert {"score", "tests"} <= set(doc) and len(doc["tests"]) == len(ids) - 2
    first = doc["tests"][0]
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(first)


def test_html_pages_show_the_marks_and_draw_charts(lab01):
    ids = [c.id for c in lab01.rubric]
    bob = result("bob", {i: ("failed" if i == "builds" else "passed") for i in ids}, False)
    page = html.feedback_page(bob, lab01.title)
    assert "✘ failed" in page and "fix builds" in page and f"{bob['score']:g} / {bob['max_score']:g}" in page
    summary = html.summary_page([bob, result("alice", {i: "passed" for i in ids})], lab01.title,
                                [(c.id, c.title) for c in lab01.rubric])
    assert summary.count("<svg") == 2 and "feedback/alice.html" in summary and "1 passed" in summary


def test_feedback_shows_refusals_and_the_logs_behind_a_lost_point():
    stack = result("dana", {"healthy-api": "failed", "services": "passed"}, False)
    stack["criteria"][0]["evidence"] = {"logs": ["starting", "curl: not found"], "health_log": ["exit 127"]}
    stack["criteria"][1]["evidence"] = {"logs": ["never shown for a passed criterion"]}
    stack["refusals"] = ["service 'api', services.api.privileged: privileged containers can do anything"]
    page = html.feedback_page(stack, "Lab 04")
    assert "<summary>logs</summary><pre>starting\ncurl: not found</pre>" in page
    assert "<summary>health log</summary>" in page and "never shown" not in page
    assert "not run: service &#x27;api&#x27;, services.api.privileged" in page
