"""Thirteen result documents (each lab's reference, the starters of Labs 01-04, four Lab 01 flaws) compared field by field
with the kept snapshot, so that a change to the grader that changes a verdict fails here, whatever the
other tests assert. What varies from run to run is left out (tests/result_snapshot.py says what).

An intended change: `DOCKERLAB_SNAPSHOT=write ./dev test tests/integration/test_result_snapshot.py`,
read the diff of tests/integration/snapshot.json, and commit it with the change.
"""

from __future__ import annotations

import json
import os

import pytest

from graders import pipeline
from tests import result_snapshot
from tests.conftest import ROOT

pytestmark = [pytest.mark.docker]

SNAPSHOT = ROOT / "tests" / "integration" / "snapshot.json"
UPDATE = ("\nIf the change is intended: DOCKERLAB_SNAPSHOT=write ./dev test tests/integration/test_result_snapshot.py, "
          "then commit tests/integration/snapshot.json with it")


def test_the_thirteen_documents_match_the_kept_snapshot(engine, course, reference, tmp_path):
    documents, taken_on = {}, {}
    for name, (lab_id, folder) in result_snapshot.cases(tmp_path).items():
        # a reference is graded once in the session: its lab's own test reads the same result
        result = reference(lab_id) if name.endswith(" solution") else pipeline.grade(course.lab(lab_id), folder)
        document = result.to_dict()
        documents[name] = result_snapshot.normalise(document)
        if name.endswith(" solution"):
            taken_on[lab_id] = {key: document["environment"].get(key) for key in ("engine_version", "builder")}
    if os.environ.get("DOCKERLAB_SNAPSHOT") == "write":
        SNAPSHOT.write_text(json.dumps({"taken_on": taken_on, "documents": documents}, indent=1, sort_keys=True) + "\n")
    kept = json.loads(SNAPSHOT.read_text())
    if kept["taken_on"] != taken_on:
        pytest.skip(f"the snapshot was taken on {kept['taken_on']}, and this engine is {taken_on}: messages and "
                    "sizes differ between engines (in CI, on the engine it was taken on, this skip fails)")
    assert len(documents) == 13
    found = result_snapshot.differences(kept["documents"], documents)
    assert not found, "\n".join(found) + UPDATE
