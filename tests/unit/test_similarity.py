"""Submissions alike (graders.batch.similarity): a disguised copy is flagged, independent work is not,
the starter and reference count for nothing, and a batch of 200 is compared in well under a second."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

from graders import course
from graders.batch import similarity
from graders.batch.discover import Submission
from graders.commands.grade import similar_pairs
from graders.report import html

ROOT = Path(__file__).resolve().parents[2]
LAB01 = course.load(ROOT / "course.yml").lab("01-basic-dockerfile")

ORIGINAL = """\
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENV APP_HOME=/srv/app
WORKDIR /srv/app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
RUN addgroup --system web && adduser --system --ingroup web web
COPY requirements.txt .
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir -r requirements.txt
COPY --chown=web:web app/ ./app/
COPY --chown=web:web model/ ./model/
USER web
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://localhost:8000/health || exit 1
CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "app.main:app"]
"""

# the same file, disguised: another user name and home, comments, the ENV lines swapped and split,
# continuations, and the flags written in another order
DISGUISED = """\
# my own Dockerfile for the iris service
FROM python:3.11-slim

ENV APP_HOME=/opt/service
ENV PYTHONUNBUFFERED=1
ENV PYTHONDONTWRITEBYTECODE=1
WORKDIR /opt/service

# system packages
RUN apt-get update \\
    && apt-get install --no-install-recommends -y curl \\
    && rm -rf /var/lib/apt/lists/*
RUN addgroup --system svc && adduser --ingroup svc --system svc
COPY requirements.txt .
RUN pip install --upgrade --no-cache-dir pip && pip install -r requirements.txt --no-cache-dir
COPY --chown=svc:svc app/ ./app/
COPY --chown=svc:svc model/ ./model/
USER svc
EXPOSE 8000
HEALTHCHECK --timeout=3s --interval=10s CMD curl -fsS http://localhost:8000/health || exit 1
CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "app.main:app"]
"""

# written independently, the way `docker init` and the official image's docs would have it
INDEPENDENT = """\
# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1
ENV PYTHONUNBUFFERED=1
WORKDIR /app
ARG UID=10001
RUN adduser --disabled-password --gecos "" --home "/nonexistent" --shell "/sbin/nologin" --no-create-home --uid "${UID}" appuser
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=bind,source=requirements.txt,target=requirements.txt \\
    python -m pip install -r requirements.txt
USER appuser
COPY . .
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"
CMD ["uvicorn", "app.main:app", "--host=0.0.0.0", "--port=8000"]
"""


def works(**texts: str) -> list[similarity.Work]:
    return [similarity.work(name, text, compose=False) for name, text in texts.items()]


def boilerplate() -> list[similarity.Work]:
    return works(starter=(ROOT / LAB01.folder / "Dockerfile").read_text(),
                 reference=(ROOT / LAB01.solution / "Dockerfile").read_text())


def test_a_disguised_copy_is_flagged_and_independent_work_is_not():
    found = similarity.pairs(works(ann=ORIGINAL, ben=DISGUISED, cleo=INDEPENDENT), boilerplate(), 0.8)
    assert [(p.a.learner, p.b.learner) for p in found] == [("ann", "ben")]
    assert found[0].score == 1.0
    loose = similarity.pairs(works(ann=ORIGINAL, cleo=INDEPENDENT), boilerplate(), 0.01)
    assert not loose or loose[0].score < 0.5, loose


def test_the_starter_and_the_reference_are_shared_boilerplate():
    reference = (ROOT / LAB01.solution / "Dockerfile").read_text()
    starter = (ROOT / LAB01.folder / "Dockerfile").read_text()
    # two learners who handed in the reference (or the starter) as it is: nothing of their own to compare
    assert similarity.pairs(works(a=reference, b=reference, c=starter, d=starter), boilerplate(), 0.5) == []


def test_the_side_by_side_page_marks_the_matching_lines():
    [pair] = similarity.pairs(works(ann=ORIGINAL, ben=DISGUISED), boilerplate(), 0.8)
    page = similarity.side_by_side(pair, "Lab 01")
    assert "100% alike" in page and page.count('class="same"') >= 2 * 12
    assert page.count("ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1") == 1  # split to compare, shown once
    assert "USER svc" in page and "USER web" in page and "# my own Dockerfile" not in page


def test_a_batch_flags_the_pair_in_its_summary_with_archives_read_through_the_guards(tmp_path):
    for name, text in (("ann", ORIGINAL), ("cleo", INDEPENDENT)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(text)
    with zipfile.ZipFile(tmp_path / "ben.zip", "w") as zipped:
        zipped.writestr("ben/Dockerfile", DISGUISED)
    found = [Submission("ann", tmp_path / "ann", False), Submission("ben", tmp_path / "ben.zip", True),
             Submission("cleo", tmp_path / "cleo", False)]
    out = tmp_path / "out"
    out.mkdir()
    pairs = similar_pairs(LAB01, found, ROOT, out)
    assert [(p.a.learner, p.b.learner) for p in pairs] == [("ann", "ben")]
    assert (out / "similar" / "ann--ben.html").is_file()
    summary = html.summary_page([], "Lab 01", [], None, pairs)
    assert "<h2>Submissions alike</h2>" in summary and 'href="similar/ann--ben.html"' in summary


def test_two_hundred_submissions_are_compared_quickly():
    """What the similarity costs on a class: 19,900 pairs (printed; the bound is loose, not a timing test)."""
    texts = {f"s{i:03}": INDEPENDENT.replace("8000", str(8000 + i % 7)).replace("appuser", f"user{i % 11}")
             + f"LABEL version={i}\nRUN echo {i} > /build-{i % 13}\n" for i in range(200)}
    started = time.perf_counter()
    similarity.pairs(works(**texts), boilerplate(), 0.8)
    seconds = time.perf_counter() - started
    print(f"\n200 submissions, 19,900 pairs: {seconds:.2f} s")
    assert seconds < 30


def test_a_compose_file_is_compared_setting_by_setting_whatever_the_key_order():
    one = "services:\n  api:\n    image: x:1\n    ports: ['8000:8000']\n  redis:\n    image: redis:8.0\n"
    other = "services:\n  redis:\n    image: redis:8.0\n  api:\n    ports: ['8000:8000']\n    image: x:1\n"
    a, b = (similarity.work(name, text, compose=True) for name, text in (("a", one), ("b", other)))
    assert a.normal == b.normal == ["services.api.image=x:1", "services.api.ports[0]=8000:8000",
                                    "services.redis.image=redis:8.0"]
    assert similarity.work("c", "services: [unclosed", compose=True).normal == []
