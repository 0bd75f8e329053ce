"""What the machine offers for GPU containers: the engine's NVIDIA runtime or CDI specs, the driver."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graders.engine import boundary
from graders.facts import Gpu

if TYPE_CHECKING:
    from docker.types import DeviceRequest


CDI_DIRS = ("/etc/cdi", "/var/run/cdi")


@boundary
def detect(engine_info: dict[str, Any] | None) -> Gpu:
    runtimes = (engine_info or {}).get("runtimes", [])
    cdi_dirs = (engine_info or {}).get("cdi_spec_dirs") or CDI_DIRS
    if "nvidia" in runtimes:
        runtime = "nvidia"
    elif any(_nvidia_cdi(Path(folder)) for folder in cdi_dirs):
        runtime = "cdi"
    else:
        runtime = "none"
    driver, cuda, rows = _nvidia_smi()
    return Gpu(runtime, driver, cuda, [row["name"] for row in rows], [(row["name"], row.get("compute_cap")) for row in rows])


def _nvidia_cdi(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    return any("nvidia.com/gpu" in spec.read_text(errors="replace") for spec in folder.glob("*.*") if spec.is_file())


QUERY = "--query-gpu=name,driver_version,uuid,compute_cap"
OLD_QUERY = "--query-gpu=name,driver_version,uuid"  # drivers before compute_cap was a field


def _nvidia_smi() -> tuple[str | None, str | None, list[dict[str, str]]]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None, None, []
    try:
        listing = subprocess.run([smi, QUERY, "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
        if listing.returncode != 0:
            listing = subprocess.run([smi, OLD_QUERY, "--format=csv,noheader"], capture_output=True, text=True,
                                     timeout=20)
        banner = subprocess.run([smi], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None, None, []
    driver, cuda = parse_banner(banner)
    rows = parse_query(listing.stdout)
    return driver or (rows[0]["driver"] if rows else None), cuda, rows


def parse_banner(text: str) -> tuple[str | None, str | None]:
    """(driver version, highest CUDA it supports) from `nvidia-smi`'s banner; (None, None) without a driver."""
    driver = re.search(r"Driver Version:\s*([0-9.]+)", text)
    cuda = re.search(r"CUDA Version:\s*([0-9.]+)", text)
    return (driver.group(1) if driver else None), (cuda.group(1) if cuda else None)


def parse_query(text: str) -> list[dict[str, str]]:
    """Rows of `nvidia-smi --query-gpu=name,driver_version,uuid[,compute_cap] --format=csv,noheader`."""
    rows = []
    for line in text.strip().splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) in (3, 4) and re.fullmatch(r"[0-9.]+", parts[1]):
            row = {"name": parts[0], "driver": parts[1], "uuid": parts[2]}
            if len(parts) == 4 and re.fullmatch(r"\d+\.\d+", parts[3]):
                row["compute_cap"] = parts[3]
            rows.append(row)
    return rows


def device_request(spec: str = "all") -> DeviceRequest:
    """The request `docker run --gpus SPEC` sends: 'all', a count ('2'), or ids ('device=0,1' or UUIDs)."""
    import docker  # here, so the parsers above load on a machine without the Docker SDK
    spec = spec.strip().strip('"')
    if spec == "all":
        return docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])
    if spec.isdigit():
        return docker.types.DeviceRequest(count=int(spec), capabilities=[["gpu"]])
    if spec.startswith("device="):
        ids = [item.strip() for item in spec[len("device="):].split(",") if item.strip()]
        if ids:
            return docker.types.DeviceRequest(device_ids=ids, capabilities=[["gpu"]])
    raise ValueError(f"not a --gpus value: {spec!r} (use all, a count, or device=0,1)")
