"""Engines of other Debian releases run as Docker-in-Docker beside the host's (docker/engines), and
the grader run against one of them as it runs beside a local engine: in the engine container's
network namespace (published ports on its loopback), on its socket, writing build limits in its
cgroups (seen from the host through DOCKERLAB_CGROUP_ROOT), with its own buildx plugin."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "docker" / "engines" / "make-engine.sh"
STATE = Path("/var/tmp/dockerlab-matrix")
LABEL = "org.dockerlab.test.matrix-engine"
DOCKERLAB = ROOT / ".venv" / "bin" / "dockerlab"


@dataclass(frozen=True)
class Flavour:
    suite: str
    version: str
    """The start of the engine's version: Debian's docker.io of that suite."""
    daemon: dict
    """daemon.json for it (the containerd image store, where asked for)."""
    labs: tuple[str, ...]
    """The labs whose references are graded there besides Lab 01 on every CI run."""


FULL = os.environ.get("DOCKERLAB_MATRIX") == "full"
"""Every lab on every engine (about 20 minutes more). CI grades Lab 02's reference on trixie's
engine and Lab 05's on sid's besides Lab 01; Lab 03's takes 4 minutes on sid's, Lab 04's 6 on trixie's and 9 on sid's,
past CI's budget (measured: the README's table)."""
EVERY_LAB = ("02-multi-stage", "03-gpu-training", "04-compose-stack", "05-ship-it")
FLAVOURS = {
    "trixie": Flavour("trixie", "26.1", {}, EVERY_LAB if FULL else ("02-multi-stage",)),
    # Lab 05 where its engine work differs most: buildx's secrets and tar output, `docker save` in OCI layout
    "sid": Flavour("sid", "28.5", {"features": {"containerd-snapshotter": True}}, EVERY_LAB if FULL else ("05-ship-it",)),
}


def image(host: docker.DockerClient, suite: str) -> str:
    """The engine image for `suite`, made once per recipe (debootstrap, about 2 minutes) and kept."""
    recipe = hashlib.sha256(RECIPE.read_bytes() + (ROOT / "docker/learner-engine/start-engine.sh").read_bytes())
    tag = f"dockerlab/matrix-engine:{suite}-{recipe.hexdigest()[:12]}"
    try:
        host.images.get(tag)
    except docker.errors.ImageNotFound:
        subprocess.run(["bash", str(RECIPE), suite, tag], check=True, timeout=1800)
    return tag


@dataclass
class Engine:
    name: str
    container: docker.models.containers.Container
    folder: Path
    version: str

    @property
    def pid(self) -> int:
        return int(self.container.attrs["State"]["Pid"])

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": f"unix://{self.folder}/run/docker.sock",
                "DOCKER_CONFIG": str(self.folder / "config"), "DOCKERLAB_CGROUP_ROOT": str(self.folder / "cgroup"),
                "TMPDIR": str(self.folder / "tmp"), "DOCKERLAB_CACHE": str(self.folder / "cache")}

    def run(self, *command: str, timeout: int = 900, **options) -> subprocess.CompletedProcess[str]:
        """`command` in the engine's network namespace, against the engine."""
        return subprocess.run(["nsenter", f"--net=/proc/{self.pid}/ns/net", "--", *command], env=self.env(),
                              capture_output=True, text=True, timeout=timeout, **options)

    def grade(self, lab: str, path: Path, course: Path | None = None) -> dict:
        chosen = ["--course", str(course)] if course else []
        done = self.run(str(DOCKERLAB), *chosen, "check", lab, str(path), "--json")
        assert done.returncode in (0, 1), f"{self.name}: dockerlab check {lab} {path}: {done.returncode}\n{done.stderr[-3000:]}"
        return json.loads(done.stdout)


def start(host: docker.DockerClient, flavour: Flavour, bases: list[str]) -> Engine:
    """Start the engine, give it the course's base images (as a classroom without a registry does)."""
    tag = image(host, flavour.suite)
    for leftover in host.containers.list(all=True, filters={"label": f"{LABEL}={flavour.suite}"}):
        leftover.remove(force=True, v=True)  # a run that was killed left it
    folder = STATE / flavour.suite
    shutil.rmtree(folder, ignore_errors=True)
    for part in ("run", "config/cli-plugins", "tmp", "cache", "cgroup", "etc"):
        (folder / part).mkdir(parents=True)
    (folder / "etc/daemon.json").write_text(json.dumps(flavour.daemon))
    mounts = {folder / "run": "/var/run", folder / "etc": "/etc/dockerlab:ro",
              # the grader's scratch space and cache at the same paths: the engine resolves bind mounts there
              folder / "tmp": str(folder / "tmp"), folder / "cache": str(folder / "cache")}
    # the learner engine's allowances (docker/course/compose.yml), and a writable /proc/sys (Engine 28
    # turns IPv6 off on each container's interface): `systempaths` is the CLI's, so the CLI starts it
    started = subprocess.run(
        ["docker", "run", "-d", "--label", f"{LABEL}={flavour.suite}", "--cgroupns", "private",
         "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
         "--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined",
         *[f"--volume={host_path}:{inside}" for host_path, inside in mounts.items()],
         tag, "--config-file", "/etc/dockerlab/daemon.json"], capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    container = host.containers.get(started.stdout.strip())
    engine = Engine(flavour.suite, container, folder, "")
    deadline = time.monotonic() + 120
    while not engine.run("docker", "version", timeout=30).returncode == 0:
        container.reload()
        assert container.status == "running" and time.monotonic() < deadline, container.logs()[-3000:].decode()
        time.sleep(0.5)
    container.reload()
    plugin = folder / "config/cli-plugins/docker-buildx"
    plugin.write_bytes(_read(container, "/usr/libexec/docker/cli-plugins/docker-buildx"))
    plugin.chmod(0o755)
    _cgroup_view(engine.pid, folder / "cgroup")
    engine.version = engine.run("docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
    save = subprocess.Popen(["docker", "save", *bases], stdout=subprocess.PIPE)
    load = subprocess.run(["docker", "load", "-q"], stdin=save.stdout, env=engine.env(), capture_output=True, text=True)
    save.wait()
    assert load.returncode == 0, load.stderr
    return engine


def stop(engine: Engine) -> None:
    # an engine that built much takes minutes to remove (its whole /var/lib/docker goes with it)
    docker.from_env(timeout=900).containers.get(engine.container.id).remove(force=True, v=True)
    shutil.rmtree(engine.folder, ignore_errors=True)


def _read(container, path: str) -> bytes:
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        assert member is not None
        handle = tar.extractfile(member)
        assert handle is not None
        return handle.read()


def _cgroup_view(pid: int, view: Path) -> None:
    """The engine container's cgroups as its engine sees them (its cgroup namespace), from the host."""
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():  # v2: one tree
        view.rmdir()
        view.symlink_to(Path("/sys/fs/cgroup") / lines[0].split(":", 2)[2].lstrip("/"))
        return
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(","):
            if name in ("memory", "pids", "cpu"):
                (view / name).symlink_to(Path("/sys/fs/cgroup") / controllers / path.lstrip("/"))
