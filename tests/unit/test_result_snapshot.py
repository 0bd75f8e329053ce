"""The result snapshot's comparison (tests/result_snapshot.py) can fail: what it leaves out, and what it does not."""

import json

from tests import result_snapshot


def test_the_comparison_sees_a_changed_verdict_and_a_changed_number():
    """What the snapshot compares can fail: a status, a number in a message, `gradable`, a build step."""
    document = {"score": 90.0, "gradable": True, "criteria": [{"id": "port", "status": "passed", "message": "adds 290.1 MB"}],
                "build": {"steps": [{"instruction": "COPY . .", "failed": False}]}, "timings": {"build": 3.1}}
    same = json.loads(json.dumps(document)) | {"timings": {"build": 9.9}}
    assert result_snapshot.differences({"a": result_snapshot.normalise(document)}, {"a": result_snapshot.normalise(same)}) == []
    for change in ({"gradable": False}, {"criteria": [{"id": "port", "status": "failed", "message": "adds 290.1 MB"}]},
                   {"criteria": [{"id": "port", "status": "passed", "message": "adds 391.0 MB"}]},
                   {"build": {"steps": [{"instruction": "COPY . /app", "failed": False}]}}):
        changed = result_snapshot.normalise(json.loads(json.dumps(document)) | change)
        assert result_snapshot.differences({"a": result_snapshot.normalise(document)}, {"a": changed}), change
