"""The training log names the device it used."""

import re

from graders.checks.base import Check, Outcome


class DeviceLogged(Check):
    needs = ("job",)

    def grade(self, params, facts) -> Outcome:
        found = re.search(r"device: (cuda|cpu)[^\n]*", facts.job.logs)
        if found:
            return Outcome.passed(f"the log says: {found.group(0)[:120]}")
        return Outcome.failed("the log does not say which device trained (look for a 'device: ...' line)")
