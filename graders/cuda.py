"""Which CUDA a host can run: NVIDIA's minimum driver per CUDA major release (Linux), and the
oldest GPU architecture (compute capability) each release still builds for.

With minor-version compatibility, a driver at or above a major release's minimum runs every minor
release of it (11.x needs 450.80.02, 12.x 525.60.13, 13.x 580). Some features (PTX JIT of newer
code) still want the newer driver; the message says so when the driver predates the minor release.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MINIMUM_DRIVER = {11: "450.80.02", 12: "525.60.13", 13: "580.00"}
# Oldest GPU architecture (compute capability) each CUDA major release still supports: 11.x dropped
# Kepler's 3.0, 12.0 dropped Kepler entirely, 13.0 dropped Maxwell, Pascal and Volta (V100 is 7.0,
# P100 6.0, GTX 10xx 6.1). Framework builds may start higher still (torch.cuda.get_arch_list()).
MINIMUM_CAPABILITY = {11: (3, 5), 12: (5, 0), 13: (7, 5)}
ARCHITECTURE = {3: "Kepler", 5: "Maxwell", 6: "Pascal", 7: "Volta", 8: "Ampere", 9: "Hopper", 10: "Blackwell",
                12: "Blackwell"}
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


def capability(text: str | None) -> tuple[int, int] | None:
    """'7.5' -> (7, 5); None for anything else ('[N/A]', '')."""
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def architecture(cap: tuple[int, int]) -> str:
    if cap == (7, 5):
        return "Turing"
    if cap[0] == 8 and cap[1] == 9:
        return "Ada"
    return ARCHITECTURE.get(cap[0], "an unknown architecture")


def check(driver: str | None, cuda: str | None, gpus: Sequence[tuple[str, str | None]] = ()) -> Verdict:
    """Can a host with `driver` and these GPUs ((name, compute capability) pairs) run an image built for `cuda`?"""
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
    oldest = MINIMUM_CAPABILITY[need_cuda[0]]
    too_old = [(name, cap) for name, text in gpus if (cap := capability(text)) and cap < oldest]
    if too_old:
        name, cap = too_old[0]
        return Verdict(False, f"CUDA {cuda} runs on GPUs of compute capability {oldest[0]}.{oldest[1]} or newer; this "
                              f"host's {name} is {cap[0]}.{cap[1]} ({architecture(cap)}), so the driver check passes "
                              f"but no kernel in the image can run on it. Use a build for an older CUDA release "
                              f"that still supports {architecture(cap)} (for torch, a +cu12x build).")
    native = BRANCH_CUDA.get(have[0])
    if native and version(native)[:2] < need_cuda[:2]:
        return Verdict(True, f"driver {driver} (made for CUDA {native}) runs CUDA {cuda} through minor-version "
                             f"compatibility; code that needs PTX JIT for {cuda} may still want a newer driver")
    return Verdict(True, f"driver {driver} runs CUDA {cuda}")
