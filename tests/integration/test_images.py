"""Base images: a stand-in is built, labelled, has a usable pip, and is found present next time."""

from __future__ import annotations

import pytest

from graders.course import CHECKOUT_COURSE, BaseImage
from graders.engine import images
from graders.engine.inspect import stand_in

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REF = "dockerlab-test/python:3.11-slim"


@pytest.fixture
def throwaway(engine):
    yield REF
    try:
        engine.images.remove(REF, force=True)
    except Exception:
        pass


def test_python_stand_in_with_a_ca_bundle(engine, throwaway, tmp_path):
    bundle = tmp_path / "ca.crt"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n")
    wanted = [BaseImage(ref="debian:bookworm-slim", stand_in="debootstrap"),
              BaseImage(ref=REF, stand_in="python", **{"from": "debian:bookworm-slim"})]
    done = images.prepare(engine, wanted, offline=True, ca_bundle=bundle, recipes=CHECKOUT_COURSE.parent / images.RECIPES)
    assert [(d.ref, d.action) for d in done] == [("debian:bookworm-slim", "present"), (REF, "stand-in built")]
    assert stand_in(engine, REF) == REF
    env = dict(item.split("=", 1) for item in engine.images.get(REF).attrs["Config"]["Env"])
    assert env["PIP_CERT"] == env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == images.CA_PATH
    output = engine.containers.run(
        REF, ["sh", "-c", f"python --version && pip --version && cat {images.CA_PATH}"], remove=True
    ).decode()
    assert "Python 3.11" in output and "pip " in output and "not a real one" in output
    again = images.prepare(engine, wanted, offline=True, ca_bundle=bundle, recipes=CHECKOUT_COURSE.parent / images.RECIPES)
    assert [d.action for d in again] == ["present", "present"]
    assert again[1].detail == f"stand-in for {REF}"


IDIOMS = """\
FROM python:3.11-slim AS build
COPY hello /src/hello
RUN pip install --no-cache-dir --no-build-isolation --prefix=/install /src/hello
RUN pip install --no-cache-dir --no-build-isolation --user /src/hello
RUN python -m venv /opt/venv && /opt/venv/bin/python -m pip install --no-cache-dir --no-build-isolation /src/hello

FROM python:3.11-slim AS prefix
COPY --from=build /install /usr/local
RUN hello && python -c "import hello" && python3 -c "import hello" && pip --version && python -m pip --version

FROM python:3.11-slim AS user
COPY --from=build /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
RUN hello && python3 -c "import hello"

FROM python:3.11-slim AS venv
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN hello && python -c "import hello, sys; assert sys.prefix == '/opt/venv'" && pip --version
"""


@pytest.mark.parametrize("target", ["prefix", "user", "venv"])
def test_python_base_behaves_like_the_official_image(engine, tmp_path, target):
    """The multi-stage idioms learners copy from real ML Dockerfiles work on the course's
    python:3.11-slim, stand-in or real: the package's command is on PATH and it imports."""
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "hello.py").write_text("def main():\n    print('hello from', __file__)\n")
    (tmp_path / "hello" / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='hello', version='1.0', py_modules=['hello'], entry_points={'console_scripts': ['hello=hello:main']})\n")
    (tmp_path / "Dockerfile").write_text(IDIOMS)
    tag = f"dockerlab-test/idioms:{target}"
    try:
        engine.images.build(path=str(tmp_path), target=target, tag=tag, rm=True, forcerm=True)
        output = engine.containers.run(tag, ["hello"], remove=True).decode()
        assert "hello from" in output
    finally:
        try:
            engine.images.remove(tag, force=True)
        except Exception:
            pass
