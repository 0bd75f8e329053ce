"""`dockerlab images prepare`: make every base image in course.yml present."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.commands import course_root, load_course
from graders.engine import client, images
from graders.errors import UsageError


def main(*, course_path: Path | None, offline: bool, ca_bundle: Path | None) -> int:
    course = load_course(course_path)
    if ca_bundle is not None and not ca_bundle.is_file():
        raise UsageError(f"--ca-bundle {ca_bundle}: no such file")
    console = Console(stderr=True)
    done = images.prepare(
        client.connect(), course.base_images, offline=offline, ca_bundle=ca_bundle,
        recipes=course_root(course_path) / images.RECIPES,
        say=lambda text: console.print(f"· {text}"),
    )
    table = Table(title="Base images", title_justify="left")
    for column in ("Image", "Result", "Detail"):
        table.add_column(column)
    for item in done:
        style = "red" if item.action == "failed" else None
        table.add_row(item.ref, item.action, item.detail, style=style)
    Console(file=sys.stdout).print(table)
    return 1 if any(item.action == "failed" for item in done) else 0
