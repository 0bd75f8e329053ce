"""What the machine offers for GPU containers: the engine's NVIDIA runtime or CDI specs, the driver."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

CDI_DIRS = ("/etc/cdi", "/var/run/cdi")


@dataclass
class Gpu:
    runtime: str  # "nvidia", "cdi" or "none"
    driver_version: str | None
    cuda_version: str | None  # the highest CUDA the driver supports
    devices: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def detect(engine_info: dict | None) -> Gpu:
    runtimes = (engine_info or {}).get("runtimes", [])
    cdi_dirs = (engine_info or {}).get("cdi_spec_dirs") or CDI_DIRS
    if "nvidia" in runtimes:
        runtime = "nvidia"
    elif any(_nvidia_cdi(Path(folder)) for folder in cdi_dirs):
        runtime = "cdi"
    else:
        runtime = "none"
    driver, cuda, devices = _nvidia_smi()
    return Gpu(runtime, driver, cuda, devices)


def _nvidia_cdi(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    return any("nvidia.com/gpu" in spec.read_text(errors="replace") for spec in folder.glob("*.*") if spec.is_file())


def _nvidia_smi() -> tuple[str | None, str | None, list[str]]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None, None, []
    try:
        listing = subprocess.run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20)
        banner = subprocess.run([smi], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None, None, []
    rows = [line.split(",") for line in listing.stdout.strip().splitlines() if "," in line]
    driver = rows[0][1].strip() if rows else None
    cuda = re.search(r"CUDA Version:\s*([0-9.]+)", banner)
    return driver, cuda.group(1) if cuda else None, [row[0].strip() for row in rows]
