from __future__ import annotations

from typing import Any

from graders.checks._compose import at
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class GpuParams(Params):
    services: list[str]
    """Services that should get a GPU when one exists (any of them with a good reservation passes)."""


def problems(device: dict[str, Any]) -> list[str]:
    """What is wrong with one `deploy.resources.reservations.devices` entry for an NVIDIA GPU."""
    found = []
    if device.get("driver") != "nvidia":
        found.append("driver: nvidia is missing")
    if "count" in device and device.get("device_ids"):
        found.append("count and device_ids are both set (Compose refuses that: choose one)")
    elif "count" not in device and not device.get("device_ids"):
        found.append("neither count nor device_ids says how many GPUs")
    if "gpu" not in (device.get("capabilities") or []):
        found.append("capabilities must include gpu")
    return found


class GpuReservation(Check):
    """A well-formed GPU reservation, placed so the stack still starts on a machine without a GPU:
    in the GPU override file, or on a service behind a profile."""

    Params = GpuParams
    needs = ("compose",)

    def grade(self, params: GpuParams, facts: Facts) -> Outcome:
        compose = gathered(facts.compose)
        places = []  # (where, service, safe, devices)
        if compose.gpu_model:
            for name in params.services:
                service = (compose.gpu_model.get("services") or {}).get(name) or {}
                places.append((compose.gpu_file or "", name, True, _devices(service)))
        for name in params.services:
            service = (compose.source.get("services") or {}).get(name) or {}
            if _devices(service):
                places.append((at(compose, f"services.{name}.deploy"), name, bool(service.get("profiles")), _devices(service)))
        found = [(where, name, safe, device) for where, name, safe, devices in places for device in devices]
        if compose.gpu_error:
            return Outcome.failed(compose.gpu_error)
        if not found:
            return Outcome.failed(f"no GPU reservation for {' or '.join(params.services)}")
        for where, name, safe, device in found:
            if not problems(device) and safe:
                return Outcome.passed(f"{name} reserves a GPU in {where.split(' ')[0]}", reservation=device)
        for where, name, _safe, device in found:
            if not problems(device):
                return Outcome.partial(0.5, f"{where}: {name} reserves a GPU in the main file without a profile, so the "
                                       "stack cannot start on a machine without one", reservation=device)
        where, name, _, device = found[0]
        return Outcome.failed(f"{where}: the reservation for {name} is malformed: {'; '.join(problems(device))}",
                              reservation=device)


def _devices(service: dict[str, Any]) -> list[dict[str, Any]]:
    devices = ((((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices")) or []
    return [d for d in devices if isinstance(d, dict)]
