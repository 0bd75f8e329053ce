from __future__ import annotations

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered
from graders.health import command_missing


class ServiceParams(Params):
    service: str


class ServiceHealthy(Check):
    """After `docker compose up --wait`, the service's container runs and its healthcheck passes."""

    Params = ServiceParams
    needs = ("stack",)

    def grade(self, params: ServiceParams, facts: Facts) -> Outcome:
        stack, name = gathered(facts.stack), params.service
        if name in stack.left_out:
            return Outcome.ungradable(f"{name} was not run here: {stack.left_out[name]}")
        state = stack.services.get(name)
        if state is None:
            return Outcome.failed(f"there is no service {name} in the stack")
        logs = state.logs.strip().splitlines()[-20:]
        if state.status == "missing" or (state.status == "created" and not stack.up_ok):
            why = stack.stopped_early or _last(stack.up_output)
            return Outcome.failed(f"{name} never started ({why})", up=stack.up_output.splitlines()[-10:])
        if state.status != "running":
            return Outcome.failed(f"{name} is {state.status} (exit code {state.exit_code}); its last log line: "
                                  f"{_last(state.logs)}", logs=logs)
        if state.health == "healthy":
            return Outcome.passed(f"{name} is running and healthy")
        if state.health is None:
            return Outcome.passed(f"{name} is running (it has no healthcheck to say more)")
        detail = state.health_log[-1] if state.health_log else "no check has finished yet"
        if command_missing(detail):
            return Outcome.failed(f"{name} is unhealthy: its healthcheck cannot run in its image: {detail[-200:]}",
                                  health_log=state.health_log, logs=logs)
        return Outcome.failed(f"{name} is {state.health}: its healthcheck said: {detail[-200:]}",
                              health_log=state.health_log, logs=logs)


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"
