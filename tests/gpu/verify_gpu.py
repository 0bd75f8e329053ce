"""Verify, on a GPU machine without Docker, what can be verified without a container (10 minutes at most):

1. the grader's judgement of this host: `nvidia-smi`'s banner and GPU query parsed as the grader
   parses them (graders.engine.gpu), and the driver / CUDA / compute-capability verdict
   (graders.cuda) for the CUDA release of the torch installed here, cross-checked against what
   torch itself reports;
2. Lab 03's training program on the GPU: data made by src/data.py, two epochs that must log
   `device: cuda`, a checkpoint written and loaded back, metrics written.

    python tests/gpu/verify_gpu.py [--out DIR]

Needs Python, PyTorch with CUDA and `nvidia-smi`; not Docker, not the network, not the grader's
other dependencies. nvidia-smi's outputs are saved under DIR as real-*.txt / real-*-query.csv, to
be kept as fixtures in tests/unit/files/nvidia-smi/. Exits 1 when a verification fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "solutions" / "03-gpu-training"
sys.path.insert(0, str(ROOT))

from graders import cuda  # noqa: E402
from graders.engine import gpu  # noqa: E402

DEADLINE = time.monotonic() + 600
results: list[tuple[bool, str]] = []


def report(ok: bool, what: str) -> None:
    results.append((ok, what))
    print(f"[{'ok' if ok else 'FAIL'}] {what}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    left = max(5.0, DEADLINE - time.monotonic())
    return subprocess.run(command, capture_output=True, text=True, timeout=left, **kwargs)


def judge_host(out: Path) -> None:
    smi = shutil.which("nvidia-smi")
    if not smi:
        report(False, "nvidia-smi is not on PATH")
        return
    banner = run([smi]).stdout
    query = run([smi, gpu.QUERY, "--format=csv,noheader"])
    if query.returncode != 0:
        query = run([smi, gpu.OLD_QUERY, "--format=csv,noheader"])
    rows = gpu.parse_query(query.stdout)
    slug = re.sub(r"[^a-z0-9]+", "-", (rows[0]["name"] if rows else "gpu").lower()).strip("-")
    (out / f"real-{slug}.txt").write_text(banner)
    (out / f"real-{slug}-query.csv").write_text(query.stdout)
    print(banner.strip(), "\n", query.stdout.strip(), flush=True)
    driver, supported = gpu.parse_banner(banner)
    report(bool(driver and supported), f"banner parsed: driver {driver}, CUDA up to {supported}")
    report(bool(rows) and all(r.get("compute_cap") for r in rows),
           "GPU query parsed: " + "; ".join(f"{r['name']} (compute capability {r.get('compute_cap')})" for r in rows))

    import torch

    report(torch.cuda.is_available(), f"torch {torch.__version__} built for CUDA {torch.version.cuda} sees "
                                      f"{torch.cuda.device_count()} GPU(s)")
    if not torch.cuda.is_available():
        return
    for index, row in enumerate(rows[: torch.cuda.device_count()]):
        major, minor = torch.cuda.get_device_capability(index)
        report(row.get("compute_cap") == f"{major}.{minor}",
               f"GPU {index}: nvidia-smi says {row.get('compute_cap')}, torch says {major}.{minor}")
    verdict = cuda.check(driver, torch.version.cuda, [(r["name"], r.get("compute_cap")) for r in rows])
    report(verdict.ok is True, f"grader's verdict for CUDA {torch.version.cuda} here: {verdict.message}")
    arches = torch.cuda.get_arch_list()
    major, minor = torch.cuda.get_device_capability(0)
    carried = f"sm_{major}{minor}" in arches or any(a.startswith("compute_") for a in arches)
    report(carried, f"this torch carries kernels for sm_{major}{minor}: {' '.join(arches)}")


def train(out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="verify-gpu-"))
    data, checkpoints, output = work / "data", work / "checkpoints", work / "output"
    env = {**os.environ, "PYTHONPATH": str(LAB)}
    made = run([sys.executable, "-m", "src.data", "--out", str(data), "--count", "256"], cwd=LAB, env=env)
    report(made.returncode == 0, f"src.data made 256 images ({made.stderr.strip()[-200:] or 'ok'})")
    started = time.monotonic()
    trained = run([sys.executable, "-m", "src.train", "--epochs", "2", "--batch-size", "64", "--workers", "2",
                   "--run-name", "verify", "--data", str(data), "--checkpoints", str(checkpoints),
                   "--output", str(output)], cwd=LAB, env=env)
    log = trained.stdout + trained.stderr
    (out / "train.log").write_text(log)
    print(log.strip()[-1500:], flush=True)
    report(trained.returncode == 0, f"training exited {trained.returncode} in {time.monotonic() - started:.1f} s")
    report("device: cuda" in log, "the log says `device: cuda`")
    checkpoint = checkpoints / "verify.pt"
    if checkpoint.is_file():
        loaded = run([sys.executable, "-c", "import sys, torch; c = torch.load(sys.argv[1], map_location='cpu', "
                      "weights_only=False); print(c.get('epoch'))", str(checkpoint)])
        report(loaded.returncode == 0 and loaded.stdout.strip() == "2",
               f"checkpoint {checkpoint.stat().st_size} bytes loads back at epoch {loaded.stdout.strip()}")
    else:
        report(False, "no checkpoint written")
    metrics = output / "verify.metrics.jsonl"
    rows = [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.is_file() else []
    report(len(rows) == 2, f"metrics: {rows}")
    shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-verification")))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for step in (judge_host, train):
        try:
            step(out)
        except Exception as error:  # a report, not a traceback: say which step broke and go on
            report(False, f"{step.__name__}: {type(error).__name__}: {error}")
    failed = [what for ok, what in results if not ok]
    (out / "summary.json").write_text(json.dumps({"passed": not failed, "results": results}, indent=1))
    print(f"\n{len(results) - len(failed)}/{len(results)} verified" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
