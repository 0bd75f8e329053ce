"""How much does grading a Compose stack (Lab 04) cost over doing the same work by hand?

Raw: build the solution's three images with BuildKit (warm cache), `docker compose up -d --wait`,
GET /ready, POST feedback, `down`, `up -d --wait` again, GET the feedback back, `down -v`.
Grader: `pipeline.grade` on the same solution, which also reads the model twice, checks the
policy and the rubric, isolates and limits every container, and asks more of the API.
Services whose image this machine cannot have (qdrant, offline) are left out of both.
Prints wall-clock seconds for each (median of N runs), their ratio, and the grader's peak RSS.

    .venv/bin/python benchmarks/stack_overhead.py [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import docker
import yaml

from graders import course, pipeline
from graders.engine import compose

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "04-compose-stack"
PROJECT = "dockerlab-bench-raw"


def raw_stack(folder: Path) -> list[str]:
    """The solution in `folder`, less the services whose image is not on this machine."""
    shutil.copytree(SOLUTION, folder)
    shutil.copy(folder / ".env.example", folder / ".env")
    stack = yaml.safe_load((folder / "compose.yaml").read_text())
    client = docker.from_env()
    missing = []
    for name, service in list(stack["services"].items()):
        if "build" in service:
            continue
        try:
            client.images.get(service["image"])
        except docker.errors.ImageNotFound:
            missing.append(name)
            del stack["services"][name]
    for service in stack["services"].values():
        for name in missing:
            (service.get("depends_on") or {}).pop(name, None)
    (folder / "compose.yaml").write_text(yaml.safe_dump(stack))
    return missing


def raw_once(folder: Path) -> float:
    started = time.monotonic()
    env = {"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    stack = yaml.safe_load((folder / "compose.yaml").read_text())
    for service in stack["services"].values():
        if "build" in service:
            build = service["build"] if isinstance(service["build"], dict) else {"context": service["build"]}
            context = folder / build["context"]
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            subprocess.run(["/usr/bin/docker", "build", "-q", "-t", service["image"], "-f", str(dockerfile), str(context)],
                           check=True, capture_output=True, env=env)
    base = compose.command() + ["-p", PROJECT, "-f", str(folder / "compose.yaml")]
    try:
        subprocess.run(base + ["up", "-d", "--wait", "--no-build"], check=True, capture_output=True, cwd=folder)
        _get("/ready", ok_statuses=(200, 503))
        _post("/feedback", {"id": "bench", "features": [5.1, 3.5, 1.4, 0.2], "label": "setosa"})
        subprocess.run(base + ["down"], check=True, capture_output=True, cwd=folder)
        subprocess.run(base + ["up", "-d", "--wait", "--no-build"], check=True, capture_output=True, cwd=folder)
        _get("/feedback/bench")
    finally:
        subprocess.run(base + ["down", "-v"], capture_output=True, cwd=folder)
    return time.monotonic() - started


def remove_built(folder: Path) -> None:
    """Remove the images the raw run built (the grader removes its own)."""
    built = [s["image"] for s in yaml.safe_load((folder / "compose.yaml").read_text())["services"].values() if "build" in s]
    subprocess.run(["docker", "rmi", "-f", *built], capture_output=True)


def grader_once(lab, missing: list[str]) -> float:
    started = time.monotonic()
    result = pipeline.grade(lab, SOLUTION)
    assert result.score == result.max_score, "the solution must score full marks"
    return time.monotonic() - started


def _get(path: str, ok_statuses=(200,)) -> None:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:8000{path}", timeout=30).read()
    except urllib.error.HTTPError as error:
        if error.code not in ok_statuses:
            raise


def _post(path: str, body: dict) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:8000{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    runs = parser.parse_args().runs
    lab = course.load().lab("04-compose-stack")
    with tempfile.TemporaryDirectory(prefix="dockerlab-bench-") as tmp:
        folder = Path(tmp) / "stack"
        missing = raw_stack(folder)
        raw_once(folder), grader_once(lab, missing)  # warm both caches
        raw = statistics.median(raw_once(folder) for _ in range(runs))
        graded = statistics.median(grader_once(lab, missing) for _ in range(runs))
        remove_built(folder)
    report = {
        "raw_engine_s": round(raw, 2),
        "grader_s": round(graded, 2),
        "ratio": round(graded / raw, 2),
        "grader_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "left_out": missing,
        "runs": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
