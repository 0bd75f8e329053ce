"""A learner's Compose model, judged and made safe to run. Plain data in, plain data out: no engine.

`refusals` lists what the grader will not start at all (privileges, host namespaces, host paths).
`derive` turns the model Compose computed into the one the grader runs: the grader's images for
built services, services that cannot be had left out (with the edges to them, and their names
resolving to an address that refuses at once), every resource
labelled and named for this grading, limits on every container, no published ports.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOCKET_NAMES = ("docker.sock", "containerd.sock", "podman.sock")
SAFE_SECURITY_OPTS = {"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"}
HOST_MODES = ("network_mode", "pid", "ipc", "userns_mode", "cgroup", "uts")
DROPPED_CAPS = ["NET_RAW", "MKNOD", "SYS_CHROOT", "AUDIT_WRITE", "SETFCAP"]
# What every container gets unless told otherwise (moby's default set): adding one back after
# `cap_drop: [ALL]` is hardening, not a privilege.
DEFAULT_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


@dataclass(frozen=True)
class Refusal:
    service: str  # "" for a top-level volume or network
    key: str  # the key path in the Compose model, e.g. services.api.volumes[1]
    reason: str

    def __str__(self) -> str:
        where = f"service '{self.service}'" if self.service else "the file"
        return f"{where}, {self.key}: {self.reason}"


@dataclass(frozen=True)
class ContainerLimits:
    """What each of a stack's containers may use (course.yml's compose memory_mb, cpus, pids)."""

    memory_mb: int
    cpus: float
    pids: int


def refusals(model: dict[str, Any], folder: Path, written_file: dict[str, Any] | None = None) -> list[Refusal]:
    """What makes the stack unsafe to run on the grading machine, each with the key that says it.
    `written_file` is the file as written: Compose reads `env_file`s into the model and drops the key."""
    outside = _Outside(folder)
    written = (written_file or {}).get("services") or {}
    found = [Refusal(name, f"services.{name}.{key}", reason)
             for name, service in (model.get("services") or {}).items()
             for key, reason in [*_service(service, outside), *_env_files(written.get(name) or {}, outside),
                                 *_build(service.get("build") or {}, outside)]]
    return found + _top_level(model, outside)


class _Outside:
    """Whether a path (relative to the submission folder, or absolute) leads out of it."""

    def __init__(self, folder: Path) -> None:
        self.root = os.path.realpath(folder)

    def __call__(self, path: str) -> bool:
        real = os.path.realpath(path if os.path.isabs(path) else os.path.join(self.root, path))
        return os.path.commonpath([self.root, real]) != self.root


def _service(service: dict[str, Any], outside: _Outside) -> Iterator[tuple[str, str]]:
    if service.get("privileged"):
        yield "privileged", "privileged containers can do anything the host's root can"
    for key in HOST_MODES:
        if str(service.get(key) or "") == "host":
            yield key, f"'{key}: host' shares the host's {key.split('_')[0]} namespace"
    beyond = [str(c) for c in service.get("cap_add") or [] if _cap(c) not in DEFAULT_CAPS]
    if beyond:
        yield "cap_add", f"adds kernel capabilities beyond a container's defaults: {', '.join(beyond)}"
    if service.get("devices"):
        yield "devices", "host devices are not given to graded containers (GPUs are reserved under deploy.resources)"
    for index, option in enumerate(service.get("security_opt") or []):
        if str(option).replace(" ", "") not in SAFE_SECURITY_OPTS:
            yield f"security_opt[{index}]", f"'{option}' weakens the container's isolation"
    for index, volume in enumerate(service.get("volumes") or []):
        source = str(volume.get("source") or "")
        if volume.get("type") in ("bind", "npipe") and source:
            if os.path.basename(source) in SOCKET_NAMES:
                yield f"volumes[{index}]", f"mounts the container engine's socket {source}: full control of the host"
            elif outside(source):
                yield f"volumes[{index}]", f"mounts {source}, a host path outside the submission folder"


def _cap(name: object) -> str:
    """`cap_net_admin`, `CAP_NET_ADMIN` and `NET_ADMIN` are one capability to the engine."""
    upper = str(name).strip().upper()
    return upper.removeprefix("CAP_")


def _env_files(written: dict[str, Any], outside: _Outside) -> Iterator[tuple[str, str]]:
    env_files = written.get("env_file") or []
    for index, entry in enumerate([env_files] if isinstance(env_files, str) else env_files):
        path = entry.get("path") if isinstance(entry, dict) else entry
        if path and outside(str(path)):
            yield f"env_file[{index}]", f"reads {path}, a file outside the submission folder"


def _build(build: dict[str, Any], outside: _Outside) -> Iterator[tuple[str, str]]:
    if not build:
        return
    if outside(str(build.get("context", "."))):
        yield "build.context", f"builds from {build.get('context')}, outside the submission folder"
    dockerfile = str(build.get("dockerfile") or "")
    if os.path.isabs(dockerfile) and outside(dockerfile):
        yield "build.dockerfile", f"uses {dockerfile}, outside the submission folder"
    if build.get("network") == "host":
        yield "build.network", "builds with the host's network"
    if build.get("privileged") or build.get("entitlements"):
        yield "build.privileged", "privileged builds are not run"
    for key, value in (build.get("additional_contexts") or {}).items():
        if "://" not in str(value) and not str(value).startswith(("docker-image:", "service:")) and outside(str(value)):
            yield f"build.additional_contexts.{key}", f"reads {value}, outside the submission folder"


def _top_level(model: dict[str, Any], outside: _Outside) -> list[Refusal]:
    found = []
    for kind in ("secrets", "configs"):
        for name, item in (model.get(kind) or {}).items():
            if item.get("file") and outside(str(item["file"])):
                found.append(Refusal("", f"{kind}.{name}.file", f"reads {item['file']}, a file outside the submission folder"))
    for kind in ("volumes", "networks"):
        for name, item in (model.get(kind) or {}).items():
            item = item or {}
            if item.get("external"):
                found.append(Refusal("", f"{kind}.{name}.external", f"an external {kind[:-1]} belongs to the host, not to the stack"))
            options = {str(k): str(v) for k, v in (item.get("driver_opts") or {}).items()}
            if kind == "volumes" and ("device" in options or "bind" in options.get("o", "")):
                found.append(Refusal("", f"volumes.{name}.driver_opts", "a volume backed by a host path is a bind mount in disguise"))
    return found


def missing_edges(model: dict[str, Any], left_out: set[str]) -> dict[str, list[str]]:
    """service -> the services it depends on that are left out of the run."""
    edges = {}
    for name, service in (model.get("services") or {}).items():
        cut = sorted(set(service.get("depends_on") or {}) & left_out)
        if cut and name not in left_out:
            edges[name] = cut
    return edges


def derive(model: dict[str, Any], *, project: str, labels: dict[str, str], images: dict[str, str], left_out: set[str],
           limits: ContainerLimits) -> dict[str, Any]:
    """The model the grader runs (see the module's docstring). `images`: service -> built image id."""
    run = copy.deepcopy(model)
    run["name"] = project
    services = {}
    for name, service in (run.get("services") or {}).items():
        if name in left_out:
            continue
        if name in images:
            service.pop("build", None)
            service["image"] = images[name]
        service["pull_policy"] = "never"
        service["labels"] = {**(service.get("labels") or {}), **labels}
        for key in ("ports", "container_name", "mem_reservation", "memswap_limit", "oom_kill_disable", "oom_score_adj"):
            service.pop(key, None)
        service["restart"] = "no"
        # the grader's limits, or the learner's where they are tighter
        service["mem_limit"] = str(min(limits.memory_mb * 2**20, int(service.get("mem_limit") or 2**62)))
        service["cpus"] = min(limits.cpus, float(service.get("cpus") or limits.cpus))
        pids = int(service.get("pids_limit") or 0)  # -1 or 0: unlimited
        service["pids_limit"] = min(limits.pids, pids) if pids > 0 else limits.pids
        service["security_opt"] = ["no-new-privileges:true"]
        service["cap_drop"] = sorted(set(service.get("cap_drop") or []) | set(DROPPED_CAPS))
        kept = [c for c in service.pop("cap_add", None) or [] if _cap(c) not in DROPPED_CAPS]  # an add beats a drop
        if kept:
            service["cap_add"] = kept
        service["logging"] = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "1"}}
        (service.get("deploy") or {}).pop("resources", None)  # limits are ours; GPU reservations are not run here
        if service.get("depends_on"):
            service["depends_on"] = {k: v for k, v in service["depends_on"].items() if k not in left_out}
        if left_out:  # a name that resolves and refuses at once, rather than a DNS lookup that hangs
            service["extra_hosts"] = [*(service.get("extra_hosts") or []), *(f"{n}:127.0.0.1" for n in sorted(left_out))]
        services[name] = service
    run["services"] = services
    for kind in ("networks", "volumes"):
        for key, item in (run.get(kind) or {}).items():
            item = item if isinstance(item, dict) else {}
            item["name"] = f"{project}_{key}"
            item["labels"] = {**(item.get("labels") or {}), **labels}
            if kind == "networks":
                item["internal"] = True  # the stack reaches nothing outside, and nothing reaches it but the grader
            run[kind][key] = item
    return run  # Compose's model keeps `$$` escaped, so reading it again interpolates nothing new
