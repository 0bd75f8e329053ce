"""Lab 01 graded on the real engine: the solution, the starter, and flawed variants that must
each lose exactly the criteria named, and keep every other one."""

from __future__ import annotations

import random
import shutil
import tarfile
from pathlib import Path

import pytest

from graders import dockerfile_features, pipeline
from tests.conftest import LAB01, SOLUTION01, edit, lost, tag_aliases

pytestmark = [pytest.mark.docker, pytest.mark.slow]

INSTALL = "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
APP = "COPY app/ ./app/\nCOPY model/ ./model/\n"
HEALTHCHECK_TEXT = (
    "HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \\\n"
    "  CMD [\"python\", \"-c\", \"import sys, urllib.request; sys.exit(urllib.request.urlopen("
    "'http://127.0.0.1:8000/health', timeout=4).status != 200)\"]\n"
)

USER_RUN = ("RUN groupadd --system --gid 10001 app \\\n"
            " && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app\n")
TODAY = [  # what Engine 25 and newer build with their own frontend, as Docker's docs write it
    (USER_RUN, "RUN <<EOF\nset -e\ngroupadd --system --gid 10001 app\n"
               "useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app\nEOF\n"),
    (APP, "COPY --link app/ ./app/\nCOPY --link model/ ./model/\n"),
    ("--start-period=15s --retries=3", "--start-period=15s --start-interval=1s --retries=3"),
]
"""The reference with today's builder's features: a heredoc, COPY --link, HEALTHCHECK --start-interval."""

