"""The same work as the grader, done with plain docker CLI calls: the baseline every ratio is against.

Lab 01 (`lab01_same_work`): build (BuildKit, warm), hadolint, the service on an internal network
with the grader's limits and its health check every second, wait until healthy, the same 5
requests, an idle twin of the image and the same looks inside (pip cache, file list, uids), stop it
as `docker stop` does, rebuild a copy with app/main.py changed, remove everything.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from graders.engine.api import CAPABILITIES

DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
BUILDKIT = {"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"}
REQUESTS = [("GET", "/health", None), ("GET", "/ready", None)] + [
    ("POST", "/predict", {"features": f}) for f in ([5.1, 3.5, 1.4, 0.2], [5.9, 3.0, 4.2, 1.5], [6.3, 3.3, 6.0, 2.5])]
LOOKS = ["find / -xdev \\( -path /proc -o -path /sys \\) -prune -o -type d -path '*/.cache/pip' -prune "
         "-exec du -sk {} + 2>/dev/null",
         "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /usr -o -path /etc -o -path /var/lib "
         "-o -path /var/cache -o -name site-packages -o -name dist-packages -o -name node_modules \\) -prune -o -print "
         "2>/dev/null"]


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run([DOCKER, *args], check=check, capture_output=True, text=True, env=BUILDKIT).stdout.strip()


def build(folder: Path, tag: str) -> None:
    docker("build", "-q", "-t", tag, str(folder))


def serve(tag: str, name: str) -> str:
    """Start the service as the grader does and wait until the engine says healthy; its address."""
    docker("network", "create", "--internal", name)
    limits = ["--memory", "1024m", "--memory-swap", "1024m", "--cpus", "1", "--pids-limit", "256",
              "--security-opt", "no-new-privileges:true", "--cap-drop", "ALL",
              *[f"--cap-add={cap}" for cap in CAPABILITIES], "--log-opt", "max-size=10m"]
    health = ["--health-interval", "1s", "--health-retries", "3", "--health-timeout", "5s"]
    docker("run", "-d", "--name", name, "--network", name, *limits, *health, tag)
    while True:
        state = json.loads(docker("inspect", name))[0]
        if (state["State"].get("Health") or {}).get("Status") == "healthy":
            return next(iter(state["NetworkSettings"]["Networks"].values()))["IPAddress"] + ":8000"
        time.sleep(0.1)


def probe(address: str) -> None:
    for method, path, body in REQUESTS:
        data = json.dumps(body).encode() if body else None
        request = urllib.request.Request(f"http://{address}{path}", data=data, method=method,
                                         headers={"content-type": "application/json"})
        urllib.request.urlopen(request, timeout=5).read()


def lab01_same_work(folder: Path, scratch: Path) -> None:
    tag, name = "dockerlab-bench/raw:1", f"dockerlab-bench-{time.time_ns()}"
    try:
        build(folder, tag)
        hadolint = Path(sys.executable).parent / "hadolint"
        subprocess.run([str(hadolint) if hadolint.exists() else "hadolint", "-f", "json", str(folder / "Dockerfile")],
                       capture_output=True)
        probe(serve(tag, name))
        docker("run", "-d", "--name", f"{name}-twin", "--network", "none", "--entrypoint", "sleep", tag, "infinity")
        for look in LOOKS:
            docker("exec", "-u", "0", f"{name}-twin", "sh", "-c", look)
        docker("exec", name, "cat", "/proc/1/status")
        docker("exec", name, "id", "-u")
        docker("stop", "-t", "5", name)
        copy = scratch / f"rebuild-{time.time_ns()}"
        shutil.copytree(folder, copy)
        with open(copy / "app" / "main.py", "a") as handle:
            handle.write(f"\n# edited {time.time_ns()}\n")
        build(copy, "dockerlab-bench/raw:2")
    finally:
        docker("rm", "-f", name, f"{name}-twin", check=False)
        docker("network", "rm", name, check=False)
        docker("rmi", "-f", tag, "dockerlab-bench/raw:2", check=False)


def lab01_edit_loop(folder: Path) -> dict[str, float]:
    """What a person does after editing app/main.py: rebuild, run, wait until healthy, ask it; the
    seconds each part took."""
    tag, name = "dockerlab-bench/edit:1", f"dockerlab-bench-{time.time_ns()}"
    phases: dict[str, float] = {}
    mark = time.monotonic()

    def done(phase: str) -> None:
        nonlocal mark
        phases[phase] = round(time.monotonic() - mark, 3)
        mark = time.monotonic()

    try:
        build(folder, tag)
        done("build")
        address = serve(tag, name)
        done("start to healthy")
        probe(address)
        done("5 requests")
    finally:
        docker("rm", "-f", name, check=False)
        docker("network", "rm", name, check=False)
        docker("rmi", "-f", tag, check=False)
        done("removal")
    return phases
