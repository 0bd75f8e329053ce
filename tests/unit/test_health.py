"""One rule for "the healthcheck's command is not in the image", for Lab 01's HEALTHCHECK and a stack's."""

from __future__ import annotations

import pytest

from graders.health import command_missing


@pytest.mark.parametrize("output", [
    "/bin/sh: 1: curl: not found",  # dash, shell form
    "bash: wget: command not found",  # bash
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": '
    "executable file not found in $PATH: unknown",  # exec form
])
def test_a_missing_program_is_recognised(output):
    assert command_missing(output)


@pytest.mark.parametrize("output", [
    "urllib.error.URLError: <urlopen error [Errno 111] Connection refused>",
    "curl: (7) Failed to connect to 127.0.0.1 port 8000: Connection refused",
    "",
])
def test_a_failing_check_whose_program_ran_is_not(output):
    assert not command_missing(output)
