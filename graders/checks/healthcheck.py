"""A HEALTHCHECK that really passes in the running container, and that fails where the service is
not running: one that passes whatever the service does (`CMD ["true"]`, a file test) tests nothing."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import IMAGE_HEALTHCHECK, Facts, Query, gathered, optional
from graders.health import command_missing


class Healthcheck(Check):
    needs = ("image", "container")
    uses = ("inside",)  # an image the grader cannot look inside is judged on the service alone

    def queries(self, params: Params) -> list[Query]:
        return [IMAGE_HEALTHCHECK]

    def grade(self, params: Params, facts: Facts) -> Outcome:
        test = (gathered(facts.image).healthcheck or {}).get("Test") or []
        if not test or test[0] == "NONE":
            return Outcome.failed("the image has no HEALTHCHECK")
        container = gathered(facts.container)
        evidence = {"test": test, "health_log": container.health_log[-3:]}
        if container.health == "healthy":
            code, output = (optional(facts.inside) or {}).get(IMAGE_HEALTHCHECK, (None, ""))
            if code == 0:
                return Outcome.failed(
                    "the health check also passes in a container of the image where the service is not running: "
                    "it tests nothing about the service", idle_output=output[-300:], **evidence)
            return Outcome.passed(f"healthy after {container.seconds_to_healthy:.1f} s, and failing where the service "
                                  f"is not running" if code is not None else
                                  f"healthy after {container.seconds_to_healthy:.1f} s", **evidence)
        log = " ".join(container.health_log)
        if command_missing(log):
            return Outcome.failed(
                "the health check calls a program the image does not have (slim images ship no curl or wget)",
                **evidence,
            )
        last = container.health_log[-1] if container.health_log else "no output"
        state = container.health or ("exited" if not container.running else "unknown")
        return Outcome.failed(f"the container never became healthy (state: {state}; last check: {last})", **evidence)
