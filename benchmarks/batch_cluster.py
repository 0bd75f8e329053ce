"""Batch throughput on this machine: 8 Lab 01 submissions (the solution, flawed variants, the starter)
graded at -j 1, at -j 2, and on a two-worker Dask LocalCluster. Prints submissions per minute, the
speed-up over -j 1, and the time from the last result to the finished reports (grades.csv, junit,
Gradescope, feedback pages, summary).

    .venv/bin/python benchmarks/batch_cluster.py [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from graders import course as course_mod
from graders.batch import cluster, outputs
from graders.batch.discover import discover
from graders.batch.grading import grade_all
from graders.commands.grade import write_reports

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "as-root": ("USER app\n", ""),
    "shell-form": ('CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                   "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000"),
    "no-healthcheck": ("HEALTHCHECK", "# HEALTHCHECK"),
    "code-first": ("COPY requirements.txt .\n", "COPY app/ ./app/\nCOPY requirements.txt .\n"),
    "no-ignore": None,  # no .dockerignore
    "solution-2": None,
}


def make_class(root: Path) -> Path:
    folder = root / "class"
    folder.mkdir()
    lab, solution = ROOT / "labs" / "01-basic-dockerfile", ROOT / "solutions" / "01-basic-dockerfile"
    shutil.copytree(lab, folder / "starter")
    for name in ["solution", *VARIANTS]:
        target = folder / name
        shutil.copytree(lab, target)
        for file in ("Dockerfile", ".dockerignore"):
            shutil.copy(solution / file, target / file)
        change = VARIANTS.get(name)
        if name == "no-ignore":
            (target / ".dockerignore").unlink()
        elif change:
            text = (target / "Dockerfile").read_text()
            (target / "Dockerfile").write_text(text.replace(change[0], change[1], 1))
    return folder


def run(lab, found, out: Path, **how) -> dict:
    started = time.monotonic()
    last = [started]
    grade_all(lab, found, out, resume=False, course_root=ROOT, timeout=900,
              on_done=lambda learner, result: last.__setitem__(0, time.monotonic()), **how)
    graded = last[0] - started
    write_reports(lab, outputs.load_results(out), out)
    return {"seconds": round(graded, 1), "per_minute": round(len(found) * 60 / graded, 2),
            "reports_seconds": round(time.monotonic() - last[0], 2)}


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--json", type=Path)
    args = options.parse_args()
    lab = course_mod.load().lab("01-basic-dockerfile")
    with tempfile.TemporaryDirectory(prefix="dockerlab-bench-") as tmp:
        found = discover(make_class(Path(tmp)), lab.id)
        run(lab, found, Path(tmp) / "warm", jobs=2)  # warm the build cache first
        figures = {"-j 1": run(lab, found, Path(tmp) / "j1", jobs=1),
                   "-j 2": run(lab, found, Path(tmp) / "j2", jobs=2)}
        client = cluster.connect("local:2")
        try:
            figures["local:2"] = run(lab, found, Path(tmp) / "c2", jobs=1, cluster=client)
        finally:
            cluster.close(client)
    base = figures["-j 1"]["seconds"]
    print(f"{len(found)} Lab 01 submissions, warm build cache")
    print(f"{'how':10} {'seconds':>8} {'per min':>8} {'speed-up':>9} {'reports':>8}")
    for how, figure in figures.items():
        figure["speed_up"] = round(base / figure["seconds"], 2)
        print(f"{how:10} {figure['seconds']:8.1f} {figure['per_minute']:8.2f} {figure['speed_up']:8.2f}x "
              f"{figure['reports_seconds']:7.2f}s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
