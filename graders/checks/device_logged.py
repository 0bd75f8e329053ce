"""The training log names the device it used."""

import re

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class DeviceLoggedParams(Params):
    line: str
    """A regular expression for the log line that names the device (Lab 03: `device: (cuda|cpu)…`)."""


class DeviceLogged(Check):
    Params = DeviceLoggedParams
    needs = ("job",)

    def grade(self, params: DeviceLoggedParams, facts: Facts) -> Outcome:
        found = re.search(params.line, gathered(facts.job).logs)
        if found:
            return Outcome.passed(f"the log says: {found.group(0)[:120]}")
        return Outcome.failed("the log does not say which device trained (look for a 'device: ...' line)")
