"""Result documents of the reference solutions, the starters and flawed variants, with what varies from
run to run taken out (run ids, image ids, timings and durations, build logs, whether a step came from
the cache, how many health probes ran): for proving that a change to the grader changed no verdict.
Everything else is compared: statuses, points, messages with their numbers, evidence, `gradable`,
the build's steps, refusals and problems.

CI compares them with the kept snapshot (tests/integration/test_result_snapshot.py). By hand:

    python -m tests.result_snapshot write BEFORE.json      # on the old code
    python -m tests.result_snapshot write AFTER.json       # on the new
    python -m tests.result_snapshot compare BEFORE.json AFTER.json
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERLAB = Path(sys.executable).parent / "dockerlab"
SECONDS = re.compile(r"\d+(\.\d+)? ?(s|seconds|ms)\b")
RUN_ID = re.compile(r"\b(grade|dockerlab|preempt)-[0-9a-f]{12}\b")  # a grading's run id in names
LOGGED_SECONDS = re.compile(r'"seconds": [\d.]+')
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")  # BuildKit's vertex digests in a build log
VERTEX = re.compile(r"^#\d+ ")  # BuildKit numbers a build's steps in the order it reaches them
CONTENT = re.compile(r"\b(dir|file):[0-9a-f]{64}\b")  # the legacy builder's name for what a COPY took (a stand-in's build)
CANARY = re.compile(r"dockerlab-canary-[0-9a-f]{24}")  # Lab 05's build secret: new for each grading
COMMIT = re.compile(r"\b[0-9a-f]{40}\b")  # the revision a build is labelled with: the repository's commit
CREATED = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b")  # the build time handed to a build
LOOPBACK = re.compile(r"\b127\.0\.0\.1:\d+(?=/dockerlab-)")  # Lab 05's course registry: its port is the engine's
VARYING = {"ms", "health_log"}  # latency, how many probes ran before healthy: measured, not judged
# and every `*log_tail`: a log's last lines, which BuildKit and a training job word a little differently each run
KEPT_ENVIRONMENT = ("builder", "left_out", "stand_ins")  # what in the environment changes a verdict


def _steady(value):
    """The value with what changes between runs (run ids, times) made constant, recursively."""
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items()
                if k not in VARYING and not k.endswith(("_s", "log_tail")) and "seconds" not in k}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    if isinstance(value, str):
        value = RUN_ID.sub(r"\1-ID", SECONDS.sub("N s", value))
        value = CREATED.sub("TIME", COMMIT.sub("COMMIT", CANARY.sub("dockerlab-canary-X", value)))
        value = LOOPBACK.sub("127.0.0.1:PORT", CONTENT.sub(r"\1:D", value))
        return VERTEX.sub("#N ", DIGEST.sub("sha256:D", LOGGED_SECONDS.sub('"seconds": N', value)))
    return value


def _solution(lab: str, scratch: Path, name: str, change=None) -> Path:
    folder = scratch / name
    shutil.copytree(ROOT / "labs" / lab, folder)
    for item in (ROOT / "solutions" / lab).iterdir():
        target = folder / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy(item, target)
    if change:
        change(folder)
    return folder


def _replace(name: str, old: str, new: str):
    def change(folder: Path) -> None:
        path = folder / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new))
    return change


def cases(scratch: Path) -> dict[str, tuple[str, Path]]:
    found = {}
    for lab in ("01-basic-dockerfile", "02-multi-stage", "03-gpu-training", "04-compose-stack"):
        found[f"{lab} solution"] = (lab, ROOT / "solutions" / lab)
        found[f"{lab} starter"] = (lab, ROOT / "labs" / lab)
    found["05-ship-it solution"] = ("05-ship-it", ROOT / "solutions" / "05-ship-it")
    lab01 = "01-basic-dockerfile"
    found["01 shell-form CMD"] = (lab01, _solution(lab01, scratch, "shell", _replace(
        "Dockerfile", 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
        "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000")))
    found["01 root, no .dockerignore"] = (lab01, _solution(lab01, scratch, "root", lambda f: (
        _replace("Dockerfile", "USER app\n", "")(f), (f / ".dockerignore").unlink())))
    found["01 does not build"] = (lab01, _solution(lab01, scratch, "broken", _replace(
        "Dockerfile", "COPY requirements.txt .", "COPY requirements-missing.txt .")))
    found["01 static refusal"] = (lab01, _solution(lab01, scratch, "refused", lambda f: (f / "Dockerfile").write_text(
        "FROM python:3.11-slim\nRUN <<EOF\n")))
    return found


def normalise(document: dict) -> dict:
    document = json.loads(json.dumps(document))
    for key in ("timings", "submission"):
        document.pop(key, None)
    if document.get("image"):
        document["image"].pop("id", None)  # a rebuilt layer is a new id for the same image
    build = document.get("build") or {}
    for key in ("seconds", "log_tail"):
        build.pop(key, None)
    for step in build.get("steps") or []:
        step.pop("cached", None)  # the engine's cache from earlier gradings decides it, not the submission
    if build.get("steps"):  # BuildKit runs independent stages side by side: their steps' order varies
        build["steps"] = sorted(build["steps"], key=lambda step: (step["instruction"], step["failed"]))
    environment = document.get("environment") or {}
    document["environment"] = {key: environment[key] for key in KEPT_ENVIRONMENT if key in environment}
    return _steady(document)


def write(out: Path) -> None:
    results = {}
    with tempfile.TemporaryDirectory(prefix="dockerlab-snapshot-") as tmp:
        for name, (lab, folder) in cases(Path(tmp)).items():
            done = subprocess.run([str(DOCKERLAB), "check", lab, str(folder), "--json"], capture_output=True, text=True)
            try:
                results[name] = normalise(json.loads(done.stdout))
            except json.JSONDecodeError:
                results[name] = {"exit": done.returncode, "stderr": done.stderr[-2000:]}
            print(f"{name}: {results[name].get('score')}", file=sys.stderr, flush=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True))


def differences(old: dict, new: dict) -> list[str]:
    """Each document that differs, with the fields that do: criterion by criterion, then the rest."""
    found = []
    for name in sorted(set(old) | set(new)):
        before, after = _steady(old.get(name) or {}), _steady(new.get(name) or {})
        if before == after:
            continue
        lines = [f"DIFFERENT: {name}"]
        was_criteria = {c["id"]: c for c in before.get("criteria", [])}
        now_criteria = {c["id"]: c for c in after.get("criteria", [])}
        for criterion in sorted(set(was_criteria) | set(now_criteria)):
            was, now = was_criteria.get(criterion), now_criteria.get(criterion)
            if was != now:
                lines.append(f"  criterion {criterion}:\n    before {json.dumps(was)[:900]}\n    after  {json.dumps(now)[:900]}")
        for key in sorted(set(before) | set(after)):
            if key != "criteria" and before.get(key) != after.get(key):
                lines.append(f"  {key}:\n    before {json.dumps(before.get(key))[:600]}\n    after  {json.dumps(after.get(key))[:600]}")
        found.append("\n".join(lines))
    return found


def compare(before: Path, after: Path) -> int:
    old, new = json.loads(before.read_text()), json.loads(after.read_text())
    found = differences(old, new)
    print("\n".join(found))
    print(f"{len(set(old) | set(new))} documents, {len(found)} different")
    return 1 if found else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    else:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
