"""Base image and PyTorch pinned, and one copy of CUDA in the image.

torch from the package index loads the CUDA libraries of its `nvidia-*` wheels (through their RUNPATH,
unless LD_LIBRARY_PATH points elsewhere), not the system's.
On a CUDA base image that makes the base's libraries dead weight, whether or not the two CUDA
releases match. A CUDA base pays off when something uses it: torch built against it (vendor images
such as NVIDIA's PyTorch containers, with no nvidia-* wheels), or CUDA code compiled on a `devel`
image in a builder stage."""

import re

from graders import image_ref
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Query, gathered

PIP_PACKAGES = Query("pip_packages")
# The wheel that carries the CUDA runtime (named -cu11/-cu12 before CUDA 13).
CUDA_WHEEL = re.compile(r"^nvidia-cuda-runtime(-cu\d+)?$", re.IGNORECASE)


class TorchPinnedParams(Params):
    package: str = "torch"


class TorchPinned(Check):
    Params = TorchPinnedParams
    needs = ("dockerfile", "context", "image", "job", "inside")

    def queries(self, params: TorchPinnedParams) -> list[Query]:
        return [PIP_PACKAGES]

    def grade(self, params: TorchPinnedParams, facts: Facts) -> Outcome:
        ref = gathered(facts.dockerfile).root_base()
        base_pinned = image_ref.pinned(ref)[0]
        pins = _pins(facts, params.package)
        job = gathered(facts.job)
        torch_version, torch_cuda = (job.torch.split() + ["", ""])[:2]
        base_cuda = gathered(facts.image).env.get("CUDA_VERSION")
        packages = gathered(facts.inside).get(PIP_PACKAGES) or {}
        wheels = sorted(f"{name}=={version}" for name, version in packages.items() if CUDA_WHEEL.match(name))
        evidence = {"from": ref, "pins": pins, "torch": job.torch, "base_cuda": base_cuda, "cuda_wheels": wheels}
        problems = []
        if not base_pinned:
            problems.append(f"the base '{ref}' is not pinned to a version")
        if not pins:
            problems.append(f"{params.package} is not pinned with == in requirements.txt or the Dockerfile")
        elif _installed_elsewhere(pins, torch_version):
            problems.append(f"the image holds {params.package} {torch_version}, which no pin names ({', '.join(pins)}): "
                            "the pin is not what the Dockerfile installs")
        if base_cuda and wheels:
            problems.append(
                f"the base brings CUDA {base_cuda}, but {params.package} {torch_version} loads its own CUDA "
                f"{torch_cuda} from the nvidia-* wheels ({wheels[0]}): the base's copy is never used, and would "
                "not be even if the releases matched; build on a slim Python base")
        if not problems:
            if base_cuda:
                note = f"; {params.package} uses the base's CUDA {base_cuda} (no nvidia-* runtime wheel)"
            else:
                note = f"; CUDA {torch_cuda} from the nvidia-* wheels only" if wheels else ""
            return Outcome.passed(f"FROM {ref}; {pins[0]}{note}", **evidence)
        return Outcome.partial(1 - len(problems) / 3, "; ".join(problems), **evidence)


def _pins(facts: Facts, package: str) -> list[str]:
    """`package==version` in the Dockerfile's RUN lines and the build context's requirements files
    (as the static stage read them: plain, small files only)."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(package)}\s*==\s*[\w.+]+", re.IGNORECASE)
    texts = [i.shell for s in gathered(facts.dockerfile).stages for i in s.all("RUN")]
    texts += gathered(facts.context).requirements.values()
    return [match.group(0).replace(" ", "") for text in texts for match in pattern.finditer(text)]


def _installed_elsewhere(pins: list[str], installed: str) -> bool:
    """The image holds a version no pin names: the pin is not what the Dockerfile installs."""
    if not pins or not installed:
        return False
    return all(_version(pin.split("==", 1)[1]) != _version(installed) for pin in pins)


def _version(text: str) -> str:
    """`2.13.0+cu126` -> `2.13.0`: a local build tag is how the index names the same release."""
    return text.split("+", 1)[0].strip().lower()
