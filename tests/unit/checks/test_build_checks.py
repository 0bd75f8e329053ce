"""The checks that read the builds: whether it builds, the layer cache, layer efficiency."""

import pytest

from graders.layers import Efficiency
from tests.unit.checks.helpers import run
from tests.unit.fakes import steps


def test_builds():
    assert run("builds").fraction == 1
    from graders.facts import Build

    failed = Build(False, None, "buildkit", 1.0, "#5 ERROR: boom\nfailed", [], "boom", 7)
    outcome = run("builds", build=failed)
    assert outcome.fraction == 0 and "line 7" in outcome.message and "boom" in outcome.message


def test_layer_cache():
    good = steps(("COPY requirements.txt .", True), ("RUN pip install -r requirements.txt", True), ("COPY app/ ./app/", False))
    assert run("layer_cache", rebuild=_build(good)).fraction == 1
    bad = steps(("COPY . .", False), ("RUN pip install -r requirements.txt", False))
    outcome = run("layer_cache", rebuild=_build(bad))
    assert outcome.fraction == 0 and "ran again" in outcome.message
    unchanged = steps(("RUN pip install x", True), ("COPY app/ ./app/", True))
    assert "changed nothing" in run("layer_cache", rebuild=_build(unchanged)).message
    assert "no build step installs" in run("layer_cache", rebuild=_build(steps(("COPY . .", False)))).message


@pytest.mark.parametrize("install", [
    "RUN pip install -r requirements.txt", "RUN pip3 install --no-cache-dir -r requirements.txt",
    "RUN pip3.11 install -r requirements.txt", "RUN python -m pip install -r requirements.txt",
    "RUN python3 -m pip install -r requirements.txt", "RUN /opt/venv/bin/pip install -r requirements.txt",
    "RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-install-project",
    "RUN uv pip install --system -r requirements.txt", "RUN uv pip sync requirements.txt",
    "RUN poetry install --no-root --only main", "RUN pipenv install --system --deploy",
    "RUN pdm install --prod", "RUN conda env create -f environment.yml",
    "RUN micromamba install -y -n base -f env.yaml", "RUN set -e; pip3 install -r requirements.txt",
])
def test_layer_cache_finds_the_install_steps_people_write(install):
    cached = steps(("COPY requirements.txt .", True), (install, True), ("COPY app/ ./app/", False))
    assert run("layer_cache", rebuild=_build(cached)).fraction == 1, install


@pytest.mark.parametrize("other", ["RUN pip --version", "RUN echo pipeline install", "RUN apt-get install -y gcc",
                                   "RUN mypip install x", "COPY install.sh ."])
def test_layer_cache_does_not_take_other_steps_for_the_install(other):
    outcome = run("layer_cache", rebuild=_build(steps(("COPY app/ ./app/", False), (other, True))))
    assert "no build step installs" in outcome.message, other


def test_layer_efficiency_scores_only_the_layers_added():
    report = Efficiency(wasted_bytes=30_000_000, per_layer=[20_000_000, 10_000_000], history_index=[0, 2],
                        offenders=[("var/lib/apt/lists/x", 2, 10_000_000)])
    outcome = run("layer_efficiency", {"full_mb": 5, "zero_mb": 50}, efficiency=report)  # image: 2 base entries
    assert outcome.fraction == pytest.approx(0.888, abs=0.001)
    assert "10.0 MB wasted across the layers you added (30.0 MB in the whole image)" in outcome.message


def _build(step_list):
    from graders.facts import Build

    return Build(True, "sha256:z", "buildkit", 1.0, "", step_list)