# name: (edits to the Dockerfile, edits to app/main.py, remove .dockerignore?, criteria that must be lost)
VARIANTS = {
    "root-user": ([("USER app\n", "")], [], False, {"non-root"}),
    "latest-base": ([("FROM python:3.11-slim", "FROM python:latest")], [], False, {"base-image"}),
    # a major version only: python:3-slim moves to each new 3.x; a tag naming Debian's release is valid
    "major-only-base": ([("FROM python:3.11-slim", "FROM python:3-slim")], [], False, {"base-image"}),
    "debian-pinned-base": ([("FROM python:3.11-slim", "FROM python:3.11-slim-bookworm")], [], False, set()),
    "copy-before-install": ([(INSTALL + "\n# Then the code", "# Then the code"),
                             (APP, "COPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n")], [], False, {"layer-cache"}),
    # dash, Debian's /bin/sh, forks the server instead of exec'ing it: SIGTERM is ignored by PID 1
    "shell-form-cmd": ([('CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                         "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000")], [], False, {"exec-form", "stops"}),
    # exec form on the outside, a shell that never exec's on the inside: only the behaviour shows it
    "script-without-exec": ([('CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                              'COPY --chmod=755 start.sh /start.sh\nENTRYPOINT ["/start.sh"]')], [], False, {"stops"}),
    # the official image's layout: pip --prefix then a copy to /usr/local (failed on a Debian-Python stand-in)
    "prefix-install": ([("FROM python:3.11-slim\n", "FROM python:3.11-slim AS deps\nRUN mkdir /install\n"
                         "COPY requirements.txt /tmp/\nRUN pip install --no-cache-dir --prefix=/install -r /tmp/requirements.txt\n\n"
                         "FROM python:3.11-slim\nCOPY --from=deps /install /usr/local\n"),
                        (INSTALL, "")], [], False, set()),
    # valid: pip3 is how many real Dockerfiles spell it (the official image links pip3 to pip)
    "pip3-install": ([("RUN pip install --no-cache-dir", "RUN pip3 install --no-cache-dir")], [], False, set()),
    # uv, installed with pip and removed after use: told to keep no cache (valid), or not (its cache stays)
    "uv-no-cache": ([("RUN pip install --no-cache-dir -r requirements.txt",
                      "RUN pip install --no-cache-dir uv==0.13.9 \\\n && uv pip install --system --no-cache -r requirements.txt"
                      " \\\n && pip uninstall -y uv")], [], False, set()),
    "uv-cache-kept": ([("RUN pip install --no-cache-dir -r requirements.txt",
                        "RUN pip install --no-cache-dir uv==0.13.9 \\\n && uv pip install --system -r requirements.txt"
                        " \\\n && pip uninstall -y uv")], [], False, {"pip-no-cache"}),
    "pip-told-nothing": ([("    PIP_NO_CACHE_DIR=1 \\\n", ""), ("pip install --no-cache-dir", "pip install")],
                         [], False, {"pip-no-cache"}),
    "selective-copy-no-dockerignore": ([], [], True, {"dockerignore"}),
    "no-expose": ([("EXPOSE 8000\n", "")], [], False, {"port"}),
    # valid: the port from a variable the service could read too, with its protocol
    "expose-from-a-variable": ([("EXPOSE 8000\n", "ENV PORT=8000\nEXPOSE ${PORT}/tcp\n")], [], False, set()),
    "no-healthcheck": ([(HEALTHCHECK_TEXT, "")], [], False, {"healthcheck"}),
    "curl-healthcheck": ([(HEALTHCHECK_TEXT, "HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1\n")],
                         [], False, {"healthcheck"}),
    # a check that passes whatever the service does: the grader runs it where the service is not running
    "healthcheck-tests-nothing": ([(HEALTHCHECK_TEXT, 'HEALTHCHECK --interval=30s CMD ["true"]\n')], [], False, {"healthcheck"}),
    # valid: shell form with Python, as many tutorials write it; curl where the image installs it
    "healthcheck-shell-python": ([(HEALTHCHECK_TEXT, "HEALTHCHECK CMD python -c \"import urllib.request; urllib.request.urlopen("
                                                     "'http://localhost:8000/health', timeout=4)\" || exit 1\n")], [], False, set()),
    "healthcheck-curl-installed": ([(INSTALL, "RUN apt-get update && apt-get install -y --no-install-recommends curl "
                                              "&& rm -rf /var/lib/apt/lists/*\n" + INSTALL),
                                    (HEALTHCHECK_TEXT, "HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS "
                                                       "http://localhost:8000/health || exit 1\n")], [], False, set()),
    # a check that fails at once, before a slow server listens: its probes must still reach the server
    "slow-start-curl-healthcheck": ([(HEALTHCHECK_TEXT, "HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1\n"),
                                     ('CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                                      'COPY --chmod=755 start.sh /start.sh\nENTRYPOINT ["/start.sh"]')], [], False, {"healthcheck"}),
    # valid: a server that listens only after 14 s or so, and a healthcheck with no start period. At its
    # own 30 s interval the first check finds it up; probed every second, the engine calls it unhealthy
    # just before it listens, and the next check must turn it healthy
    "slow-start-no-start-period": ([("--start-period=15s --retries=3", "--retries=3"),
                                    ('CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                                     'COPY --chmod=755 start.sh /start.sh\nENTRYPOINT ["/start.sh"]')], [], False, set()),
    "broken-health-endpoint": ([], [('return {"status": "ok"}', 'raise HTTPException(500, "broken on purpose")')],
                               False, {"healthcheck", "health-endpoint"}),
    "no-dockerignore": ([(APP, "COPY . .\n")], [], True, {"dockerignore"}),
    # pip's HTTP cache depends on the server's headers (a caching proxy may forbid storing), but a
    # wheel pip builds from an sdist is always cached: so this variant installs one, without --no-cache-dir.
    "pip-cache-kept": ([("    PIP_NO_CACHE_DIR=1 \\\n", ""),
                        (INSTALL, INSTALL + "COPY vendor/ ./vendor/\nRUN pip install --no-build-isolation vendor/tinypkg-1.0.tar.gz\n")],
                       [], False, {"pip-no-cache"}),
    "bloated": ([(INSTALL, INSTALL + "RUN apt-get update && apt-get install -y build-essential\n")], [], False, {"size"}),
}

HTTP_CLIENT_CHECK = ("  CMD [\"python\", \"-c\", \"import http.client as h; c = h.HTTPConnection('localhost:8000', timeout=3); "
                     "c.request('GET', '/health'); exit(c.getresponse().status != 200)\"]\n")
"""A healthcheck through http.client, in exec form (the line after HEALTHCHECK's options)."""

# Whole Dockerfiles written the way others write them, each keeping every criterion: name -> (Dockerfile,
# .dockerignore or None to keep the reference's)
VALID_FORMS = {
    # `docker init`'s Python template (its shell-form CMD aside): the version as a build ARG, adduser,
    # pip's cache in a cache mount, requirements bound for the install only, then `COPY . .`
    "docker-init-template": ("""\
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1
ENV PYTHONUNBUFFERED=1
WORKDIR /app
ARG UID=10001
RUN adduser \\
    --disabled-password \\
    --gecos "" \\
    --home "/nonexistent" \\
    --shell "/sbin/nologin" \\
    --no-create-home \\
    --uid "${UID}" \\
    appuser
RUN --mount=type=cache,target=/root/.cache/pip \\
    --mount=type=bind,source=requirements.txt,target=requirements.txt \\
    python -m pip install -r requirements.txt
USER appuser
COPY . .
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request as u; u.urlopen('http://localhost:8000/health', timeout=3)" || exit 1
CMD ["uvicorn", "app.main:app", "--host=0.0.0.0", "--port=8000"]
""", None),
    # an allow-list .dockerignore, a numeric user with no passwd entry (what Kubernetes' runAsNonRoot
    # can verify), the cache removed in the install's own RUN, `python -m uvicorn` split into
    # ENTRYPOINT and CMD, and a healthcheck through http.client
    "allow-list-numeric-user": ("""\
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1
WORKDIR /srv
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt && rm -rf /root/.cache/pip /tmp/requirements.txt
COPY . .
USER 10001:10001
EXPOSE 8000/tcp
HEALTHCHECK --interval=10s --timeout=3s \\
""" + HTTP_CLIENT_CHECK + """ENTRYPOINT ["python", "-m", "uvicorn"]
CMD ["app.main:app", "--host", "0.0.0.0", "--port", "8000"]
""", "*\n!app/\n!model/\n!requirements.txt\n**/__pycache__\n"),
}

# Words the lost criterion's message must hold, where the reason is worth checking.
SCRIPTS = {  # the variants' start.sh
    "script-without-exec": "#!/bin/sh\nuvicorn app.main:app --host 0.0.0.0 --port 8000\n",
    "slow-start-curl-healthcheck": "#!/bin/sh\nsleep 8\nexec uvicorn app.main:app --host 0.0.0.0 --port 8000\n",
    "slow-start-no-start-period": "#!/bin/sh\nsleep 12\nexec uvicorn app.main:app --host 0.0.0.0 --port 8000\n",
}
MESSAGES = {
    "curl-healthcheck": "slim images ship no curl",
    "healthcheck-tests-nothing": "it tests nothing about the service",
    "copy-before-install": "copied before the dependencies are installed",
    "shell-form-cmd": "shell form",
    "latest-base": "'latest' moves",
    "major-only-base": "each new 3.x release replaces it",
    "pip-cache-kept": ".cache/pip",
    "no-dockerignore": ".git",
    "script-without-exec": "did not stop it within 5 s",
    "pip-told-nothing": "without --no-cache-dir",
    "uv-cache-kept": ".cache/uv",
    "selective-copy-no-dockerignore": "there is no .dockerignore",
}


def make_sdist(folder: Path) -> None:
    """A small package published only as source, so pip builds (and caches) a wheel for it."""
    source = folder / "tinypkg-1.0"
    (source / "tinypkg").mkdir(parents=True)
    (source / "setup.py").write_text(
        'from setuptools import setup\nsetup(name="tinypkg", version="1.0", packages=["tinypkg"], '
        'package_data={"tinypkg": ["blob.bin"]})\n'
    )
    (source / "tinypkg" / "__init__.py").write_text("")
    (source / "tinypkg" / "blob.bin").write_bytes(random.Random(0).randbytes(300_000))
    with tarfile.open(folder / "tinypkg-1.0.tar.gz", "w:gz") as archive:
        archive.add(source, arcname="tinypkg-1.0")
    shutil.rmtree(source)


def test_solution_scores_full_marks(engine, reference):
    result = reference("01-basic-dockerfile")
    assert [c.id for c in result.criteria if c.status != "passed"] == []
    assert result.score == result.max_score == 100
    assert result.passed
    assert result.image.size_bytes > result.image.base_size_bytes > 0
    assert result.environment.builder in ("buildkit", "legacy")


def test_solution_scores_full_marks_with_the_legacy_builder(engine, lab01, monkeypatch):
    monkeypatch.setenv("DOCKERLAB_BUILDER", "legacy")
    result = pipeline.grade(lab01, SOLUTION01)
    assert result.environment.builder == "legacy"
    # full marks include layer-cache: the legacy log's "Using cache" was read for the pip step
    assert result.score == result.max_score == 100, {c.id: c.message for c in result.criteria if c.status != "passed"}


def test_today_s_builder_features_score_full_marks_or_are_not_gradable_never_lost(submission, engine, lab01):
    """A Dockerfile that only a newer engine builds costs nothing on an older one: not gradable there.
    (tests/matrix grades the same on Engine 28, where it scores full marks.)"""
    for old, new in TODAY:
        edit(submission / "Dockerfile", old, new)
    result = pipeline.grade(lab01, submission)
    if (dockerfile_features.major(result.environment.engine_version or "") or 0) >= 25:
        assert result.score == result.max_score == 100, {c.id: c.message for c in result.criteria if c.status != "passed"}
        return
    assert not [c.id for c in result.criteria if c.status == "failed"], {c.id: c.message for c in result.criteria}
    builds = next(c for c in result.criteria if c.id == "builds")
    assert builds.status == "not_gradable", builds.message
    assert "line 15 uses a heredoc (<<EOF) (and 3 more such), which Docker Engine 23 and newer build" in builds.message, builds.message
    assert builds.message.endswith("(grade on Docker Engine 25 or newer)"), builds.message


def test_untouched_starter_scores_low_without_crashing(engine, lab01):
    result = pipeline.grade(lab01, LAB01)
    assert not result.passed
    assert result.score <= 20
    assert {c.status for c in result.criteria} <= {"passed", "failed", "skipped"}
    assert all(c.hint for c in result.criteria if c.status == "failed")
    requires = {c.id: c.requires for c in lab01.rubric}
    for criterion in result.criteria:  # skipped only while what it requires is lost
        if criterion.status == "skipped":
            assert set(requires[criterion.id]) & lost(result), criterion.id


OTHER_TAGS = ("latest", "3-slim", "3.11-slim-bookworm")
"""The base-image variants' tags, made from the stand-in for the test only where they are missing."""


@pytest.fixture
def latest_tag(engine):
    """`python:latest` and the other tags the base-image variants name: the stand-in, tagged."""
    with tag_aliases(engine, "python:3.11-slim", [f"python:{tag}" for tag in OTHER_TAGS]):
        yield


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_flawed_variant_loses_exactly_its_criteria(name, submission, engine, lab01, latest_tag):
    dockerfile_edits, app_edits, drop_ignore, expected = VARIANTS[name]
    for old, new in dockerfile_edits:
        edit(submission / "Dockerfile", old, new)
    for old, new in app_edits:
        edit(submission / "app" / "main.py", old, new)
    if drop_ignore:
        (submission / ".dockerignore").unlink()
    if name == "pip-cache-kept":
        make_sdist(submission / "vendor")
    if name in SCRIPTS:
        (submission / "start.sh").write_text(SCRIPTS[name])
    result = pipeline.grade(lab01, submission)
    assert lost(result) == expected, {c.id: c.message for c in result.criteria if c.status != "passed"}
    assert not [c.id for c in result.criteria if c.status == "not_gradable"]
    for criterion in result.criteria:
        if criterion.id in expected:
            assert criterion.hint and criterion.message
    if expected:  # the reason is named by one of the criteria lost
        assert any(MESSAGES.get(name, "") in c.message for c in result.criteria if c.id in expected)
    if name == "latest-base":  # hadolint's finding is shown as the criterion's evidence
        base = next(c for c in result.criteria if c.id == "base-image")
        assert any("DL3007" in line for line in base.evidence["hadolint"])


@pytest.mark.parametrize("name", sorted(VALID_FORMS))
def test_valid_form_keeps_full_marks(name, submission, engine, lab01):
    dockerfile, ignore = VALID_FORMS[name]
    (submission / "Dockerfile").write_text(dockerfile)
    if ignore is not None:
        (submission / ".dockerignore").write_text(ignore)
    result = pipeline.grade(lab01, submission)
    assert result.score == result.max_score == 100, {c.id: c.message for c in result.criteria if c.status != "passed"}



def test_one_mistake_costs_its_own_criteria_once_and_the_rest_wait_for_it(submission, engine, lab01):
    """Forgetting `COPY model/` loses predict and /ready; the criteria that are judged only on a working
    service are skipped, left out of the maximum, and the lab still passes on what was judged."""
    edit(submission / "Dockerfile", APP, "COPY app/ ./app/\n")
    result = pipeline.grade(lab01, submission)
    assert lost(result) == {"predict", "health-endpoint"}, {c.id: c.message for c in result.criteria if c.status != "passed"}
    skipped = {c.id: c.message for c in result.criteria if c.status == "skipped"}
    assert set(skipped) == {"pip-no-cache", "size", "dockerignore"}
    assert all("judged once 'predict' passes" in message for message in skipped.values())
    assert (result.score, result.max_score, result.passed) == (62.5, 80, True)


def test_a_base_image_this_classroom_lacks_is_the_learners_to_fix(submission, engine, lab01):
    """Offline, FROM an image no one prepared fails `builds` with the list of images there are,
    instead of making the whole lab not gradable."""
    edit(submission / "Dockerfile", "FROM python:3.11-slim", "FROM python:3.12-slim")
    result = pipeline.grade(lab01, submission)
    builds = next(c for c in result.criteria if c.id == "builds")
    if builds.status == "passed":
        pytest.skip("a registry answered and python:3.12-slim was pulled")
    assert builds.status == "failed" and "not in this classroom" in builds.message
    assert "python:3.11-slim" in builds.message
    assert not [c.id for c in result.criteria if c.status == "not_gradable"]
