"""What the grader reads from learner code is bounded: build output, healthcheck output, the
programs it runs on learner files, and HTTP answers (against servers on loopback made here)."""

from __future__ import annotations

import http.server
import io
import resource
import socket
import subprocess
import sys
import threading
import time

import pytest

from graders.engine import api, child, probe, run, state
from graders.engine import build as build_mod
from graders.facts import HttpRequest


def test_a_build_that_prints_millions_of_lines_keeps_a_bounded_log():
    lines = [f"#7 1.0 {'x' * 5000} {n}\n" for n in range(50_000)]
    lines[10] = "#7 [2/3] RUN make noise\n"
    lines[-2] = "#7 ERROR: executor failed running [/bin/sh -c make noise]: exit code: 2\n"
    kept: list[str] = []
    build_mod._read(io.StringIO("".join(lines)), kept, None)
    assert len(kept) <= build_mod.LOG_LINES + 300
    assert max(map(len, kept)) <= 2000
    assert "#7 [2/3] RUN make noise" in kept and any("exit code: 2" in line for line in kept)
    assert any("lines of output left out" in line for line in kept)


def test_a_healthchecks_last_line_is_its_exception():
    traceback = "Traceback (most recent call last):\n  File \"<string>\", line 1\n" + "  x\n" * 50 + \
        "urllib.error.URLError: <urlopen error [Errno 111] Connection refused>\n\n"
    assert state.last_line(traceback) == "urllib.error.URLError: <urlopen error [Errno 111] Connection refused>"
    assert state.last_line("") == ""


def test_parsers_of_learner_files_run_with_a_memory_ceiling():
    done = subprocess.run([sys.executable, "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"],
                          capture_output=True, text=True, preexec_fn=child.preexec(child.PARSER_MEMORY))
    assert int(done.stdout) == child.PARSER_MEMORY
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != child.PARSER_MEMORY  # the grader itself is untouched


class _Hostile(http.server.BaseHTTPRequestHandler):
    mode = ""

    def do_GET(self):
        if self.mode == "trickle":  # a header, then a byte a second, forever
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(60):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(1)
        elif self.mode == "loop":
            self.send_response(307)
            self.send_header("Location", "/again")
            self.end_headers()
        elif self.mode == "elsewhere":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/steal")
            self.end_headers()
        elif self.mode == "big":
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"y" * 2**20)
            except OSError:
                pass

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile():
    servers = []

    def start(mode: str) -> str:
        handler = type("Handler", (_Hostile,), {"mode": mode})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_server_that_trickles_cannot_hold_a_probe_past_its_deadline(hostile):
    started = time.monotonic()
    answer = probe.send(hostile("trickle"), HttpRequest("GET", "/health", timeout_s=2.0))
    assert time.monotonic() - started < 3.5
    assert answer.status is None and "timed out after 2 s" in answer.error


def test_redirects_are_bounded_and_stay_on_the_service(hostile):
    assert "more than 5 redirects" in probe.send(hostile("loop"), HttpRequest("GET", "/")).error
    assert "another host" in probe.send(hostile("elsewhere"), HttpRequest("GET", "/")).error


def test_a_body_is_read_up_to_a_megabyte(hostile):
    answer = probe.send(hostile("big"), HttpRequest("GET", "/"))
    assert answer.status == 200 and len(answer.body) == probe.MAX_BODY


def test_nothing_listening_is_retried_then_reported():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    answer = probe.send(f"127.0.0.1:{port}", HttpRequest("GET", "/health"), retries=2)
    assert answer.status is None and "no answer from GET /health" in answer.error


def test_a_sigkill_is_read_as_the_memory_limit_even_when_the_engine_reports_no_oom_kill():
    """Engine 20.10 on cgroup v1 in a VM never sets OOMKilled (no OOM event reaches it); an exit by
    SIGKILL that the grader did not send is then the memory limit, said with that doubt."""
    sandbox = api.Sandbox(1024, 1.0, 256)
    assert "memory limit of 1024 MB and the kernel" in run.limit_hit({"OOMKilled": True, "ExitCode": 137}, "", sandbox)
    inferred = run.limit_hit({"OOMKilled": False, "ExitCode": 137, "Status": "exited"}, "", sandbox)
    assert "most likely by the kernel at its memory limit of 1024 MB" in inferred
    assert run.limit_hit({"OOMKilled": False, "ExitCode": 137, "Status": "exited"}, "", sandbox, stopped=True) == ""
    assert run.limit_hit({"OOMKilled": False, "ExitCode": 1, "Status": "exited"}, "", sandbox) == ""
