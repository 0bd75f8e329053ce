"""HTTP requests to the service under test, with timeouts and a few retries on refused connections."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

from graders.facts import HttpRequest, HttpResponse


def send(address: str, request: HttpRequest, retries: int = 3) -> HttpResponse:
    url = f"http://{address}{request.path}"
    data = request.body.encode() if request.body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    last_error = ""
    for attempt in range(retries):
        started = time.monotonic()
        try:
            req = urllib.request.Request(url, data=data, method=request.method, headers=headers)
            with urllib.request.urlopen(req, timeout=request.timeout_s) as reply:
                body = reply.read(1_000_000).decode("utf-8", "replace")
                return HttpResponse(reply.status, body, _ms(started))
        except urllib.error.HTTPError as error:
            body = error.read(1_000_000).decode("utf-8", "replace")
            return HttpResponse(error.code, body, _ms(started))
        except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            last_error = f"no answer from {request.method} {request.path}: {reason}"
            if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
                return HttpResponse(None, "", _ms(started), f"{request.method} {request.path} timed out after {request.timeout_s:.0f} s")
            time.sleep(0.5 * (attempt + 1))
    return HttpResponse(None, "", 0.0, last_error)


def port_open(address: str, timeout: float = 1.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
