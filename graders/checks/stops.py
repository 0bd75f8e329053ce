"""The running service exits by itself when `docker stop` sends its signal: the behaviour that exec
form is for. A shell, or a script that starts the server without `exec`, sits as PID 1 and ignores
SIGTERM (the kernel delivers no default-handled signal to PID 1), so `docker stop` waits out its
grace period and kills the server mid-request."""

import shlex

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class StopsOnSignal(Check):
    needs = ("stop",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        stop = gathered(facts.stop)
        pid1 = shlex.join(stop.pid1)[:200]
        evidence = {"signal": stop.signal, "pid1": pid1, "seconds": round(stop.seconds, 2), "exit_code": stop.exit_code}
        if stop.exited and stop.seconds == 0.0:
            return Outcome.failed(f"the service had already exited (code {stop.exit_code}) before it was stopped",
                                  **evidence)
        if stop.exited:
            return Outcome.passed(f"{stop.signal} stopped it in {stop.seconds:.1f} s (exit code {stop.exit_code}); "
                                  f"PID 1: {pid1}", **evidence)
        return Outcome.failed(
            f"{stop.signal} did not stop it within {stop.grace_seconds:.0f} s: PID 1 is `{pid1}`, which does not "
            "pass the signal on, so `docker stop` waits 10 s and then kills the server without a clean shutdown",
            **evidence)
