"""The class benchmark's submissions are shaped as a class's are: every one differs from every other
before its dependency step, so none reuses another's pip install from the build cache."""

from __future__ import annotations

from benchmarks.suite import make_class_shaped
from graders.dockerfile import parse


def _before_install(folder) -> list[str]:
    """The instructions up to and including the dependency step, as the build cache keys them."""
    lines = [f"{i.keyword} {i.raw}" for i in parse((folder / "Dockerfile").read_text()).instructions]
    end = next(n for n, line in enumerate(lines) if "pip install" in line)
    return lines[:end + 1]


def test_every_submission_differs_before_its_dependency_step_and_runs_differ_too(tmp_path):
    one = sorted((make_class_shaped(tmp_path, 3, "a")).iterdir())
    two = sorted((make_class_shaped(tmp_path, 3, "b")).iterdir())
    prefixes = [tuple(_before_install(folder)) for folder in one + two]
    assert len(set(prefixes)) == 6  # no two share the layers before pip install, in a run or across runs
    for folder in one:
        assert (folder / "app" / "main.py").is_file() and (folder / "requirements.txt").is_file()
        assert _before_install(folder)[1].startswith("ENV LEARNER=a-")  # right after FROM


def test_the_machine_s_cpu_share_and_the_engine_option_left_out_when_run_again():
    from benchmarks.suite import _without_engine, cpu_busy, cpu_times

    busy, total = cpu_times()
    assert 0 <= busy <= total
    assert cpu_busy((100, 1000), (250, 1200)) == 0.75 and cpu_busy((5, 5), (5, 5)) == 0.0
    assert _without_engine(["--only", "class", "--engine", "sid", "--reps", "3"]) == ["--only", "class", "--reps", "3"]
    assert _without_engine(["--engine=sid", "--quick"]) == ["--quick"]
