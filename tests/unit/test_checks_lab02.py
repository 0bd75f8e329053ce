"""The Lab 02 checks on fake facts."""

import pytest

from graders import checks
from graders.layers import Efficiency
from tests.unit.fakes import facts, image

MULTI = """\
FROM python:3.11-slim AS builder
RUN pip install x
FROM python:3.11-slim
COPY --from=builder /opt/venv /opt/venv
CMD ["x"]
"""


def run(type_name, params=None, **changes):
    check = checks.get(type_name)
    return check.grade(check.Params.model_validate(params or {}), changes.pop("_facts", None) or facts(**changes))


@pytest.mark.parametrize(
    "text, fraction, words",
    [
        (MULTI, 1.0, "copies from 'builder'"),
        ("FROM python:3.11-slim\nCMD [\"x\"]\n", 0.0, "single stage"),
        (MULTI.replace("COPY --from=builder", "COPY"), 0.5, "copies nothing from a named"),
        (MULTI.replace("FROM python:3.11-slim\nCOPY", "FROM python:3.11\nCOPY"), 0.5, "not slim"),
        (MULTI.replace("--from=builder", "--from=0").replace(" AS builder", ""), 0.5, "named"),
    ],
)
def test_multi_stage(text, fraction, words):
    outcome = run("multi_stage", _facts=facts(text))
    assert outcome.fraction == fraction and words in outcome.message


def test_paths_absent_partial_per_group():
    from graders.checks.paths_absent import P, query

    params = {"groups": {"compilers": ["/usr/bin/gcc*"], "lists": ["/var/lib/apt/lists/*Packages*"]}}
    asked = query(P.model_validate(params))
    assert "/usr/bin/gcc*" in asked.arg and asked.where == "image"
    assert run("paths_absent", params, inside={asked: (0, "")}).fraction == 1
    outcome = run("paths_absent", params, inside={asked: (0, "/usr/bin/gcc-12\n")})
    assert outcome.fraction == 0.5 and "compilers (/usr/bin/gcc-12)" in outcome.message


def test_carried_from_builder():
    from graders.checks.carried import P, query

    params = {"modules": ["fastknn"]}
    asked = query(P.model_validate(params))
    assert run("carried_from_builder", params, _facts=facts(MULTI, inside={asked: (0, "")})).fraction == 1
    broken = run("carried_from_builder", params, _facts=facts(MULTI, inside={asked: (0, "ModuleNotFoundError: No module named 'fastknn'")}))
    assert broken.fraction == 0.5 and "cannot import fastknn" in broken.message
    nothing = run("carried_from_builder", params, _facts=facts("FROM x\nCMD [\"y\"]\n", inside={asked: (1, "err")}))
    assert nothing.fraction == 0


@pytest.mark.parametrize("size_mb, fraction", [(100, 1.0), (300, 1.0), (350, 2 / 3), (450, 0.0)])
def test_size_vs_baseline(size_mb, fraction):
    outcome = run("size_vs_baseline", {"full_at_percent": 40, "zero_at_percent": 10},
                  image=image(size_bytes=size_mb * 1_000_000), baseline=image(size_bytes=500_000_000))
    assert outcome.fraction == pytest.approx(fraction)


def test_layer_efficiency_scores_only_the_layers_added():
    report = Efficiency(wasted_bytes=30_000_000, per_layer=[20_000_000, 10_000_000], history_index=[0, 2],
                        offenders=[("var/lib/apt/lists/x", 2, 10_000_000)])
    outcome = run("layer_efficiency", {"full_mb": 5, "zero_mb": 50}, efficiency=report)  # image: 2 base entries
    assert outcome.fraction == pytest.approx(0.888, abs=0.001)
    assert "10.0 MB wasted across the layers you added (30.0 MB in the whole image)" in outcome.message


def test_large_files_skip_programs_and_packages():
    from graders.checks.large_files import P, query

    asked = query(P())
    listing = "30000\t/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n48000\t/models/iris-knn/table.f32\n"
    outcome = run("large_files_absent", inside={asked: (0, listing)})
    assert outcome.fraction == 0 and "table.f32" in outcome.message and "cc1" not in outcome.message
    assert run("large_files_absent", inside={asked: (0, listing.splitlines()[0])}).fraction == 1
