"""HTTP requests to the service under test, with timeouts and a few retries on refused connections.

The service is the learner's code, so every answer is bounded: a deadline for the whole exchange
(a server that trickles a byte at a time cannot hold the grader), at most MAX_BODY bytes of body,
at most MAX_REDIRECTS redirects, and a connection closed mid-answer is an answer, not a crash.
"""

from __future__ import annotations

import http.client
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from graders.facts import HttpRequest, HttpResponse

MAX_BODY = 1_000_000
MAX_REDIRECTS = 5


def send(address: str, request: HttpRequest, retries: int = 3) -> HttpResponse:
    data = request.body.encode() if request.body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    last_error = ""
    for attempt in range(retries):
        started = time.monotonic()
        deadline = started + request.timeout_s
        try:
            status, body = _exchange(address, request.method, request.path, data, headers, deadline)
            return HttpResponse(status, body, _ms(started))
        except _Redirects as error:
            return HttpResponse(None, "", _ms(started), f"{request.method} {request.path}: {error}")
        except TimeoutError:
            return HttpResponse(None, "", _ms(started),
                                f"{request.method} {request.path} timed out after {request.timeout_s:.0f} s")
        except http.client.HTTPException as error:  # a malformed answer, or the connection closed mid-answer
            return HttpResponse(None, "", _ms(started),
                                f"{request.method} {request.path}: the service broke off its answer ({type(error).__name__})")
        except OSError as error:  # refused or reset: the service may still be starting
            last_error = f"no answer from {request.method} {request.path}: {error.strerror or error}"
            time.sleep(0.5 * (attempt + 1))
    return HttpResponse(None, "", 0.0, last_error)


def _exchange(address: str, method: str, path: str, data: bytes | None, headers: dict[str, Any],
              deadline: float) -> tuple[int, str]:
    for _ in range(MAX_REDIRECTS + 1):
        host, _, port = address.rpartition(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=_left(deadline))
        try:
            connection.request(method, path, body=data, headers=headers)
            _bound(connection.sock, deadline)
            reply = connection.getresponse()
            location = reply.getheader("Location")
            if reply.status in (301, 302, 303, 307, 308) and location:
                target = urlsplit(location)
                if target.netloc and target.netloc != address:
                    raise _Redirects(f"redirects to another host ({target.netloc})")
                path = (target.path or "/") + (f"?{target.query}" if target.query else "")
                if reply.status == 303:
                    method, data = "GET", None
                continue
            body = bytearray()
            stream = getattr(getattr(reply.fp, "raw", None), "_sock", None)  # the reply owns the socket now
            while len(body) < MAX_BODY:
                _bound(stream, deadline)
                chunk = reply.read1(min(65536, MAX_BODY - len(body)))
                if not chunk:
                    if reply.length:  # the connection closed before the promised length
                        raise http.client.IncompleteRead(bytes(body), reply.length)
                    break
                body += chunk
            return reply.status, body.decode("utf-8", "replace")
        finally:
            connection.close()
    raise _Redirects(f"more than {MAX_REDIRECTS} redirects")


def _bound(sock: socket.socket | None, deadline: float) -> None:
    """Whatever the server does, the next read ends by the deadline."""
    left = _left(deadline)
    if sock is not None:
        sock.settimeout(left)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


class _Redirects(Exception):
    pass


def port_open(address: str, timeout: float = 1.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
