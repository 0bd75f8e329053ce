"""`dockerlab images prepare --lab LAB`: the base images a lab needs first, and no others."""

from pathlib import Path

import pytest

from graders import course
from graders.commands import images
from graders.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_each_lab_needs_the_images_its_files_name_and_what_their_stand_ins_are_built_on():
    loaded = course.load(ROOT / "course.yml")
    assert images.needed(loaded, "01-basic-dockerfile", ROOT) == ["debian:bookworm-slim", "python:3.11-slim"]
    stack = images.needed(loaded, "04-compose-stack", ROOT)
    assert {"redis:8.0", "postgres:15-bookworm", "debian:trixie-slim", "python:3.11-slim"} <= set(stack)
    assert {"registry:2.8", "python:3.11-slim", "debian:bookworm-slim"} <= set(images.needed(loaded, "05-ship-it", ROOT))
    assert "registry:2.8" not in images.needed(loaded, "01-basic-dockerfile", ROOT)
    every = {image.ref for image in loaded.base_images}
    assert {ref for lab in loaded.labs for ref in images.needed(loaded, lab.id, ROOT)} <= every


def test_an_unknown_lab_is_a_usage_error_before_the_engine_is_asked(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(UsageError, match="no lab '09-nope'"):
        images.main(course_path=ROOT / "course.yml", offline=True, ca_bundle=None, labs=["09-nope"])


def test_dev_grade_prepares_only_the_graded_labs_images():
    script = (ROOT / "dev").read_text()
    grade = [line.strip() for line in script.split("  grade)", 1)[1].split(";;", 1)[0].splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert 'prepare_images --lab "$1"' in grade and "setup_core" in grade
    assert not {"setup", "browser", "hub_proxy", "prepare_images"} & set(grade)  # no full set-up, no extras
