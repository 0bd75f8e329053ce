"""Every benchmark of the grader, each beside the raw engine doing the same work in the same run.

    benchmarks/run [--quick] [--only NAME ...] [--out FILE] [--engine trixie|sid]

  overhead   Lab 01's solution: `dockerlab check` against raw docker CLI calls doing the same work
  edit-loop  after changing only app/main.py: `dockerlab check` against the raw rebuild + run + probes
  static     a Dockerfile that does not parse: `dockerlab check`, end to end, CLI start included
  cli        `dockerlab --version` and `dockerlab list`
  batch      12 Lab 01 submissions at -j 1, 2 and 4: submissions per minute and speed-up
  class      6 Lab 01 submissions that differ before their dependency step, as a class's do (each its own
             pip install), at -j 1, 2 and 4: speed-up and the share of grading time spent waiting for a build slot
  stack      Lab 04: the grader against the same work by hand, and the re-check after an API change

Every figure is the median of several repetitions, with the range; the grader's peak memory (the
largest process of its tree) is in every table. `--quick`: one repetition, 2 submissions.
Tables go to the terminal, every number to benchmarks/results/latest.json (or --out).
`--engine sid` (or trixie): against Debian's newer engine run beside the host's as Docker-in-Docker
(tests/matrix/engines.py), where builds run side by side, each in a cgroup of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import raw

ROOT = Path(__file__).resolve().parents[1]
DOCKERLAB = str(Path(sys.executable).parent / "dockerlab")
LAB01, SOLUTION01 = ROOT / "labs" / "01-basic-dockerfile", ROOT / "solutions" / "01-basic-dockerfile"
SOLUTION04 = ROOT / "solutions" / "04-compose-stack"
NAMES = ["overhead", "edit-loop", "static", "cli", "batch", "class", "stack"]
WARM = True  # a warm-up run of each side first (--quick skips it: it proves the suite runs, not a figure)


@dataclass
class Row:
    """One measured thing: seconds per repetition for the grader and for the raw engine."""

    name: str
    grader_s: list[float]
    raw_s: list[float] = field(default_factory=list)
    target: str = ""
    peak_mb: float | None = None
    note: str = ""
    profile: dict[str, dict[str, float]] = field(default_factory=dict)
    """Where the time went, as medians of seconds per part: {"grader": stage -> s, "raw": phase -> s}."""

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.grader_s) / statistics.median(self.raw_s) if self.raw_s else None

    def summary(self) -> dict:
        found = asdict(self)
        found["grader_median_s"] = round(statistics.median(self.grader_s), 3)
        found["raw_median_s"] = round(statistics.median(self.raw_s), 3) if self.raw_s else None
        found["ratio"] = round(self.ratio, 3) if self.ratio else None
        return found


def timed(command: list[str], **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, the peak RSS (MB) of the largest process of the command's tree, and its output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, **kwargs)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        done = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    return seconds, usage.ru_maxrss / 1024, done


def check(folder: Path, lab: str = "01-basic-dockerfile") -> tuple[float, float, dict]:
    seconds, peak, done = timed([DOCKERLAB, "check", lab, str(folder), "--json"])
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"dockerlab check {lab} {folder} printed no result: {done.stderr[-800:]}") from None
    return seconds, peak, result


def submission(scratch: Path, name: str, source: Path = SOLUTION01) -> Path:
    """A copy of `source` with a .git folder, as the grader's own context copy has."""
    folder = scratch / name
    shutil.copytree(source, folder)
    (folder / ".git").mkdir(exist_ok=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return folder


def edit(folder: Path, relative: str) -> None:
    with open(folder / relative, "a") as handle:
        handle.write(f"\n# edited {time.time_ns()}\n")


def bench_overhead(reps: int, scratch: Path) -> list[Row]:
    folder = submission(scratch, "overhead")
    if WARM:
        check(folder), raw.lab01_same_work(folder, scratch)
    grader, raws, peaks = [], [], []
    for _ in range(reps):
        seconds, peak, result = check(folder)
        assert result["score"] == result["max_score"], "the solution must score full marks"
        grader.append(seconds), peaks.append(peak)
        started = time.monotonic()
        raw.lab01_same_work(folder, scratch)
        raws.append(time.monotonic() - started)
    return [Row("Lab 01 solution, same work", grader, raws, "≤ 1.10×", max(peaks))]


def bench_edit_loop(reps: int, scratch: Path) -> list[Row]:
    folder = submission(scratch, "edit-loop")
    if WARM:
        check(folder)
    grader, raws, peaks, stages, phases = [], [], [], [], []
    for _ in range(reps):
        edit(folder, "app/main.py")
        seconds, peak, result = check(folder)
        grader.append(seconds), peaks.append(peak), stages.append(result["timings"])
        edit(folder, "app/main.py")
        started = time.monotonic()
        phases.append(raw.lab01_edit_loop(folder))
        raws.append(time.monotonic() - started)
    profile = {"grader": medians(stages), "raw": medians(phases)}
    return [Row("edit app/main.py, check again", grader, raws, "≤ 1.15×", max(peaks),
                "raw: rebuild + run + wait healthy + 5 requests", profile)]


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each part's median over the repetitions (a part missing from a run counts as 0 s there)."""
    parts = dict.fromkeys(part for run in runs for part in run)
    return {part: round(statistics.median(run.get(part, 0.0) for run in runs), 2) for part in parts}


def bench_static(reps: int, scratch: Path) -> list[Row]:
    folder = submission(scratch, "static")
    (folder / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY <<EOF /x\nnever closed\n")
    runs = [check(folder) for _ in range(max(reps, 3))]
    assert all("never closed" in r[2]["criteria"][0]["message"] for r in runs)
    return [Row("Dockerfile that does not parse", [r[0] for r in runs], [], "< 0.3 s", max(r[1] for r in runs))]


def bench_cli(reps: int, scratch: Path) -> list[Row]:
    rows = []
    for args in (["--version"], ["list"]):
        runs = [timed([DOCKERLAB, *args]) for _ in range(max(reps, 3))]
        rows.append(Row(f"dockerlab {' '.join(args)}", [r[0] for r in runs], [], "< 0.3 s", max(r[1] for r in runs)))
    return rows


BATCH = {  # name: (Dockerfile edit, or None for the solution as it is)
    "solution": None, "solution-2": None,
    "as-root": ("USER app\n", ""),
    "shell-form": ('CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
                   "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000"),
    "failing-healthcheck": ("http://127.0.0.1:8000/health", "http://127.0.0.1:8000/no-such-path"),
    "does-not-build": ("RUN pip install", "RUN false && pip install"),
    "no-expose": ("EXPOSE 8000\n", ""),
    "no-healthcheck": ("HEALTHCHECK", "# HEALTHCHECK"),
    "code-first": ("COPY requirements.txt .\n", "COPY app/ ./app/\nCOPY requirements.txt .\n"),
    "pip-cache": ("pip install --no-cache-dir", "pip install"),
    "latest-base": ("FROM python:3.11-slim", "FROM python:3.11-slim AS base\nFROM base"),
    "starter": "starter",
}


def make_class(scratch: Path, count: int) -> Path:
    folder = scratch / "class"
    folder.mkdir()
    names = list(BATCH)[:count - 1] + ["starter"] if count < len(BATCH) else list(BATCH)
    for name in names:
        target = folder / name
        shutil.copytree(LAB01, target)
        if BATCH[name] == "starter":
            continue
        for file in ("Dockerfile", ".dockerignore"):
            shutil.copy(SOLUTION01 / file, target / file)
        if BATCH[name]:
            old, new = BATCH[name]
            text = (target / "Dockerfile").read_text()
            assert old in text, (name, old)
            (target / "Dockerfile").write_text(text.replace(old, new, 1))
    return folder


def bench_batch(reps: int, scratch: Path, count: int) -> list[Row]:
    folder = make_class(scratch, count)
    if WARM:  # every variant's layers in the build cache, so -j 1 is not the one that pays for them
        timed([DOCKERLAB, "grade", "01-basic-dockerfile", str(folder), "--out", str(scratch / "warm"), "-j", "2"])
    rows, base = [], None
    for jobs in (1, 2, 4):
        runs = []
        for rep in range(reps):
            out = scratch / f"out-{jobs}-{rep}"
            runs.append(timed([DOCKERLAB, "grade", "01-basic-dockerfile", str(folder), "--out", str(out), "-j", str(jobs)]))
        seconds = [r[0] for r in runs]
        base = base or statistics.median(seconds)
        per_minute = count * 60 / statistics.median(seconds)
        rows.append(Row(f"{count} submissions at -j {jobs}", seconds, [], "≥ 1.6× at -j 2" if jobs == 2 else "",
                        max(r[1] for r in runs), f"{per_minute:.1f}/min, {base / statistics.median(seconds):.2f}× -j 1"))
    return rows


def make_class_shaped(scratch: Path, count: int, salt: str) -> Path:
    """`count` Lab 01 solutions that differ before their dependency step, as learners' Dockerfiles do: an
    ENV line of their own right after FROM, so each runs its own pip install and shares only the base
    image (and the wheels the proxy serves). `salt` keeps every run's builds out of every other's cache."""
    folder = scratch / f"class-{salt}"
    for number in range(count):
        target = folder / f"learner-{number:02d}"
        shutil.copytree(LAB01, target)
        for file in ("Dockerfile", ".dockerignore"):
            shutil.copy(SOLUTION01 / file, target / file)
        text = (target / "Dockerfile").read_text()
        base = "FROM python:3.11-slim\n"
        assert text.count(base) == 1, "the Lab 01 solution has one FROM line"
        (target / "Dockerfile").write_text(text.replace(base, f"{base}ENV LEARNER={salt}-{number}\n"))
    return folder


def bench_class(reps: int, scratch: Path, count: int) -> list[Row]:
    from graders.runner import SLOT_WAIT

    count = 2 if count < 6 else 6
    rows, base = [], None
    for jobs in (1, 2, 4):
        runs, waiting, grading, builds, busy = [], 0.0, 0.0, [], []
        for rep in range(reps):
            folder = make_class_shaped(scratch, count, f"j{jobs}r{rep}{time.time_ns() % 10**6}")
            out = scratch / f"out-{jobs}-{rep}"
            before = cpu_times()
            runs.append(timed([DOCKERLAB, "grade", "01-basic-dockerfile", str(folder), "--out", str(out), "-j", str(jobs)]))
            busy.append(cpu_busy(before, cpu_times()))
            for path in (out / "results").glob("*.json"):
                timings = json.loads(path.read_text()).get("timings") or {}
                waiting, grading = waiting + timings.get(SLOT_WAIT, 0.0), grading + timings.get("total", 0.0)
                builds.append(timings.get("build", 0.0))
        seconds = [r[0] for r in runs]
        base = base or statistics.median(seconds)
        share = waiting / grading if grading else 0.0
        rows.append(Row(f"{count} class-shaped submissions at -j {jobs}", seconds, [], "≥ 1.7× at -j 2" if jobs == 2 else "",
                        max(r[1] for r in runs),
                        f"{base / statistics.median(seconds):.2f}× -j 1; {share:.0%} of grading time waiting for a build slot; "
                        f"build stage {statistics.median(builds):.1f} s (median); the machine's CPUs {statistics.median(busy):.0%} busy"))
    return rows


def cpu_times() -> tuple[int, int]:
    """The machine's CPU time so far, busy and in all (/proc/stat's first line, in ticks)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and waiting for I/O
    return sum(fields) - idle, sum(fields)


def cpu_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def bench_stack(reps: int, scratch: Path) -> list[Row]:
    from benchmarks import stack_overhead

    by_hand = scratch / "by-hand"
    left_out = stack_overhead.raw_stack(by_hand)
    folder = submission(scratch, "stack", SOLUTION04)
    if WARM:
        check(folder, "04-compose-stack"), stack_overhead.raw_once(by_hand)
    rows = []
    runs = (("Lab 04 solution, same work", False), ("Lab 04 re-check after an API code change", True))
    for label, change in runs[1:] if not WARM else runs:  # --quick: the re-check only (a stack is slow)
        grader, raws, peaks = [], [], []
        for _ in range(reps):
            if change:
                edit(folder, "api/app/main.py")
            seconds, peak, result = check(folder, "04-compose-stack")
            assert result["score"] == result["max_score"], "the solution must score full marks"
            grader.append(seconds), peaks.append(peak)
            if change:
                edit(by_hand, "api/app/main.py")
            started = time.monotonic()
            stack_overhead.raw_once(by_hand)
            raws.append(time.monotonic() - started)
        rows.append(Row(label, grader, raws, "", max(peaks), f"left out offline: {', '.join(left_out) or 'none'}"))
    stack_overhead.remove_built(by_hand)
    return rows


def table(title: str, rows: list[Row]) -> Table:
    shown = Table(title=title, title_justify="left")
    for column in ("what", "grader s (range)", "raw engine s (range)", "ratio", "target", "grader peak MB", "note"):
        shown.add_column(column)
    for row in rows:
        spread = lambda values: f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"  # noqa: E731
        shown.add_row(row.name, spread(row.grader_s), spread(row.raw_s) if row.raw_s else "–",
                      f"{row.ratio:.2f}×" if row.ratio else "–", row.target,
                      f"{row.peak_mb:.0f}" if row.peak_mb else "–", row.note)
    return shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, 2 submissions")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=NAMES)
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3; 1 with --quick)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    parser.add_argument("--engine", choices=("trixie", "sid"),
                        help="against Debian's newer engine, started beside the host's (Docker-in-Docker)")
    args = parser.parse_args()
    if args.engine:
        return on_engine(args.engine, _without_engine(sys.argv[1:]))
    reps = args.reps or (1 if args.quick else 3)
    global WARM
    WARM = not args.quick
    count = 2 if args.quick else 12
    console = Console(width=max(Console().width, 150))
    found: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="dockerlab-bench-") as tmp:
        for name in args.only:
            console.print(f"[bold]{name}[/bold] …")
            scratch = Path(tmp) / name
            scratch.mkdir()
            run = globals()[f"bench_{name.replace('-', '_')}"]
            rows = run(reps, scratch, count) if name in ("batch", "class") else run(reps, scratch)
            console.print(table(name, rows))
            for row in rows:
                for side, parts in row.profile.items():
                    console.print(f"  {side}: " + ", ".join(f"{part} {seconds:.2f} s" for part, seconds in parts.items()))
            found[name] = [row.summary() for row in rows]
    report = {"machine": _machine(), "reps": reps, "quick": args.quick, "benchmarks": found}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    console.print(f"results: {args.out}")
    return 0


def _without_engine(argv: list[str]) -> list[str]:
    kept, skip = [], False
    for word in argv:
        if not skip and word != "--engine" and not word.startswith("--engine="):
            kept.append(word)
        skip = word == "--engine"
    return kept


def on_engine(suite: str, argv: list[str]) -> int:
    """The suite run again with `argv`, in the network namespace of a newer engine started for it, on its socket."""
    import docker

    from tests.matrix import engines

    engine = engines.start(docker.from_env(), engines.FLAVOURS[suite], ["python:3.11-slim", "debian:bookworm-slim"])
    try:
        return subprocess.run(["nsenter", f"--net=/proc/{engine.pid}/ns/net", "--", sys.executable, "-m", "benchmarks.suite",
                               *argv], env=engine.env(), cwd=ROOT).returncode
    finally:
        engines.stop(engine)


def _machine() -> dict:
    engine = subprocess.run([raw.DOCKER, "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True)
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release(),
            "engine": engine.stdout.strip(), "when": time.strftime("%Y-%m-%d %H:%M")}


if __name__ == "__main__":
    sys.exit(main())
