"""The checks that read the built image: its metadata (port, user, env, volumes), its size, and what is
in it or left out of it."""

import pytest

from graders import checks
from tests.unit.checks.helpers import MULTI, run, run03
from tests.unit.fakes import facts, image


def test_exposed_port():
    assert run("exposed_port", {"port": 8000}).fraction == 1
    outcome = run("exposed_port", {"port": 8000}, image=image(exposed_ports=["80/tcp"]))
    assert outcome.fraction == 0 and "80/tcp" in outcome.message


def test_non_root_user():
    from graders.checks.non_root import PROCESS_UID

    assert run("non_root_user", inside={PROCESS_UID: 10001}).fraction == 1
    assert run("non_root_user", image=image(user=""), inside={PROCESS_UID: 0}).fraction == 0
    assert run("non_root_user", image=image(user="root:root"), inside={PROCESS_UID: 0}).fraction == 0
    assert "runs as uid 0" in run("non_root_user", inside={PROCESS_UID: 0}).message


def test_env_and_volumes():
    nvidia = {"names": ["NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES"]}
    both = {"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute"}
    assert run03("env_set", nvidia, image=image(env=both)).fraction == 1
    assert run03("env_set", nvidia, image=image(env={"NVIDIA_VISIBLE_DEVICES": "all"})).fraction == 0.5
    paths = {"paths": ["/data", "/output", "/checkpoints"]}
    assert run03("volumes_declared", paths, image=image(volumes=["/checkpoints", "/data", "/output"])).fraction == 1
    assert "/output" in run03("volumes_declared", paths, image=image(volumes=["/data", "/checkpoints"])).message


@pytest.mark.parametrize("added_mb, fraction", [(100, 1.0), (320, 1.0), (420, 0.5), (520, 0.0), (900, 0.0)])
def test_size_added_is_linear_between_bounds(added_mb, fraction):
    outcome = run("size_added", {"full_mb": 320, "zero_mb": 520},
                  image=image(size_bytes=160_000_000 + added_mb * 1_000_000))
    assert outcome.fraction == pytest.approx(fraction)


@pytest.mark.parametrize("size_mb, fraction", [(100, 1.0), (300, 1.0), (350, 2 / 3), (450, 0.0)])
def test_size_vs_baseline(size_mb, fraction):
    outcome = run("size_vs_baseline", {"full_at_percent": 40, "zero_at_percent": 10},
                  image=image(size_bytes=size_mb * 1_000_000), baseline=image(size_bytes=500_000_000))
    assert outcome.fraction == pytest.approx(fraction)


def test_large_files_skip_programs_and_packages():
    from graders.checks.large_files import LargeFilesAbsentParams, query

    asked = query(LargeFilesAbsentParams())
    listing = "30000\t/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n48000\t/models/iris-knn/table.f32\n"
    outcome = run("large_files_absent", inside={asked: (0, listing)})
    assert outcome.fraction == 0 and "table.f32" in outcome.message and "cc1" not in outcome.message
    assert run("large_files_absent", inside={asked: (0, listing.splitlines()[0])}).fraction == 1


def test_paths_absent_partial_per_group():
    from graders.checks.paths_absent import PathsAbsentParams, query

    params = {"groups": {"compilers": ["/usr/bin/gcc*"], "lists": ["/var/lib/apt/lists/*Packages*"]}}
    asked = query(PathsAbsentParams.model_validate(params))
    assert "/usr/bin/gcc*" in asked.arg and asked.where == "image"
    assert run("paths_absent", params, inside={asked: (0, "")}).fraction == 1
    outcome = run("paths_absent", params, inside={asked: (0, "/usr/bin/gcc-12\n")})
    assert outcome.fraction == 0.5 and "compilers (/usr/bin/gcc-12)" in outcome.message


def test_files_absent_partial_by_group():
    from graders.checks.files_absent import LIST_FILES

    listing = "/app/app/main.py\n/app/tests/test_app.py\n/app/lab.ipynb\n/usr/lib/x/tests/test_y.py\n"
    params = {"groups": {"tests": ["*/tests/test_*.py"], "notebooks": ["*.ipynb"], "git": ["*/.git"]}}
    outcome = run("files_absent", params, inside={LIST_FILES: (0, listing)})
    assert outcome.fraction == pytest.approx(1 / 3)
    assert "/app/tests/test_app.py" in outcome.message and "git" not in outcome.evidence["found"]
    assert run("files_absent", params, inside={LIST_FILES: (0, "/app/app/main.py\n")}).fraction == 1


def test_ignore_file_judged_with_the_image(tmp_path):
    from graders.checks.files_absent import LIST_FILES

    params = {"groups": {"tests": ["*/tests/test_*.py"], "git": ["*/.git"]},
              "context": {"tests": ["tests/test_app.py"], "git": [".git/HEAD"], "secrets": [".env"]}}
    paths = checks.get("files_absent").context_paths(checks.get("files_absent").Params.model_validate(params))
    assert paths == ["tests/test_app.py", ".git/HEAD", ".env"]
    clean = {LIST_FILES: (0, "/app/app/main.py\n")}
    folder = facts(inside=clean)
    folder.context = _read_context(tmp_path, paths)
    none = run("files_absent", params, _facts=folder)
    assert none.fraction == 0.5 and "there is no .dockerignore" in none.message  # selective COPY, no file
    (tmp_path / ".dockerignore").write_text("# keep out\ntests/\n.git\n")
    folder.context = _read_context(tmp_path, paths)
    some = run("files_absent", params, _facts=folder)
    assert some.fraction == pytest.approx(0.5 + 0.5 * 2 / 3) and "secrets (.env)" in some.message
    (tmp_path / ".dockerignore").write_text("tests/\n.git\n.env\n")
    folder.context = _read_context(tmp_path, paths)
    assert run("files_absent", params, _facts=folder).fraction == 1
    (tmp_path / "Dockerfile.dockerignore").write_text(".git\n")  # BuildKit reads this one first
    folder.context = _read_context(tmp_path, paths)
    assert "tests (tests/test_app.py)" in run("files_absent", params, _facts=folder).message


def test_carried_from_builder():
    from graders.checks.carried import CarriedFromBuilderParams, query

    params = {"modules": ["fastknn"]}
    asked = query(CarriedFromBuilderParams.model_validate(params))
    assert run("carried_from_builder", params, _facts=facts(MULTI, inside={asked: (0, "")})).fraction == 1
    broken = run("carried_from_builder", params, _facts=facts(MULTI, inside={asked: (0, "ModuleNotFoundError: No module named 'fastknn'")}))
    assert broken.fraction == 0.5 and "cannot import fastknn" in broken.message
    nothing = run("carried_from_builder", params, _facts=facts("FROM x\nCMD [\"y\"]\n", inside={asked: (1, "err")}))
    assert nothing.fraction == 0


def _read_context(folder, paths):
    """The fact the static stage makes from the folder's ignore file."""
    from graders.engine import context
    from graders.facts import BuildContext

    found = context.ignore_file(folder)
    return BuildContext(found.name if found else None, context.excluded(folder, paths))
