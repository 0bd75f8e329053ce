"""Artifacts a lab mounts into the service (Lab 02's model): made by the lab's own script, on the
grading machine, once per script version, and cached. The learner's code never runs on the host."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from graders.course import LabBase
from graders.engine import boundary
from graders.errors import EngineError


def cache_root() -> Path:
    base = os.environ.get("DOCKERLAB_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "dockerlab")
    return Path(base) / "artifacts"


@boundary
def ensure(lab: LabBase, course_root: Path, name: str, timeout: int = 600) -> Path:
    """The folder holding artifact `name` of `lab`, made now if no cached copy exists."""
    spec = lab.artifacts[name]
    script = course_root / lab.folder / spec.script
    digest = hashlib.sha256(script.read_bytes() + "\0".join(spec.args).encode()).hexdigest()[:16]
    final = cache_root() / lab.id / f"{name}-{digest}"
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=final.parent))
    args = [arg.replace("{out}", str(work)) for arg in spec.args]
    try:
        done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        shutil.rmtree(work, ignore_errors=True)
        raise EngineError(f"making the {name} artifact took over {timeout} s") from error
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise EngineError(f"making the {name} artifact failed: {(done.stderr or done.stdout).strip()[-300:]}")
    for path in [work, *work.rglob("*")]:  # readable by the container's unprivileged user
        path.chmod(0o755 if path.is_dir() else 0o644)
    try:
        work.rename(final)  # atomic: a half-made artifact is never found
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another grader finished first
    return final
