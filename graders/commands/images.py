"""`dockerlab images prepare [--lab LAB]`: make the base images in course.yml present (all, or what a lab needs)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.commands import course_root, load_course
from graders.course import Course
from graders.engine import client, images
from graders.errors import UsageError
from graders.submission import small_text


def main(*, course_path: Path | None, offline: bool, ca_bundle: Path | None, labs: list[str] | None = None) -> int:
    course = load_course(course_path)
    if ca_bundle is not None and not ca_bundle.is_file():
        raise UsageError(f"--ca-bundle {ca_bundle}: no such file")
    wanted = course.base_images
    if labs:
        unknown = [lab_id for lab_id in labs if course.lab(lab_id) is None]
        if unknown:
            raise UsageError(f"no lab {unknown[0]!r}; labs: {', '.join(lab.id for lab in course.labs)}")
        root = course_root(course_path)
        refs = {ref for lab_id in labs for ref in needed(course, lab_id, root)}
        wanted = [image for image in course.base_images if image.ref in refs]
    console = Console(stderr=True)
    done = images.prepare(
        client.connect(), wanted, offline=offline, ca_bundle=ca_bundle,
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


def needed(course: Course, lab_id: str, root: Path) -> list[str]:
    """The base images a lab's starter and reference use (named in their Dockerfiles and Compose
    files; a CI job's runner and registry), with the images their stand-ins are built on: what
    grading that lab needs first."""
    lab = course.lab(lab_id)
    if lab is None:
        return []
    texts = [small_text(path) or "" for folder in (lab.folder, lab.solution) for path in sorted((root / folder).rglob("*"))
             if path.is_file() and (path.name.startswith("Dockerfile") or path.suffix in (".yaml", ".yml"))]
    by_ref = {image.ref: image for image in course.base_images}
    found = [ref for ref in by_ref if any(re.search(rf"(?<![\w./-]){re.escape(ref)}(?![\w.-])", text) for text in texts)]
    ci = getattr(lab, "ci", None)
    found += [ref for ref in ((ci.runner, ci.registry) if ci else ()) if ref in by_ref and ref not in found]
    for ref in found:  # what a stand-in is built on, and what that is built on
        base = by_ref[ref].from_image
        if base and base not in found:
            found.append(base)
    return [ref for ref in by_ref if ref in found]
