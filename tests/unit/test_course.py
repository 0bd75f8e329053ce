"""Loading course.yml: the real file loads; every kind of mistake names file, line, key path."""

import shutil
from pathlib import Path

import pytest

from graders import checks, course
from graders.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_the_course_loads(course):
    assert [lab.id for lab in course.labs][0] == "01-basic-dockerfile"
    lab = course.lab("01-basic-dockerfile")
    assert lab.max_points == 100
    assert all(criterion.hint for criterion in lab.rubric)


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "labs" / "a").mkdir(parents=True, exist_ok=True)
    (tmp_path / "solutions" / "a").mkdir(parents=True, exist_ok=True)
    path = tmp_path / "course.yml"
    path.write_text(text)
    return path


GOOD = """\
title: T
version: "1"
base_images:
  - ref: debian:bookworm-slim
    stand_in: debootstrap
labs:
  - id: 01-a
    title: A
    folder: labs/a
    solution: solutions/a
    pass_threshold: 70
    rubric:
      - id: builds
        title: Builds
        points: 10
        type: builds
        hint: fix it
      - id: size
        title: Small
        points: 5
        type: size_added
        params: {full_mb: 10, zero_mb: 20}
        requires: [builds]
        hint: smaller
"""


def test_a_minimal_course_loads(tmp_path):
    loaded = course.load(write(tmp_path, GOOD))
    assert loaded.labs[0].rubric[1].requires == ["builds"]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("points: 10", "points: ten", "course.yml:15 labs[0].rubric[0].points: expected a number"),
        ("type: builds", "type: biulds", "course.yml:16 labs[0].rubric[0].type: unknown check type 'biulds'; known types: "),
        ("        hint: fix it\n", "        hint: fix it\n        colour: red\n", "course.yml:18 labs[0].rubric[0].colour: unknown key"),
        ("{full_mb: 10, zero_mb: 20}", "{full_mb: 10}", "course.yml:22 labs[0].rubric[1].params.zero_mb: required key is missing"),
        ("requires: [builds]", "requires: [bilds]", "course.yml:23 labs[0].rubric[1].requires: 'bilds' is not another criterion"),
        ("id: size", "id: builds", "course.yml:18 labs[0].rubric[1].id: duplicate criterion id 'builds'"),
        ("folder: labs/a", "folder: labs/missing", "course.yml:9 labs[0].folder: folder 'labs/missing' does not exist"),
        ("pass_threshold: 70", "pass_threshold: 170", "course.yml:11 labs[0].pass_threshold: Input should be less than or equal to 100"),
        ("    title: A\n", "", "course.yml:7 labs[0].title: required key is missing"),
        ("rubric:\n", "rubric: [\n", "course.yml:"),
    ],
)
def test_mistakes_name_line_and_path(tmp_path, old, new, expected):
    assert old in GOOD
    with pytest.raises(ConfigError) as caught:
        course.load(write(tmp_path, GOOD.replace(old, new, 1)))
    assert str(caught.value).startswith(expected), str(caught.value)


def test_unknown_type_lists_the_known_ones(tmp_path):
    with pytest.raises(ConfigError) as caught:
        course.load(write(tmp_path, GOOD.replace("type: builds", "type: nope")))
    for name in checks.known():
        assert name in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it"):
        course.load(tmp_path / "absent.yml")


def test_the_course_is_found_through_dockerlab_course(tmp_path, monkeypatch):
    """An installed package (a wheel, the course image) is pointed at its course by $DOCKERLAB_COURSE,
    the file or its folder; a wrong one is a message naming the variable, not a traceback."""
    from graders.course import CHECKOUT_COURSE, default_path

    monkeypatch.delenv("DOCKERLAB_COURSE", raising=False)
    assert default_path() == CHECKOUT_COURSE
    copy = tmp_path / "course"
    copy.mkdir()
    shutil.copy(CHECKOUT_COURSE, copy / "course.yml")
    for folder in ("labs", "solutions"):
        shutil.copytree(CHECKOUT_COURSE.parent / folder, copy / folder)
    monkeypatch.setenv("DOCKERLAB_COURSE", str(copy))
    assert default_path() == copy / "course.yml"
    monkeypatch.setenv("DOCKERLAB_COURSE", str(copy / "course.yml"))
    assert course.load().title == course.load(CHECKOUT_COURSE).title
    monkeypatch.setenv("DOCKERLAB_COURSE", str(tmp_path / "nowhere.yml"))
    with pytest.raises(ConfigError, match=r"DOCKERLAB_COURSE"):
        course.load()


def test_a_check_judges_its_own_params_against_the_lab(tmp_path):
    """Check.validate: the loader knows no check by name; each says what of its params does not fit
    the lab (a checkpoint check in a lab whose job names no checkpoint), reported at its line."""
    text = GOOD.replace("    rubric:\n", "    job: {writable: [/checkpoints]}\n    rubric:\n").replace(
        "        hint: smaller\n", "        hint: smaller\n"
        "      - id: ckpt\n        title: Checkpoint\n        points: 5\n        type: checkpoint_saved\n"
        "        params: {folder: /checkpoints, epochs: 2, written: 'done: (.+)'}\n        hint: save it\n")
    with pytest.raises(ConfigError, match=r"course.yml:\d+ labs\[0\]\.rubric\[2\]\.params\.folder: the lab's job must name"):
        course.load(write(tmp_path, text))
    fixed = text.replace("    job: {writable: [/checkpoints]}", "    job: {writable: [/checkpoints], checkpoint: '{run}.pt'}")
    assert course.load(write(tmp_path, fixed)).labs[0].rubric[2].type == "checkpoint_saved"


def test_a_lab_is_an_image_lab_or_a_stack_lab(course):
    """The kinds are types: a Compose lab cannot also have a training job or a service; the mistake
    is reported at its key, without the union's tag in the path."""
    assert {lab.id: lab.kind for lab in course.labs} == {
        "01-basic-dockerfile": "image", "02-multi-stage": "image", "03-gpu-training": "image", "04-compose-stack": "stack",
        "05-ship-it": "image"}


def test_a_compose_lab_with_a_job_is_an_error(tmp_path):
    text = GOOD.replace("    rubric:\n", "    compose: {file: compose.yaml, entry: api, port: 8000}\n    job: {args: [x]}\n"
                                          "    rubric:\n")
    with pytest.raises(ConfigError, match=r"labs\[0\]\.job: unknown key"):
        course.load(write(tmp_path, text))


def test_a_mistake_after_a_lab_with_artifacts_still_names_course_yml(tmp_path):
    """The artifacts' loop once took over the name of the file that error messages cite."""
    text = (ROOT / "course.yml").read_text()
    lab04 = text.index("id: 04-compose-stack")
    second = text.index("      - id: ", text.index("      - id: services", lab04) + 1)
    line_end = text.index("\n", second)
    (tmp_path / "course.yml").write_text(text[:second] + "      - id: services" + text[line_end:])
    for name in ("labs", "solutions", "docker"):
        (tmp_path / name).symlink_to(ROOT / name)
    with pytest.raises(ConfigError) as caught:
        course.load(tmp_path / "course.yml")
    assert str(caught.value).startswith("course.yml:"), str(caught.value)
    assert "duplicate criterion id 'services'" in str(caught.value)
