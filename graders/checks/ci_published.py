"""Published by CI and deployed by digest (Lab 05): the learner's CI script, run by the grader against
the course registry, pushes the image tagged with the commit, and leaves the production file running
exactly what it pushed: `image: $REGISTRY/NAME@sha256:<digest>`, a digest the registry holds."""

from __future__ import annotations

import re
from typing import Any

from graders import safeyaml
from graders.checks.base import Check, Outcome, Params
from graders.facts import CiRun, Facts, gathered
from graders.safeyaml import YamlError

PUSHED, PINNED, HELD = 0.3, 0.3, 0.4
"""The criterion's parts: the commit's tag pushed; the service's image named by digest; that digest
one the registry holds and this CI run pushed."""


class CiPublishedParams(Params):
    file: str = "compose.prod.yaml"
    service: str = "api"
    image: str = "iris"
    """The repository under $REGISTRY the script publishes."""


class CiPublished(Check):
    Params = CiPublishedParams
    needs = ("ci",)

    def grade(self, params: CiPublishedParams, facts: Facts) -> Outcome:
        run: CiRun = gathered(facts.ci)
        repo = f"{run.registry}/{params.image}"
        commit = run.env.get("GIT_SHA", "")
        tagged = f"{repo}:{commit}"
        evidence: dict[str, Any] = {
            "registry": run.registry, "exit_code": run.exit_code, "timed_out": run.timed_out,
            "commands": [{"docker": " ".join(c.argv)[:1000], "exit_code": c.code, "what": c.detail} for c in run.commands],
            "pushed": [{"ref": ref, "digest": digest} for ref, digest in run.pushed.items()],
            "registry_holds": [{"ref": ref, "digest": digest} for ref, digest in run.held.items()],
            "log_tail": run.log.strip().splitlines()[-15:],
        }
        problems: list[str] = []
        earned = 0.0
        if run.pushed.get(tagged) and run.held.get(tagged) == run.pushed[tagged]:
            earned += PUSHED
        else:
            problems.append(f"nothing was pushed as {tagged} (the image tagged with the commit, $GIT_SHA)")
        image, why = _service_image(run.files.get(params.file), params.file, params.service)
        evidence["image"] = image
        if image is None:
            problems.append(why)
        elif not re.search(r"@sha256:[0-9a-f]{64}$", image):
            problems.append(f"{params.file} runs {image}, a tag: a tag can be moved to another image; "
                            "name the image by the digest the push printed")
        else:
            earned += PINNED
            digest = image.rsplit("@", 1)[1]
            if not image.startswith(repo + "@"):
                problems.append(f"{params.file} runs {image}, not an image of this CI's registry ({repo}): "
                                "write the digest the script's own push printed")
            elif run.held.get(image) != digest:
                problems.append(f"{params.file} runs {image}, and the registry holds no such image")
            elif digest not in run.pushed.values():
                problems.append(f"{params.file} runs {image}, which this CI run did not push")
            else:
                earned += HELD
        if run.timed_out:
            problems.insert(0, "the script ran out of time and was stopped")
        elif run.exit_code != 0:
            last = run.log.strip().splitlines()[-1:] or ["(no output)"]
            problems.insert(0, f"the script exited with code {run.exit_code}; its last line: {last[0][:200]}")
        if not problems:
            return Outcome.passed(f"pushed {tagged}, and {params.file} runs it by the digest the registry holds",
                                  **evidence)
        return Outcome.partial(earned, "; ".join(problems[:2]), **evidence)


def _service_image(text: str | None, file: str, service: str) -> tuple[str | None, str]:
    """The service's `image:` in the production file the script left; else why there is none."""
    if text is None:
        return None, f"the script left no {file}"
    try:
        data = safeyaml.load(text).data
    except YamlError as error:
        return None, f"{file}, as the script left it, is not valid YAML: {error}"
    services = data.get("services") if isinstance(data, dict) else None
    entry = services.get(service) if isinstance(services, dict) else None
    image = entry.get("image") if isinstance(entry, dict) else None
    if not isinstance(image, str) or not image:
        return None, f"{file}, as the script left it, gives the {service} service no image"
    return image, ""
