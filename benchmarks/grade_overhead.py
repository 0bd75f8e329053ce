"""How much does grading cost over doing the same work with the raw engine?

Raw: `docker build` (warm cache), `docker run` with the image's health check every second, wait
until healthy, one request, remove. Grader: `pipeline.grade` on the same solution, which also
lints, inspects, probes 5 requests, looks inside, and rebuilds for the cache check.
Prints wall-clock seconds for each (median of N runs) and their ratio, and the grader's peak RSS.

    .venv/bin/python benchmarks/grade_overhead.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

from graders import course, pipeline

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "01-basic-dockerfile"
TAG = "dockerlab-bench:raw"


def raw_once() -> float:
    started = time.monotonic()
    env = {"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    subprocess.run(["/usr/bin/docker", "build", "-q", "-t", TAG, str(SOLUTION)], check=True, capture_output=True, env=env)
    name = f"dockerlab-bench-{time.time_ns()}"
    subprocess.run(["docker", "run", "-d", "--name", name, "--health-interval", "1s", TAG], check=True, capture_output=True)
    try:
        while True:
            state = subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}} {{.NetworkSettings.IPAddress}}", name],
                                   capture_output=True, text=True).stdout.split()
            if state and state[0] == "healthy":
                urllib.request.urlopen(f"http://{state[1]}:8000/health", timeout=5).read()
                break
            time.sleep(0.25)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    return time.monotonic() - started


def grader_once(lab) -> float:
    started = time.monotonic()
    result = pipeline.grade(lab, SOLUTION)
    assert result.score == result.max_score, "the solution must score full marks"
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    lab = course.load().lab("01-basic-dockerfile")
    raw_once(), grader_once(lab)  # warm both caches
    raw = statistics.median(raw_once() for _ in range(runs))
    graded = statistics.median(grader_once(lab) for _ in range(runs))
    subprocess.run(["docker", "rmi", "-f", TAG], capture_output=True)
    report = {
        "raw_engine_s": round(raw, 2),
        "grader_s": round(graded, 2),
        "ratio": round(graded / raw, 2),
        "grader_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
