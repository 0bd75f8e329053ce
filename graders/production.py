"""A production Compose service judged for what it asks of the container (Lab 05), setting by
setting, from the file alone. No engine here (graders.stages applies the same settings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RESTARTS = {"always", "unless-stopped", "on-failure"}
SOCKET = "docker.sock"


@dataclass
class Setting:
    """One thing a hardened service should ask for: whether it does, and the words that say so."""
    name: str
    asked: bool
    detail: str


def settings(service: dict[str, Any], image_healthcheck: bool) -> list[Setting]:
    """Each setting of a hardened production service, judged from the file alone."""
    drops = {cap(name) for name in as_list(service.get("cap_drop"))}
    options = [str(option).replace("=", ":").replace(" ", "") for option in as_list(service.get("security_opt"))]
    user = str(service.get("user") or "")
    uid = user.split(":")[0]
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    memory = service.get("mem_limit") or limits.get("memory")
    pids = service.get("pids_limit") or limits.get("pids")
    check = service.get("healthcheck") or {}
    restart = str(service.get("restart") or "").split(":")[0]
    policy = ((service.get("deploy") or {}).get("restart_policy") or {}).get("condition")
    host = _asks_for_the_host(service)
    no_new = any(option in ("no-new-privileges", "no-new-privileges:true") for option in options)
    return [
        Setting("read_only", service.get("read_only") is True, "read_only: true" if service.get("read_only") is True
                else "the root file system is writable (no read_only: true)"),
        Setting("cap_drop", "ALL" in drops, "cap_drop: [ALL]" if "ALL" in drops
                else f"capabilities kept: cap_drop is {sorted(drops) or 'not set'}, not [ALL]"),
        Setting("no_new_privileges", no_new, "security_opt: no-new-privileges" if no_new
                else "no security_opt: [no-new-privileges:true]"),
        Setting("user", uid.isdigit() and int(uid) != 0, f"user: {user!r}" if uid.isdigit() and int(uid) != 0
                else f"user is {user!r}: name a non-zero numeric uid, e.g. \"10001:10001\"" if user
                else "no user: (the image's USER is not visible to the platform that runs the file)"),
        Setting("memory", bool(memory), f"memory limited to {_size(memory)}" if memory else "no memory limit (mem_limit or "
                "deploy.resources.limits.memory)"),
        Setting("pids", bool(pids), f"processes limited to {pids}" if pids else "no process limit (pids_limit)"),
        Setting("healthcheck", not check.get("disable") and bool(check.get("test") or image_healthcheck),
                "healthcheck disabled" if check.get("disable") else
                "a healthcheck" + (" (the image's)" if not check.get("test") else "") if check.get("test") or image_healthcheck
                else "no healthcheck, in the file or the image"),
        Setting("restart", restart in RESTARTS or policy in ("any", "on-failure"),
                f"restart: {restart or policy}" if restart in RESTARTS or policy in ("any", "on-failure")
                else "no restart policy (restart: unless-stopped)"),
        Setting("nothing_from_the_host", not host, "asks nothing of the host" if not host else host),
    ]


def _asks_for_the_host(service: dict[str, Any]) -> str:
    """What the service asks of the host that a hardened service must not ("" when nothing)."""
    if service.get("privileged"):
        return "privileged: true"
    added = sorted(cap(name) for name in as_list(service.get("cap_add")))
    if added:
        return f"cap_add: {added}"
    for key in ("network_mode", "pid", "ipc", "userns_mode", "uts"):
        if service.get(key) == "host":
            return f"{key}: host"
    for volume in service.get("volumes") or []:
        source = volume.get("source", "") if isinstance(volume, dict) else str(volume).split(":")[0]
        if SOCKET in str(source):
            return f"the engine's socket is mounted ({source})"
    if service.get("devices"):
        return "devices: the host's devices"
    return ""


def cap(name: Any) -> str:
    return str(name).upper().removeprefix("CAP_")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _size(value: Any) -> str:
    """Compose's byte count as a person reads it (512m becomes 536870912 in its model)."""
    text = str(value)
    return f"{int(text) / 2**20:g} MiB" if text.isdigit() else text
