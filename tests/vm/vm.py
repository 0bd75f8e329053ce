"""A throwaway Debian trixie VM (docker/vm/make-image.sh) booted under qemu: cgroup v2, systemd's
cgroup driver, the Engine and buildx of trixie (26.1) or of sid (28.5, containerd image store). The
checkout is shared read-only; the VM runs a script, writes its output into a shared folder and powers
off. Software emulation when KVM is missing, so
what runs inside is kept small."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "docker" / "vm" / "make-image.sh"
CACHE = Path(os.environ.get("DOCKERLAB_VM_CACHE", "/var/cache/dockerlab/vm"))
MEMORY_MB = 3072


def missing_tools() -> list[str]:
    tools = ["qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4"]
    return [tool for tool in tools if not shutil.which(tool)]


ENGINES = {"trixie": "26.1", "sid": "28.5"}
"""The Debian suites whose engine a VM can have, and the start of that engine's version."""


def image(engine: str) -> Path:
    """The VM's kernel, initrd and root file system with `engine`'s suite's Engine, made once per
    recipe (3 to 5 minutes) and kept."""
    folder = CACHE / f"{engine}-{hashlib.sha256(RECIPE.read_bytes()).hexdigest()[:16]}"
    if not (folder / "rootfs.img").exists():
        subprocess.run(["bash", str(RECIPE), str(folder), engine], check=True, timeout=1800)
    return folder


@dataclass
class Boot:
    rc: int | None
    """The script's exit code, None when it did not finish."""
    log: str
    console: str
    seconds: float


def run(script: str, out: Path, engine: str = "trixie", timeout: int = 900) -> Boot:
    """Boot the VM with `engine`'s Engine, run `script` (sh) in it with the checkout at /src and `out`
    at /out, power off."""
    base = image(engine)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.sh").write_text(script)
    overlay = out / "disk.qcow2"  # the base stays clean: every boot starts from the same disk
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base / "rootfs.img"), str(overlay)],
                   check=True, timeout=60)
    accel = os.environ.get("DOCKERLAB_VM_ACCEL", "tcg")  # KVM where it works; here a nested one fails early
    command = [
        "qemu-system-x86_64", "-machine", f"q35,accel={accel}", "-cpu", "max", "-smp", "2", "-m", str(MEMORY_MB),
        "-kernel", str(base / "vmlinuz"), "-initrd", str(base / "initrd.img"),
        "-append", "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0 panic=-1",
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        "-virtfs", f"local,path={ROOT},mount_tag=src,security_model=none,readonly=on",
        "-virtfs", f"local,path={out},mount_tag=out,security_model=none",
        "-nic", "none", "-display", "none", "-no-reboot", "-serial", f"file:{out / 'console.log'}",
    ]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    finally:
        overlay.unlink(missing_ok=True)
    rc_file = out / "rc"
    rc = int(rc_file.read_text()) if rc_file.exists() else None
    console = (out / "console.log").read_text(errors="replace") if (out / "console.log").exists() else ""
    log = (out / "log").read_text(errors="replace") if (out / "log").exists() else stderr.decode(errors="replace")
    return Boot(rc, log, console, time.monotonic() - started)
