"""Runs inside the VM (tests/vm/test_cgroup_v2.py boots it): the grader's build sandbox on this
engine, with the grader's own code: a fork bomb, a memory hog and a well-behaved build, each graded
through graders.engine.build. Writes what it saw as JSON to the path it is given."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
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
    for name, steps in BUILDS.items():
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "Dockerfile").write_text(f"FROM {BASE}\n{steps}")
            started = time.monotonic()
            done = build(client, builder, Path(folder), "Dockerfile", f"dockerlab-vm/{name}", {}, LIMITS)
            seen["builds"][name] = {"ok": done.ok, "error": done.error, "seconds": round(time.monotonic() - started, 1),  # type: ignore[index]
                                    "log_tail": done.log[-1500:]}
            print(name, done.ok, done.error, flush=True)
    out.write_text(json.dumps(seen, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
