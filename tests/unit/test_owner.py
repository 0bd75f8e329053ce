"""What a killed grading left is found by its owner label: a process that is gone, or a zombie
nobody has reaped yet, is dead; this process, another host's and another pid namespace's are alive."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from graders.engine import session
from tests.conftest import ROOT


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
    host, boot, namespace, pid, start = session.owner().split(":")
    assert session.alive(f"another-host:{boot}:{namespace}:{pid}:{start}")
    assert not session.alive(f"{host}:an-earlier-boot:{namespace}:{pid}:{start}")
    assert session.alive(f"{host}:{boot}:another-namespace:{label.split(':')[3]}:{start}")
    assert session.alive("not-an-owner-label")
    assert os.getpid() == int(pid)


def test_labels_written_before_the_namespace_was_kept_are_still_judged():
    host, boot, _namespace, pid, start = session.owner().split(":")
    assert session.alive(f"{host}:{boot}:{pid}:{start}")
    assert not session.alive(f"{host}:{boot}:{pid}:not-its-start")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare")
def test_a_grader_in_another_pid_namespace_under_the_same_host_name_is_never_swept():
    """As a container run with `--network host` is (it takes the host's name): its grader is pid 1
    there, and pid 1 here is another process; without the namespace in the label, a sweep here would
    take that grader's live resources for a dead process's."""
    done = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--mount-proc", sys.executable, "-c",
                           "from graders.engine import session; print(session.owner())"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    label = done.stdout.strip()
    host, _boot, namespace, pid, _start = label.split(":")
    assert host == session.owner().split(":")[0] and pid == "1"
    assert namespace != session.owner().split(":")[2]
    assert session.alive(label)
    assert not session.alive(label.replace(f":{namespace}:", f":{session.owner().split(':')[2]}:"))
