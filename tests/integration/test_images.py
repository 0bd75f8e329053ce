"""Base images: a stand-in is built, labelled, has a usable pip, and is found present next time."""

from __future__ import annotations

import pytest

from graders.course import BaseImage
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
    done = images.prepare(engine, wanted, offline=True, ca_bundle=bundle)
    assert [(d.ref, d.action) for d in done] == [("debian:bookworm-slim", "present"), (REF, "stand-in built")]
    assert stand_in(engine, REF) == REF
    env = dict(item.split("=", 1) for item in engine.images.get(REF).attrs["Config"]["Env"])
    assert env["PIP_CERT"] == env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == images.CA_PATH
    output = engine.containers.run(
        REF, ["sh", "-c", f"python --version && pip --version && cat {images.CA_PATH}"], remove=True
    ).decode()
    assert "Python 3.11" in output and "pip " in output and "not a real one" in output
    again = images.prepare(engine, wanted, offline=True, ca_bundle=bundle)
    assert [d.action for d in again] == ["present", "present"]
    assert again[1].detail == f"stand-in for {REF}"
