"""Wasted bytes on images built for the test, with known overwritten and deleted files, checked
by hand and against `dive --json` on the same image."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine import build as build_mod
from graders.engine import layers as layers_engine
from graders.engine.build_sandbox import BuildLimits
from graders.engine.session import Session
from graders.layers import efficiency

pytestmark = [pytest.mark.docker]

DOCKERFILE = """\
FROM debian:bookworm-slim
RUN mkdir /data && head -c 3000000 /dev/urandom > /data/a && head -c 2000000 /dev/urandom > /data/b \\
 && mkdir /data/tmp && head -c 500000 /dev/urandom > /data/tmp/x
RUN head -c 1000000 /dev/urandom > /data/a
RUN rm /data/b && rm -rf /data/tmp
RUN head -c 4000000 /dev/urandom > /data/kept && rm /data/kept
"""


@pytest.fixture
def wasteful_image(engine, tmp_path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    with Session(engine, purpose="test") as session:
        result = build_mod.build(engine, build_mod.detect_builder(), tmp_path, "Dockerfile",
                                 f"dockerlab-test/waste:{session.run_id}", session.labels, BuildLimits(seconds=300))
        assert result.ok, result.log[-2000:]
        yield result.image_id


def test_known_overwrites_and_deletions(engine, wasteful_image):
    layers, history = layers_engine.entries(engine, wasteful_image)
    report = efficiency(layers)
    # /data/a: 3 MB then 1 MB, both copies count; /data/b: 2 MB, then deleted (its whiteout counts 0).
    # `rm -rf /data/tmp` leaves one whiteout for the folder, which was never a leaf before, so dive
    # does not count /data/tmp/x; nor the file made and removed within one RUN.
    assert report.wasted_bytes == 3_000_000 + 1_000_000 + 2_000_000
    top = {path: (copies, size) for path, copies, size in report.offenders}
    assert top["data/a"] == (2, 4_000_000) and top["data/b"] == (2, 2_000_000)
    assert report.per_layer[-4:] == [5_000_000, 1_000_000, 0, 0]
    assert len(history) == len(layers)


def test_agrees_with_dive(engine, wasteful_image, tmp_path):
    out = tmp_path / "dive.json"
    dive = str(Path(sys.executable).parent / "dive")
    done = subprocess.run([dive, wasteful_image, "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    reported = json.loads(out.read_text())["image"]
    ours = efficiency(layers_engine.entries(engine, wasteful_image)[0])
    assert ours.wasted_bytes == pytest.approx(reported["inefficientBytes"], rel=0.01)
    assert ours.score == pytest.approx(reported["efficiencyScore"], rel=0.01)
