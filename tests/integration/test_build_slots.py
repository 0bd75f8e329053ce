"""Builds on one engine take turns for the build slot (the sandbox's limits are the holder's), and each
build says how long it waited: the grading's timings and the class benchmark read it."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import pytest

from graders.engine import build as build_mod
from graders.engine.build_sandbox import BuildLimits
from graders.engine.session import Session

pytestmark = [pytest.mark.docker]


def test_a_build_that_found_the_slot_taken_waits_and_says_how_long(engine, tmp_path):
    builder = build_mod.detect_builder()
    folders = []
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        # never from the cache: each step sleeps for real
        (folder / "Dockerfile").write_text(f"FROM debian:bookworm-slim\nRUN sleep 3 # {secrets.token_hex(6)}\n")
        folders.append(folder)
    said: dict[str, list[str]] = {"first": [], "second": []}
    results = {}
    with Session(engine, purpose="test") as session:
        def one(folder: Path) -> None:
            results[folder.name] = build_mod.build(
                engine, builder, folder, "Dockerfile", f"dockerlab-test/slot-{folder.name}:{session.run_id}",
                session.labels, BuildLimits(seconds=120), said[folder.name].append)

        threads = [threading.Thread(target=one, args=(folder,)) for folder in folders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    assert all(result.ok for result in results.values()), [r.log[-1000:] for r in results.values()]
    waits = sorted(result.waited for result in results.values())
    assert waits[0] < 1.0 and waits[1] >= 2.5, waits  # the second started once the first's 3 s step was done
    waiter = next(name for name, result in results.items() if result.waited >= 2.5)
    assert "waiting for a build slot" in said[waiter]
