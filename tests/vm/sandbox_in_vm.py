"""Runs inside the VM (tests/vm/test_cgroup_v2.py boots it): the grader's build sandbox on this
engine, with the grader's own code: a fork bomb and a well-behaved build side by side (two build
slots, each its own cgroup), then a memory hog, each graded through graders.engine.build. Writes what
it saw as JSON to the path it is given."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import docker

from graders.engine import build_sandbox
from graders.engine.build import build, detect_builder, sandboxed

BASE = "dockerlab/busybox:vm"
LIMITS = build_sandbox.BuildLimits(memory_mb=256, pids=64, cpus=1.0, disk_mb=1024, seconds=300)
BUILDS = {
    "fork-bomb": "RUN for i in $(seq 1 1000); do sleep 60 & done; wait\n",
    "memory-hog": "RUN dd if=/dev/zero of=/dev/null bs=600M count=1\n",
    "reference": "RUN echo built > /greeting && cat /greeting\nRUN for i in $(seq 1 20); do echo $i; done\n",
}


def engine() -> dict[str, str]:
    info = docker.from_env().info()
    return {key: str(info.get(key)) for key in ("ServerVersion", "CgroupVersion", "CgroupDriver", "KernelVersion",
                                                "Driver", "DriverStatus")}


def main(out: Path) -> None:
    client = docker.from_env(timeout=300)
    builder = sandboxed(detect_builder(), lambda: [BASE], "/var/lib/docker")
    seen: dict[str, object] = {"engine": engine(), "builder": builder.reason, "sandbox": builder.sandbox,
                               "cgroup": builder.cgroup, "own_cgroup": builder.own_cgroup,
                               "buildx": subprocess.run(["docker", "buildx", "version"], capture_output=True,
                                                        text=True).stdout.strip(), "builds": {}}
    seen["slots"] = builder.slots

    def one(name: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "Dockerfile").write_text(f"FROM {BASE}\n{BUILDS[name]}")
            started = time.monotonic()
            done = build(client, builder, Path(folder), "Dockerfile", f"dockerlab-vm/{name}", {}, LIMITS)
            seen["builds"][name] = {"ok": done.ok, "error": done.error, "seconds": round(time.monotonic() - started, 1),  # type: ignore[index]
                                    "waited": done.waited, "log_tail": done.log[-1500:]}
            print(name, done.ok, done.waited, done.error, flush=True)

    beside = [threading.Thread(target=one, args=(name,)) for name in ("fork-bomb", "reference")]
    for thread in beside:  # side by side: each in a slot of its own, under its own limits
        thread.start()
    for thread in beside:
        thread.join()
    one("memory-hog")
    out.write_text(json.dumps(seen, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
