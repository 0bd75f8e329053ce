"""The course environment in docker/: the course image with an engine of the learner's own
(docker/course/compose.yml), and the JupyterHub classroom that spawns both per learner
(docker/classroom). Built from the course's own base images; the learner's engine gets them from
`docker save` tars, as a classroom without a registry would. Nothing here uses the host's socket
from inside a learner's container, and the tests check that."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from graders.engine import compose
from tests.conftest import ROOT, free_port, stop_group

pytestmark = [pytest.mark.docker, pytest.mark.slow]
COURSE, ENGINE = "dockerlab/course:latest", "dockerlab/engine:latest"
BASES = ["python:3.11-slim", "debian:bookworm-slim"]



def _wait(what: str, ready, budget_s: float = 120, every: float = 0.5):
    deadline = time.monotonic() + budget_s
    while True:
        answer = ready()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"{what}: not within {budget_s:.0f} s"
        time.sleep(every)


def _status(url: str, token: str, method: str = "GET", body: bytes | None = None, timeout: float = 10) -> int:
    request = urllib.request.Request(url, method=method, data=body, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@pytest.fixture(scope="module")
def images(engine):
    """The two images, built once per session (the build cache makes a rebuild a few seconds)."""
    engine.images.build(path=str(ROOT / "docker" / "learner-engine"), tag=ENGINE, rm=True, forcerm=True)
    engine.images.build(path=str(ROOT), dockerfile="docker/course/Dockerfile", tag=COURSE, rm=True, forcerm=True)
    return engine


@pytest.fixture(scope="module")
def bases(images, tmp_path_factory) -> Path:
    """The course's base images as `docker save` tars, for the learners' engines to load."""
    folder = tmp_path_factory.mktemp("bases")
    for ref in BASES:
        with open(folder / f"{ref.replace(':', '_').replace('/', '_')}.tar", "wb") as tar:
            for chunk in images.api.get_image(ref):
                tar.write(chunk)
    return folder


def test_course_compose_gives_the_learner_jupyterlab_and_an_engine_of_their_own(images, bases, tmp_path):
    """`docker compose -f docker/course/compose.yml up`: JupyterLab answers on loopback, the labs are
    in the host's work folder, hidden files can be saved, and the grader in the image grades Lab 01's
    reference at full marks against the learner's engine, which is not the host's."""
    work, port, token = tmp_path / "work", free_port(), secrets.token_hex(16)
    project = f"dockerlab-test-{secrets.token_hex(3)}"
    env = {**os.environ, "DOCKERLAB_PROJECT": project, "DOCKERLAB_WORK": str(work), "DOCKERLAB_BASES": str(bases),
           "DOCKERLAB_PORT": str(port), "JUPYTER_TOKEN": token}
    run = [*compose.command(), "-f", str(ROOT / "docker" / "course" / "compose.yml")]
    try:
        up = subprocess.run([*run, "up", "-d", "--no-build"], env=env, capture_output=True, text=True, timeout=300)
        assert up.returncode == 0, up.stderr
        url = f"http://127.0.0.1:{port}"
        _wait("JupyterLab", lambda: _status(f"{url}/api/status", token) == 200)
        assert (work / "01-basic-dockerfile" / "lab.ipynb").is_file(), "the labs were not put in the work folder"
        assert (work / "01-basic-dockerfile").stat().st_uid == 1000  # the learner's, not root's

        body = json.dumps({"type": "file", "format": "text", "content": "tests/\n"}).encode()
        saved = _status(f"{url}/api/contents/01-basic-dockerfile/.dockerignore", token, "PUT", body)
        assert saved in (200, 201), f"JupyterLab refused to save a hidden file ({saved})"
        assert (work / "01-basic-dockerfile" / ".dockerignore").read_text() == "tests/\n"

        lab = subprocess.run([*run, "ps", "-q", "lab"], env=env, capture_output=True, text=True).stdout.strip()
        inspected = images.containers.get(lab).attrs
        assert not any("docker.sock" in m["Source"] for m in inspected["Mounts"]), inspected["Mounts"]
        assert inspected["HostConfig"]["NetworkMode"].startswith("container:")
        assert {cap.removeprefix("CAP_") for cap in inspected["HostConfig"]["CapAdd"]} == {"CHOWN", "SETUID", "SETGID"}
        assert inspected["HostConfig"]["CapDrop"] in (["ALL"], ["CAP_ALL"])
        inner = subprocess.run([*run, "exec", "-T", "lab", "docker", "info", "--format", "{{.ID}}"],
                               env=env, capture_output=True, text=True, timeout=60)
        assert inner.returncode == 0 and inner.stdout.strip() not in ("", images.info()["ID"]), inner

        server = subprocess.run([*run, "exec", "-T", "lab", "docker", "version", "--format", "{{.Server.Version}}"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert server.stdout.startswith("26.1"), server  # Debian 13's engine, not the host's
        # a notebook's build cell: BuildKit through buildx, so the guide's cache mount works as in the grader
        cell = ("mkdir -p /tmp/cell && printf 'FROM python:3.11-slim\\nRUN --mount=type=cache,target=/root/.cache/pip "
                "pip --version\\n' > /tmp/cell/Dockerfile && docker build --progress=plain /tmp/cell")
        built = subprocess.run([*run, "exec", "-T", "--user", "learner", "lab", "sh", "-c", cell],
                               env=env, capture_output=True, text=True, timeout=300)
        assert built.returncode == 0 and "2/2] RUN --mount=type=cache" in built.stderr, built.stderr[-2000:]

        check = subprocess.run([*run, "exec", "-T", "lab", "dockerlab", "check", "01-basic-dockerfile",
                                "/opt/dockerlab/solutions/01-basic-dockerfile", "--json"],
                               env=env, capture_output=True, text=True, timeout=600)
        result = json.loads(check.stdout)
        lost = {c["id"]: c["message"] for c in result["criteria"] if c["status"] != "passed"}
        assert result["score"] == result["max_score"], lost
        assert result["environment"]["build_sandbox"]["enforced"] is False  # said, not hidden: see docs/classroom.md
    finally:
        subprocess.run([*run, "down", "-v", "-t", "5"], env=env, capture_output=True, timeout=120)
    assert (work / "01-basic-dockerfile" / ".dockerignore").is_file(), "the work did not outlive the containers"


HUB_TEST_CONFIG = """
import os
c = get_config()
load_subconfig(os.environ["CLASSROOM_CONFIG"])
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.load_roles = [{"name": "tester", "services": ["tester"],
                           "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"]}]
