from __future__ import annotations

from typing import Any

from graders.checks._compose import at
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class GpuParams(Params):
    services: list[str] = []
    """Services that may hold the GPU; empty: any service (the one whose code uses it)."""


def problems(device: dict[str, Any]) -> list[str]:
    """What is wrong with one GPU request for an NVIDIA GPU: a `deploy.resources.reservations.devices`
    entry, or an entry of the service's `gpus:`. Without `count` or `device_ids` every GPU is given
    (Compose's docs); without `driver` the engine picks the one that offers the capabilities, as
    `docker run --gpus` does; `driver: cdi` names the devices in CDI's form (nvidia.com/gpu=…)."""
    found = []
    driver = device.get("driver")
    if driver not in (None, "nvidia", "cdi"):
        found.append(f"driver: {driver} is not NVIDIA's (nvidia, or cdi with nvidia.com/gpu devices)")
    if driver == "cdi" and not any(str(name).startswith("nvidia.com/gpu") for name in device.get("device_ids") or []):
        found.append("driver: cdi needs device_ids naming nvidia.com/gpu=… devices")
    if device.get("count") not in (None, -1) and device.get("device_ids"):
        found.append("count and device_ids are both set (Compose refuses that: choose one)")
    if "gpu" not in (device.get("capabilities") or []) and driver != "cdi":
        found.append("capabilities must include gpu")
    return found


class GpuReservation(Check):
    """A well-formed GPU reservation, placed so the stack still starts on a machine without a GPU:
    in the GPU override file, or on a service behind a profile."""

    Params = GpuParams
    needs = ("compose",)

    def grade(self, params: GpuParams, facts: Facts) -> Outcome:
        compose = gathered(facts.compose)
        chosen = set(params.services)
        main = {n: s for n, s in (compose.source.get("services") or {}).items() if not chosen or n in chosen}
        places = []  # (where, service, safe, devices)
        if compose.gpu_model:  # what the override adds: the main file's own requests are judged below
            merged_main = compose.model.get("services") or {}
            for name, service in (compose.gpu_model.get("services") or {}).items():
                if not chosen or name in chosen:
                    already = _devices(merged_main.get(name) or {})
                    places.append((compose.gpu_file or "", name, True, [d for d in _devices(service) if d not in already]))
        for name, service in main.items():
            if _devices(service):
                places.append((at(compose, f"services.{name}.deploy"), name, bool(service.get("profiles")), _devices(service)))
        found = [(where, name, safe, device) for where, name, safe, devices in places for device in devices]
        if compose.gpu_error:
            return Outcome.failed(compose.gpu_error)
        if not found:
            return Outcome.failed(f"no GPU reservation for {' or '.join(params.services)}" if chosen else
                                  "no service reserves a GPU")
        for where, name, safe, device in found:
            if not problems(device) and safe:
                place = where.split(" ")[0] if where == compose.gpu_file else f"{where.split(' ')[0]}, behind a profile"
                return Outcome.passed(f"{name} reserves a GPU in {place}", reservation=device)
        for where, name, _safe, device in found:
            if not problems(device):
                return Outcome.partial(0.5, f"{where}: {name} reserves a GPU in the main file without a profile, so the "
                                       "stack cannot start on a machine without one", reservation=device)
        where, name, _, device = found[0]
        return Outcome.failed(f"{where}: the reservation for {name} is malformed: {'; '.join(problems(device))}",
                              reservation=device)


def _devices(service: dict[str, Any]) -> list[dict[str, Any]]:
    """The service's GPU requests: its device reservations, and its `gpus:` (`all`, or a list), which
    asks for GPUs by itself."""
    devices = ((((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices")) or []
    gpus = service.get("gpus")
    asked = [{"count": -1}] if gpus == "all" else gpus if isinstance(gpus, list) else []
    return [d for d in devices if isinstance(d, dict)] + [{"capabilities": ["gpu"], **g} for g in asked if isinstance(g, dict)]
