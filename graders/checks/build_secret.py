"""A build secret used through `RUN --mount=type=secret`, and written nowhere in the image."""

from __future__ import annotations

from graders.checks.base import Check, Outcome, Params
from graders.dockerfile import Dockerfile, Instruction
from graders.facts import Facts, gathered


class BuildSecretParams(Params):
    id: str
    """The secret's id, as `--secret id=...` names it."""


class BuildSecret(Check):
    Params = BuildSecretParams
    needs = ("dockerfile", "leaks")

    def grade(self, params: BuildSecretParams, facts: Facts) -> Outcome:
        dockerfile: Dockerfile = gathered(facts.dockerfile)
        mounts = [i.line for i in mounting(dockerfile, params.id)]
        places = gathered(facts.leaks)
        evidence = {"mounted_at_lines": mounts, "found_in": places}
        if places:
            return Outcome.failed(f"the image holds the secret's value: {places[0]}"
                                  + (f" (and {len(places) - 1} more places)" if len(places) > 1 else ""), **evidence)
        if not mounts:
            return Outcome.failed(f"no RUN mounts the secret '{params.id}' (RUN --mount=type=secret,id={params.id})",
                                  **evidence)
        return Outcome.passed(f"the secret '{params.id}' is mounted for the RUN at line {mounts[0]} and is in no "
                              "layer, history entry or config", **evidence)


def mounting(dockerfile: Dockerfile, secret: str) -> list[Instruction]:
    """The RUN instructions that mount secret `secret` (its id, or with no id a target named after it)."""
    found = []
    for stage in dockerfile.stages:
        for instruction in stage.all("RUN"):
            for mount in instruction.flags.get("mount", []):
                options = dict(part.partition("=")[::2] for part in mount.split(","))
                name = options.get("id") or (options.get("target") or options.get("dst") or "").rsplit("/", 1)[-1]
                if options.get("type") == "secret" and name == secret:
                    found.append(instruction)
    return found