c.JupyterHub.services = [{"name": "tester", "api_token": os.environ["TEST_TOKEN"]}]
"""


@pytest.fixture
def hub(images, bases, tmp_path):
    """JupyterHub with docker/classroom/jupyterhub_config.py, on a network of the test's own; a test
    authenticator and an API token are the only additions."""
    if not shutil.which("configurable-http-proxy"):
        pytest.fail("configurable-http-proxy is missing: run ./dev setup (Debian's node-configurable-http-proxy)")
    network = images.networks.create(f"dockerlab-classroom-test-{secrets.token_hex(3)}",
                                      labels={"org.dockerlab.classroom": "test"})
    port, token = free_port(), secrets.token_hex(16)
    (tmp_path / "test_config.py").write_text(HUB_TEST_CONFIG)
    env = {**os.environ, "CLASSROOM_CONFIG": str(ROOT / "docker" / "classroom" / "jupyterhub_config.py"),
           "TEST_TOKEN": token, "DOCKERLAB_HUB_NETWORK": network.name, "DOCKERLAB_HUB_URL": f"http://127.0.0.1:{port}",
           "DOCKERLAB_BASES": str(bases), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    log = open(tmp_path / "hub.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", "test_config.py"], cwd=tmp_path,
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait("JupyterHub", lambda: server.poll() is not None or _status(f"{url}/hub/api/", token) == 200, 60)
        assert server.poll() is None, (tmp_path / "hub.log").read_text()[-3000:]
        yield url, token, network.name
    finally:
        stop_group(server)
        log.close()
        for container in images.containers.list(all=True, filters={"label": "org.dockerlab.classroom"}):
            container.remove(force=True, v=True)
        for name in ("dockerlab-work-alice", "dockerlab-scratch-alice", "jupyter-alice-engine-data"):
            try:
                images.volumes.get(name).remove(force=True)
            except Exception:  # noqa: BLE001 - not made, or already gone
                pass
        network.remove()


def test_classroom_spawns_a_learner_with_an_engine_of_their_own(hub, images):
    """The hub spawns alice's server: it answers through the hub, runs as the learner, has no host
    socket, and its `docker` is alice's engine (the course's bases loaded), not the host's. Stopping
    the server stops the engine; alice's work volume stays."""
    url, token, network = hub
    assert _status(f"{url}/hub/api/users/alice", token, "POST") == 201
    # the hub answers 202 once its slow_spawn_timeout (10 s) passes with the spawn still going
    assert _status(f"{url}/hub/api/users/alice/server", token, "POST", timeout=60) in (201, 202)

    def ready():
        with urllib.request.urlopen(urllib.request.Request(
                f"{url}/hub/api/users/alice", headers={"Authorization": f"token {token}"}), timeout=10) as answer:
            server = json.load(answer)["servers"].get("")
        return server and server["ready"]

    _wait("alice's server", ready, 180, 1)
    assert _status(f"{url}/user/alice/api/status", token) == 200

    notebook = images.containers.get("jupyter-alice")
    engine = images.containers.get("jupyter-alice-engine")
    assert notebook.attrs["HostConfig"]["NetworkMode"] == f"container:{engine.id}"
    assert not any("docker.sock" in m["Source"] for m in notebook.attrs["Mounts"]), notebook.attrs["Mounts"]
    assert {m["Destination"] for m in notebook.attrs["Mounts"]} <= {m["Destination"] for m in engine.attrs["Mounts"]}
    assert notebook.exec_run(["grep", "^Uid:", "/proc/1/status"]).output.split()[1] == b"1000"
    inner_id = notebook.exec_run(["docker", "info", "--format", "{{.ID}}"], user="learner")
    assert inner_id.exit_code == 0 and inner_id.output.decode().strip() != images.info()["ID"]
    job = notebook.exec_run(["docker", "run", "--rm", "python:3.11-slim", "python", "-c", "print(6 * 7)"], user="learner")
    assert (job.exit_code, job.output.decode().strip()) == (0, "42"), job.output

    assert _status(f"{url}/hub/api/users/alice/server", token, "DELETE", timeout=60) in (202, 204)
    _wait("alice's engine to go", lambda: not images.containers.list(all=True, filters={"name": "jupyter-alice"}), 60)
    assert images.volumes.get("dockerlab-work-alice")  # the work outlives the server
