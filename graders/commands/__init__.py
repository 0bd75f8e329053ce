"""One module per `dockerlab` subcommand, each with a keyword-only main()."""

from __future__ import annotations

from pathlib import Path

from graders import course as course_mod


def load_course(course_path: Path | None) -> course_mod.Course:
    return course_mod.load(course_path or course_mod.DEFAULT_COURSE)


def course_root(course_path: Path | None) -> Path:
    return (course_path or course_mod.DEFAULT_COURSE).resolve().parent
