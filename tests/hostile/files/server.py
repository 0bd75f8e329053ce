"""A hostile service for the grader's tests: `python server.py MODE` answers every request badly.
Its traffic stays on the grader's internal network (the grader probes it there)."""

import http.server
import socket
import sys
import time

MODE = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        if MODE == "hang":
            time.sleep(3600)
        elif MODE == "huge":  # 1.5 GB, as fast as the network takes it
            self.send_response(200)
            self.send_header("Content-Length", str(1536 * 2**20))
            self.end_headers()
            block = b"x" * 2**20
            for _ in range(1536):
                self.wfile.write(block)
        elif MODE == "redirect":
            self.send_response(302)
            self.send_header("Location", self.path + "x")
            self.end_headers()
        elif MODE == "cut":  # promise a body, send part of it, close
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"status": "o')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


if MODE == "logs":  # 2 GB of output as fast as it goes, while serving nothing
    line = "x" * 1023 + "\n"
    for _ in range(2 * 2**20):
        sys.stdout.write(line)
    sys.stdout.flush()
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
