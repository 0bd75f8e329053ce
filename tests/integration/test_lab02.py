"""Lab 02 graded on the real engine: the solution, the naive Dockerfile, and flawed variants that
must each lose exactly the criteria named."""

from __future__ import annotations

import shutil

import pytest

from graders import pipeline
from graders.engine import artifacts
from tests.conftest import ROOT, edit, learner_folder, lost

pytestmark = [pytest.mark.docker, pytest.mark.slow]

LAB = ROOT / "labs" / "02-multi-stage"
SOLUTION = ROOT / "solutions" / "02-multi-stage"
VENV_COPY = "COPY --from=builder /opt/venv /opt/venv\n"
USER_LINES = "USER app\n"
FINAL_USER = ("RUN groupadd --system --gid 10001 app \\\n"
              " && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app\n")

SHELL_LESS = 'RUN ["/bin/rm", "-f", "/bin/sh", "/bin/dash", "/bin/bash", "/usr/bin/sleep"]\n'
SINGLE_STAGE = """\
FROM python:3.11-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends build-essential \\
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH" MODEL_PATH=/models/iris-knn
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY native/ ./native/
RUN pip install --no-cache-dir ./native
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --no-create-home app
COPY app/ ./app/
USER app
EXPOSE 8000
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

HTTP_CLIENT_CHECK = ("  CMD [\"python\", \"-c\", \"import http.client as h; c = h.HTTPConnection('localhost:8000', timeout=3); "
                     "c.request('GET', '/health'); exit(c.getresponse().status != 200)\"]\n")
"""A healthcheck through http.client, in exec form (the line after HEALTHCHECK's options)."""

# The official image's layout, as its docs and many tutorials build it: pip --prefix in the builder,
# copied over /usr/local; a named user with a home, the code owned by it, ENTRYPOINT and CMD split.
PREFIX_LAYOUT = """\
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.txt .
RUN pip install --no-cache-dir --prefix=/install -r requirements.txt
COPY native/ ./native/
RUN pip install --no-cache-dir --prefix=/install ./native

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --uid 1000 --create-home appuser
WORKDIR /home/appuser
COPY --chown=appuser:appuser app/ ./app/
USER appuser
ENV MODEL_PATH=/models/iris-knn
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s \\
  CMD python -c "import urllib.request as u; u.urlopen('http://localhost:8000/health', timeout=3)" || exit 1
ENTRYPOINT ["uvicorn", "app.main:app"]
CMD ["--host", "0.0.0.0", "--port", "8000"]
"""
# `pip install --user` in the builder and ~/.local carried to the user's home in the final stage
USER_SITE = """\
FROM python:3.11-slim AS compile
RUN apt-get update \\
 && apt-get install -y --no-install-recommends gcc libc6-dev \\
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/
RUN pip install --user --no-cache-dir -r /tmp/requirements.txt
COPY native /tmp/native
RUN pip install --user --no-cache-dir /tmp/native

FROM python:3.11-slim AS final
RUN useradd --create-home app
COPY --from=compile --chown=app /root/.local /home/app/.local
ENV PATH=/home/app/.local/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /home/app
COPY app ./app
USER app
EXPOSE 8000
HEALTHCHECK \\
""" + HTTP_CLIENT_CHECK + """CMD ["python", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

# name: (Dockerfile edits, or a whole Dockerfile; .dockerignore edits; criteria that must be lost)
VARIANTS = {
    "single-stage": (SINGLE_STAGE, [], {"stages", "final-clean", "carried", "size"}),
    "gcc-in-final": ([(FINAL_USER, FINAL_USER + "RUN apt-get update && apt-get install -y --no-install-recommends gcc "
                                                "&& rm -rf /var/lib/apt/lists/*\n")], [], {"final-clean", "size"}),
    "apt-lists-left": ([(FINAL_USER, FINAL_USER + "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1\n")],
                       [], {"final-clean"}),
    "venv-not-copied": ([(VENV_COPY, "")], [],
                        {"stages", "carried", "model", "health-endpoint", "healthcheck"}),
    "model-baked": ([(USER_LINES, "COPY model/ /models/iris-knn/\n" + USER_LINES)], [("model/\n", "")], {"model-not-baked"}),
    "root-user": ([(USER_LINES, "")], [], {"non-root"}),
    "shell-form-cmd": ([('CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                         "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000")], [], {"exec-form"}),
    # chown after the copy: the whole venv is written a second time, in a layer of its own
    "chown-after-copy": ([(VENV_COPY, VENV_COPY + "RUN chown -R app:app /opt/venv\n")], [], {"layers"}),
    # a file the context does not have: the build fails at that line and nothing runs
    "copies-a-missing-file": ([("COPY requirements.txt .\n", "COPY requirements-prod.txt .\n")], [],
                              {"builds", "carried", "model", "non-root", "healthcheck", "health-endpoint"}),
    "prefix-layout": (PREFIX_LAYOUT, [], set()),
    "user-site": (USER_SITE, [], set()),
    # valid: a final image with no shell and no sleep, as distroless and Chainguard ship them; the
    # grader looks inside with its own tools. Then the same running as root, which must lose non-root.
    "shell-less-final": ([(USER_LINES, SHELL_LESS + USER_LINES)], [], set()),
    "shell-less-final-as-root": ([(USER_LINES, SHELL_LESS)], [], {"non-root"}),
    # valid: wheels built in the builder, installed through a bind mount of it (no layer holds them)
    "wheels-through-a-bind-mount": ([("RUN pip install --no-cache-dir ./native\n",
                                      "RUN pip install --no-cache-dir ./native\n"
                                      "RUN pip wheel --no-cache-dir -w /wheels -r requirements.txt ./native\n"),
                                     (VENV_COPY, "RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \\\n"
                                                 "    pip install --no-cache-dir --no-index /wheels/*.whl\n")], [], set()),
}


@pytest.fixture(scope="module")
def lab02(course):
    return course.lab("02-multi-stage")


@pytest.fixture
def submission02(tmp_path):
    return learner_folder(tmp_path, "02-multi-stage")


def test_solution_scores_full_marks(engine, reference):
    result = reference("02-multi-stage")
    assert [c.id for c in result.criteria if c.status != "passed"] == []
    assert result.score == 100
    image = result.image
    assert image.baseline_size_bytes > 1.6 * image.size_bytes  # the naive build is far bigger
    assert image.wasted_bytes is not None and len(image.layers) == len(result.image.layers)


def test_naive_dockerfile_scores_low_on_the_right_criteria(engine, lab02, submission02):
    shutil.copy(LAB / "Dockerfile.naive", submission02 / "Dockerfile")
    result = pipeline.grade(lab02, submission02)
    assert lost(result) == {"stages", "final-clean", "carried", "non-root", "healthcheck", "size"}
    assert not result.passed
    clean = next(c for c in result.criteria if c.id == "final-clean")
    assert {"compilers", "build-headers", "apt-lists"} <= set(clean.evidence["found"])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_flawed_variant_loses_exactly_its_criteria(name, engine, lab02, submission02):
    dockerfile, ignore_edits, expected = VARIANTS[name]
    if isinstance(dockerfile, str):
        (submission02 / "Dockerfile").write_text(dockerfile)
    else:
        for old, new in dockerfile:
            edit(submission02 / "Dockerfile", old, new)
    for old, new in ignore_edits:
        edit(submission02 / ".dockerignore", old, new)
    if name == "model-baked":
        shutil.copytree(artifacts.ensure(lab02, ROOT, "iris-knn"), submission02 / "model")
    result = pipeline.grade(lab02, submission02)
    assert lost(result) == expected, {c.id: c.message for c in result.criteria if c.status != "passed"}
    assert not [c.id for c in result.criteria if c.status == "not_gradable"]
    skipped = {c.id for c in result.criteria if c.status == "skipped"}  # judged once 'model' passes, never a second loss
    assert skipped == ({c.id for c in lab02.rubric if "model" in c.requires} if "model" in expected else set())
    if name == "venv-not-copied":  # fails at run time, and the message says so
        model = next(c for c in result.criteria if c.id == "model")
        assert "could not start" in model.message and "uvicorn" in model.message
    if name == "model-baked":
        baked = next(c for c in result.criteria if c.id == "model-not-baked")
        assert "/models/iris-knn/table.f32" in baked.message
