"""A CI script run with the grader as its docker (graders.engine.ci_relay) on the real engine: it
builds with an inline cache, pushes to the course registry, reads the digest back and writes a
production file pinned to it; what it may not do is refused and logged, and nothing is left."""

from __future__ import annotations

import shutil

import pytest

from graders.engine import build as build_mod
from graders.engine import ci_relay, registry
from graders.engine.build_sandbox import BuildLimits
from graders.engine.session import Session
from tests.conftest import ROOT

pytestmark = [pytest.mark.docker]

SCRIPT = """\
set -eu
IMAGE="$REGISTRY/iris"
docker build --cache-from "$IMAGE:latest" --build-arg BUILDKIT_INLINE_CACHE=1 --build-arg REVISION="$GIT_SHA" \\
  -t "$IMAGE:$GIT_SHA" -t "$IMAGE:latest" .
docker push "$IMAGE:$GIT_SHA"
docker push "$IMAGE:latest" >/dev/null
digest=$(docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE:$GIT_SHA")
printf 'services:\\n  api:\\n    image: %s\\n' "$digest" > compose.prod.yaml
if docker run --rm -v /:/host python:3.11-slim true; then echo "run was allowed"; fi
if docker build -t python:3.11-slim .; then echo "a base image was replaced"; fi
echo "done: $digest"
"""


def test_a_ci_script_builds_pushes_and_pins_the_digest_through_the_relay(engine, tmp_path):
    submission = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions" / "01-basic-dockerfile", submission)
    (submission / "ci").mkdir()
    (submission / "ci" / "build.sh").write_text(SCRIPT)
    builder = build_mod.sandboxed(build_mod.detect_builder(), lambda: ["python:3.11-slim"], engine.info()["DockerRootDir"])
    address = registry.ensure(engine)
    with Session(engine) as session:
        space = f"{address}/dockerlab-{session.run_id}"
        run = ci_relay.run_script(engine, session, builder, submission, "ci/build.sh", ci_relay.CiSandbox("python:3.11-slim"),
                                  {"REGISTRY": space, "GIT_SHA": "abc1234"}, space, {}, BuildLimits(seconds=300),
                                  ["compose.prod.yaml"])
        assert run.exit_code == 0, run.log
        digest = run.pushed[f"{space}/iris:abc1234"]
        assert registry.digest_of(engine, f"{space}/iris:abc1234") == digest
        assert registry.digest_of(engine, f"{space}/iris@{digest}") == digest
        assert registry.digest_of(engine, f"{space}/iris:never-pushed") is None
        assert run.files["compose.prod.yaml"] == f"services:\n  api:\n    image: {space}/iris@{digest}\n"
        assert "run was allowed" not in run.log and "a base image was replaced" not in run.log
        assert "this CI runs only build" in run.log and "name images in this CI's registry" in run.log
        assert [c.kind for c in run.commands] == ["build", "push", "push", "inspect", "answer", "answer"]
        assert engine.images.get("python:3.11-slim").labels.get("org.dockerlab.stand-in") is not None
    assert not engine.containers.list(all=True, filters={"label": f"org.dockerlab.run={session.run_id}"})
    assert not engine.images.list(filters={"label": f"org.dockerlab.run={session.run_id}"})



HOSTILE = """\
printf '\\036{"n": "x"}\\n' >&4          # a forged request the relay cannot read: no answer, no crash
printf '\\036not json\\n' >&4
for i in $(seq 1 8); do docker version >/dev/null 2>&1 || echo "refused at $i"; done | tail -1
head -c 400000 /dev/zero | tr '\\0' 'x'     # output past the log's bound
while :; do :; done                       # and then forever
"""


def test_a_hostile_ci_script_is_bounded_in_commands_output_and_time(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(ci_relay, "MOST_COMMANDS", 5)  # the bound, small: each command takes a relay's round trip
    submission = tmp_path / "submission"
    (submission / "ci").mkdir(parents=True)
    (submission / "ci" / "build.sh").write_text(HOSTILE)
    builder = build_mod.sandboxed(build_mod.detect_builder(), lambda: ["python:3.11-slim"], engine.info()["DockerRootDir"])
    with Session(engine) as session:
        run = ci_relay.run_script(engine, session, builder, submission, "ci/build.sh",
                                  ci_relay.CiSandbox("python:3.11-slim", seconds=8), {"REGISTRY": "127.0.0.1:1/g-x"},
                                  "127.0.0.1:1/g-x", {}, BuildLimits(seconds=60), [])
    assert run.timed_out and run.exit_code != 0
    assert len(run.log.encode()) <= ci_relay.LOG_BYTES + 1
    assert len(run.commands) == 5 and [c.code for c in run.commands] == [0] * 5 and "refused at 8" in run.log
    assert not engine.containers.list(all=True, filters={"label": f"org.dockerlab.run={session.run_id}"})
