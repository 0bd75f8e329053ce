"""A HEALTHCHECK that really passes in the running container."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered
from graders.health import command_missing


class Healthcheck(Check):
    needs = ("image", "container")

    def grade(self, params: Params, facts: Facts) -> Outcome:
        test = (gathered(facts.image).healthcheck or {}).get("Test") or []
        if not test or test[0] == "NONE":
            return Outcome.failed("the image has no HEALTHCHECK")
        container = gathered(facts.container)
        evidence = {"test": test, "health_log": container.health_log[-3:]}
        if container.health == "healthy":
            return Outcome.passed(f"healthy after {container.seconds_to_healthy:.1f} s", **evidence)
        log = " ".join(container.health_log)
        if command_missing(log):
            return Outcome.failed(
                "the health check calls a program the image does not have (slim images ship no curl or wget)",
                **evidence,
            )
        last = container.health_log[-1] if container.health_log else "no output"
        state = container.health or ("exited" if not container.running else "unknown")
        return Outcome.failed(f"the container never became healthy (state: {state}; last check: {last})", **evidence)
