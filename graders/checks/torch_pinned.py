"""Base image and PyTorch pinned; PyTorch's CUDA build consistent with the base's CUDA, if it has one."""

import re

from graders.checks.base import Check, Outcome, Params
from graders.checks.base_image import split_ref


class P(Params):
    package: str = "torch"


class TorchPinned(Check):
    Params = P
    needs = ("dockerfile", "image", "job")

    def grade(self, params: P, facts) -> Outcome:
        ref = facts.dockerfile.root_base()
        _name, tag, digest = split_ref(ref)
        base_pinned = bool(digest) or bool(tag and tag != "latest" and re.search(r"\d", tag))
        pins = _pins(facts, params.package)
        torch_version, torch_cuda = (facts.job.torch.split() + ["", ""])[:2]
        base_cuda = facts.image.env.get("CUDA_VERSION")
        consistent = True
        if base_cuda and torch_cuda not in ("", "None"):
            consistent = base_cuda.split(".")[:2] == torch_cuda.split(".")[:2]
        evidence = {"from": ref, "pins": pins, "torch": facts.job.torch, "base_cuda": base_cuda}
        problems = []
        if not base_pinned:
            problems.append(f"the base '{ref}' is not pinned to a version")
        if not pins:
            problems.append(f"{params.package} is not pinned with == in requirements.txt or the Dockerfile")
        if not consistent:
            problems.append(f"the base brings CUDA {base_cuda} but {params.package} {torch_version} is built for "
                            f"CUDA {torch_cuda}: the image carries two CUDAs, and the base's is unused")
        if not problems:
            cuda_note = f"; CUDA {base_cuda} in the base matches" if base_cuda else ""
            return Outcome.passed(f"FROM {ref}; {pins[0]}{cuda_note}", **evidence)
        return Outcome.partial(1 - len(problems) / 3, "; ".join(problems), **evidence)


def _pins(facts, package: str) -> list[str]:
    pattern = re.compile(rf"(?<![\w-]){re.escape(package)}\s*==\s*[\w.+]+", re.IGNORECASE)
    texts = [i.shell for s in facts.dockerfile.stages for i in s.all("RUN")]
    for path in sorted(facts.submission.glob("requirements*.txt")):
        texts.append(path.read_text(errors="replace"))
    return [match.group(0).replace(" ", "") for text in texts for match in pattern.finditer(text)]
