"""How a healthcheck's output says that its command is not in the image (`curl` in a slim image): it
can never pass. One rule for the single service's HEALTHCHECK and a stack's healthchecks."""

from __future__ import annotations

import re

MISSING_COMMAND = re.compile(
    r"\S+: (?:\d+: )?\S+: (?:command )?not found"  # dash: `/bin/sh: 1: curl: not found`; bash: `… command not found`
    r"|executable file not found in \$PATH"  # exec form: the engine's own words
)


def command_missing(output: str) -> bool:
    return bool(MISSING_COMMAND.search(output))
