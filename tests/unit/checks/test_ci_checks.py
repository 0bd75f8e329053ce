"""Lab 05's `published`: the commit's tag pushed, and the production file running by digest what the
registry holds and this CI run pushed (graders.checks.ci_published), on fake CI runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders import course
from graders.facts import CiCommand, CiRun
from tests.unit.checks.helpers import run

PARAMS = {c.id: c.params for c in course.load().lab("05-ship-it").rubric}["published"]
SPACE = "127.0.0.1:40001/g-abc"
SHA = "0f" * 20
DIGEST = "sha256:" + "d" * 64
OTHER = "sha256:" + "e" * 64
TAGGED = f"{SPACE}/iris:{SHA}"


def production(image: str) -> str:
    return f"services:\n  api:\n    image: {image}\n    read_only: true\n"


def ci(image: str | None = f"{SPACE}/iris@{DIGEST}", *, pushed: dict[str, str] | None = None,
       held: dict[str, str | None] | None = None, code: int = 0, log: str = "done") -> CiRun:
    pushed = {TAGGED: DIGEST} if pushed is None else pushed
    held = {**{ref: digest for ref, digest in pushed.items()}, **({image: DIGEST} if image and "@" in image else {}),
            **(held or {})}
    return CiRun(code, log, registry=SPACE, commands=[CiCommand(["push", TAGGED], 0, "push", TAGGED)], pushed=pushed,
                 held=held, files={"compose.prod.yaml": production(image) if image else None}, env={"GIT_SHA": SHA})


def test_the_commit_pushed_and_the_file_pinned_to_its_digest_passes():
    outcome = run("ci_published", PARAMS, ci=ci())
    assert outcome.fraction == 1 and outcome.evidence["image"] == f"{SPACE}/iris@{DIGEST}"
    assert outcome.evidence["commands"][0]["docker"] == f"push {TAGGED}"


@pytest.mark.parametrize("image, pushed, held, fraction, words", [
    (f"{SPACE}/iris:latest", None, None, 0.3, "a tag"),                                        # the pin lost
    (f"{SPACE}/iris@{OTHER}", None, {f"{SPACE}/iris@{OTHER}": None}, 0.6, "holds no such image"),
    (f"127.0.0.1:5000/iris@{DIGEST}", None, None, 0.6, "not an image of this CI's registry"),  # by hand, from home
    (f"{SPACE}/iris@{OTHER}", None, {f"{SPACE}/iris@{OTHER}": OTHER}, 0.6, "did not push"),
    (f"{SPACE}/iris@{DIGEST}", {f"{SPACE}/iris:latest": DIGEST}, None, 0.7, f"nothing was pushed as {TAGGED}"),
])
def test_each_part_lost_costs_its_share(image, pushed, held, fraction, words):
    outcome = run("ci_published", PARAMS, ci=ci(image, pushed=pushed, held=held))
    assert outcome.fraction == pytest.approx(fraction) and words in outcome.message


def test_a_failing_script_says_its_exit_code_and_last_line_first():
    outcome = run("ci_published", PARAMS, ci=ci(None, pushed={}, code=1, log="step 1\nERROR: failed to solve"))
    assert outcome.fraction == 0 and outcome.message.startswith("the script exited with code 1; its last line: ERROR")


def test_a_production_file_the_script_broke_or_removed():
    broken = ci()
    broken.files["compose.prod.yaml"] = "services: [\n"
    assert "not valid YAML" in run("ci_published", PARAMS, ci=broken).message
    gone = ci()
    gone.files["compose.prod.yaml"] = None
    assert "left no compose.prod.yaml" in run("ci_published", PARAMS, ci=gone).message


def test_a_submission_without_the_script_loses_the_criterion_with_the_reason(tmp_path):
    import shutil

    from graders import pipeline
    from tests.unit.fake_engine import FakeEngine

    root = Path(__file__).resolve().parents[3]
    folder = tmp_path / "05"
    shutil.copytree(root / "solutions" / "05-ship-it", folder)
    (folder / "ci" / "build.sh").unlink()
    fake = FakeEngine()
    result = pipeline.grade(course.load().lab("05-ship-it"), folder, course_root=root, engine=lambda bases: fake)
    published = next(c for c in result.criteria if c.id == "published")
    assert published.points == 0 and "there is no ci/build.sh in the submission" in published.message
    assert not fake.called("run_ci")
