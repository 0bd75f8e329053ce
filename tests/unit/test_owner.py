"""What a killed grading left is found by its owner label: a process that is gone, or a zombie
nobody has reaped yet, is dead; this process and another host's are alive."""

import os
import subprocess
import sys
import time

from graders.engine import session


def test_owners_alive_dead_and_zombie():
    assert session.alive(session.owner())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    label = session.owner(child.pid)
    deadline = time.monotonic() + 10
    while session._process(child.pid)[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)  # exited, not yet reaped: a zombie
    assert not session.alive(label)
    child.wait()
    assert not session.alive(label)
    host, boot, pid, start = session.owner().split(":")
    assert session.alive(f"another-host:{boot}:{pid}:{start}")
    assert not session.alive(f"{host}:an-earlier-boot:{pid}:{start}")
    assert session.alive("not-an-owner-label")
    assert os.getpid() == int(pid)
