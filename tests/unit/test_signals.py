"""The graders the suite starts hear Ctrl-C, however the suite itself was started (tests/conftest.py)."""

import subprocess
import sys


def test_a_grader_started_by_the_suite_does_not_ignore_sigint():
    # a background job of a shell without job control starts with SIGINT ignored, and passes that on
    status = subprocess.run([sys.executable, "-c", "print(open('/proc/self/status').read())"],
                            capture_output=True, text=True, check=True).stdout
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    assert not ignored & (1 << 1), "SIGINT is ignored in the suite's children: the Ctrl-C tests would hear nothing"
