"""CMD (and ENTRYPOINT, if any) in exec form, so the server is PID 1 and gets signals."""

from graders.checks.base import Check, Outcome, Params
from graders.dockerfile import BuildStage
from graders.facts import Facts, gathered


class ExecFormParams(Params):
    require_entrypoint: bool = False
    """Demand an ENTRYPOINT (so `docker run IMAGE --flag` passes flags to the program)."""


class ExecForm(Check):
    Params = ExecFormParams
    needs = ("dockerfile",)

    def grade(self, params: ExecFormParams, facts: Facts) -> Outcome:
        dockerfile = gathered(facts.dockerfile)
        chain: list[BuildStage] = []
        stage: BuildStage | None = dockerfile.final
        while stage is not None and stage not in chain:
            chain.append(stage)
            stage = dockerfile.stage(stage.base)
        found = [i for s in chain for i in (s.last("CMD"), s.last("ENTRYPOINT")) if i is not None]
        if not found:
            return Outcome.failed("the final stage has no CMD or ENTRYPOINT; the image runs its base's command")
        shell = [i for i in found if not i.exec_form]
        evidence = {"instructions": [{"line": i.line, "text": i.text(), "exec_form": i.exec_form} for i in found]}
        if params.require_entrypoint and not any(i.keyword == "ENTRYPOINT" for i in found):
            return Outcome.failed("there is no ENTRYPOINT, so arguments after the image name replace CMD "
                                  "instead of reaching the program", **evidence)
        if shell:
            first = shell[0]
            return Outcome.failed(
                f"line {first.line}: {first.keyword} is in shell form, so /bin/sh -c runs as PID 1 and "
                "'docker stop' signals never reach the server",
                **evidence,
            )
        return Outcome.passed(", ".join(f"{i.keyword} (line {i.line})" for i in found) + " in exec form", **evidence)
