"""Training that survives preemption: stopped mid-run by `docker stop`, the job exits within the
grace period (the signal reached a program that handles it), and started again on the same volumes
it carries on from its last checkpoint instead of starting over."""

import json
from typing import Any

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Preemption, gathered


class PreemptionParams(Params):
    metrics: str
    """The metrics file, `{run}` as in the job's args: one JSON line per epoch, with `epoch`."""


class SurvivesPreemption(Check):
    Params = PreemptionParams
    needs = ("preempt",)

    def grade(self, params: PreemptionParams, facts: Facts) -> Outcome:
        run = gathered(facts.preempt)
        stop = run.stop
        evidence: dict[str, Any] = {"stop_exit_code": stop.exit_code, "seconds_to_exit": round(stop.seconds_to_exit, 1),
                    "stop_log_tail": stop.logs.strip().splitlines()[-4:]}
        if not stop.seen:
            return Outcome.failed("its log never showed a finished epoch (the metrics line the program prints), so it was "
                                  "not stopped and started again; keep the program's output on stdout", **evidence)
        problems = []
        if stop.killed:
            problems.append(f"`docker stop` waited its {run.grace_seconds} s grace period and then killed the job: "
                            "SIGTERM never reached a program that handles it (a shell as process 1, or no init)")
        epochs = _epochs(run, params)
        evidence.update(resume_exit_code=run.resume_exit, epochs_written=epochs,
                        resume_log_tail=run.resume_logs.strip().splitlines()[-4:])
        wanted = list(range(1, run.epochs + 1))
        if run.resume_timed_out or run.resume_exit != 0:
            problems.append(f"started again on the same volumes, it did not finish (exit code {run.resume_exit})")
        elif epochs != wanted:
            repeated = sorted({e for e in epochs if epochs.count(e) > 1})
            problems.append(f"started again on the same volumes, it trained epochs {_span(repeated)} a second time: "
                            "the last checkpoint was not where the new container looked"
                            if repeated else f"the metrics show epochs {epochs}, not 1 to {run.epochs} once each")
        if not problems:
            return Outcome.passed(f"stopped {stop.seconds_to_exit:.1f} s after `docker stop` (exit code {stop.exit_code}), "
                                  f"then resumed and finished epochs 1 to {run.epochs} once each", **evidence)
        return Outcome.partial(1 - 0.5 * len(problems), "; ".join(problems), **evidence)


def _epochs(run: Preemption, params: PreemptionParams) -> list[int]:
    """The epochs the metrics file records, in order (both runs append to it)."""
    text = next((t for path, t in run.texts.items() if path.endswith(params.metrics.replace("{run}", run.run_name))), "")
    epochs = []
    for line in text.splitlines():
        try:
            epochs.append(int(json.loads(line)["epoch"]))
        except (ValueError, KeyError, TypeError):
            continue
    return epochs


def _span(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
