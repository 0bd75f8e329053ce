"""What a batch leaves in --out besides the per-learner JSON: grades.csv, junit.xml, and
Gradescope's results.json for each learner."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from graders.batch import leaderboard
from graders.course import Lab, Leaderboard
from graders.results import UNSCORED


def load_results(out: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((out / "results").glob("*.json"))]


def verdict(result: dict[str, Any]) -> str:
    """passed / not yet / not gradable, for a row of the gradebook."""
    if not result.get("gradable", _gradable_before_1_2(result)):
        return "not gradable"
    return "passed" if result["passed"] else "not yet"


def _gradable_before_1_2(result: dict[str, Any]) -> bool:
    """A result document written before `gradable` existed (schema 1.1, met by --resume)."""
    return result["max_score"] != 0 and not any("too few for a pass/fail verdict" in p for p in result["problems"])


CSV_UNSCORED = {"not_gradable": "n/a", "skipped": "skipped"}


def write_csv(lab: Lab, results: list[dict[str, Any]], path: Path) -> None:
    ids = [c.id for c in lab.rubric]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner", *ids, "total", "max", "percent", "status"])
        for result in results:
            points = {c["id"]: CSV_UNSCORED.get(c["status"], f"{c['points']:g}") for c in result["criteria"]}
            writer.writerow([result["learner"], *(points.get(i, "") for i in ids), f"{result['score']:g}",
                             f"{result['max_score']:g}", f"{result['percent']:g}", verdict(result)])


def write_junit(lab: Lab, results: list[dict[str, Any]], path: Path) -> None:
    suites = ET.Element("testsuites", name=f"dockerlab {lab.id}")
    for result in results:
        criteria = result["criteria"]
        suite = ET.SubElement(suites, "testsuite", name=result["learner"], tests=str(len(criteria)),
                              failures=str(sum(c["status"] in ("failed", "partial") for c in criteria)),
                              skipped=str(sum(c["status"] in UNSCORED for c in criteria)),
                              time=f"{result['timings'].get('total', 0):.2f}")
        for criterion in criteria:
            case = ET.SubElement(suite, "testcase", classname=f"{lab.id}.{result['learner']}", name=criterion["id"])
            text = f"{criterion['points']:g}/{criterion['max_points']:g}: {criterion['message']}"
            if criterion["status"] in ("failed", "partial"):
                ET.SubElement(case, "failure", message=criterion["message"][:500]).text = f"{text}\nhint: {criterion['hint']}"
            elif criterion["status"] in UNSCORED:
                ET.SubElement(case, "skipped", message=criterion["message"][:500])
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def write_gradescope(results: list[dict[str, Any]], folder: Path, board: Leaderboard | None = None) -> None:
    """One results.json per learner, in Gradescope's autograder format (with its `leaderboard` field
    when the lab has one)."""
    for result in results:
        tests = []
        for criterion in result["criteria"]:
            if criterion["status"] in UNSCORED:
                continue  # left out of the maximum, as in our own score
            output = criterion["message"] + (f"\nHint: {criterion['hint']}" if criterion["hint"] else "")
            tests.append({
                "name": criterion["title"],
                "number": criterion["id"],
                "score": criterion["points"],
                "max_score": criterion["max_points"],
                "status": "passed" if criterion["status"] == "passed" else "failed",
                "output": output,
                "visibility": "visible" if criterion["visibility"] == "visible" else "after_published",
            })
        document = {"score": result["score"], "execution_time": round(result["timings"].get("total", 0)),
                    "output": "; ".join(result["problems"]) or f"{result['percent']:g}% of the gradable points",
                    "tests": tests}
        if board is not None:
            document["leaderboard"] = leaderboard.gradescope(result, board)
        target = folder / result["learner"] / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, indent=2))
