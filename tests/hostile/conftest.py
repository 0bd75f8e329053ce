"""Fixtures of the hostile-input tests: the peak memory of the grader's process tree while it works."""

from __future__ import annotations

import threading
import time

import psutil
import pytest


class PeakMemory:
    """Samples the resident memory of this process and all its descendants (workers, Compose,
    hadolint, the docker CLI) every 0.2 s; `peak` is the largest total seen."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture
def peak_memory():
    return PeakMemory
