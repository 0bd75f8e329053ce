"""Which CUDA a host driver can run: NVIDIA's minimum driver per CUDA major release (Linux).

With minor-version compatibility, a driver at or above a major release's minimum runs every minor
release of it (11.x needs 450.80.02, 12.x 525.60.13, 13.x 580). Some features (PTX JIT of newer
code) still want the newer driver; the message says so when the driver predates the minor release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MINIMUM_DRIVER = {11: "450.80.02", 12: "525.60.13", 13: "580.00"}
# Newest CUDA minor release each driver branch was released with (from `nvidia-smi`'s banner).
BRANCH_CUDA = {450: "11.0", 455: "11.1", 460: "11.2", 465: "11.3", 470: "11.4", 495: "11.5", 510: "11.6",
               515: "11.7", 520: "11.8", 525: "12.0", 530: "12.1", 535: "12.2", 545: "12.3", 550: "12.4",
               555: "12.5", 560: "12.6", 565: "12.7", 570: "12.8", 575: "12.9", 580: "13.0"}


@dataclass(frozen=True)
class Verdict:
    ok: bool | None  # None: cannot be judged (no driver, no CUDA in the image, unknown release)
    message: str


def version(text: str) -> tuple[int, ...]:
    """'525.60.13' -> (525, 60, 13); '12.4.1' -> (12, 4, 1). Raises ValueError on anything else."""
    if not re.fullmatch(r"\d+(\.\d+)*", text.strip()):
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in text.strip().split("."))


def check(driver: str | None, cuda: str | None) -> Verdict:
    """Can a host with `driver` run an image built for `cuda`?"""
    if not driver:
        return Verdict(None, "no NVIDIA driver on this host, so the CUDA/driver contract cannot be checked here")
    if not cuda:
        return Verdict(None, "the image names no CUDA version (no CUDA_VERSION, and torch reports none)")
    try:
        have, need_cuda = version(driver), version(cuda)
    except ValueError as error:
        return Verdict(None, str(error))
    minimum = MINIMUM_DRIVER.get(need_cuda[0])
    if minimum is None:
        return Verdict(None, f"CUDA {cuda} is not in the table of releases this grader knows (11, 12, 13)")
    if have < version(minimum):
        return Verdict(False, f"the image needs CUDA {cuda}, which needs NVIDIA driver {minimum} or newer; "
                              f"this host has {driver}. Update the host driver, or use an image built for an "
                              f"older CUDA release (the driver is on the host; only CUDA is in the image).")
    native = BRANCH_CUDA.get(have[0])
    if native and version(native)[:2] < need_cuda[:2]:
        return Verdict(True, f"driver {driver} (made for CUDA {native}) runs CUDA {cuda} through minor-version "
                             f"compatibility; code that needs PTX JIT for {cuda} may still want a newer driver")
    return Verdict(True, f"driver {driver} runs CUDA {cuda}")
