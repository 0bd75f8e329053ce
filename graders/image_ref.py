"""Image references, read one way everywhere: `registry:5000/team/name:tag@sha256:…` split into its
parts, and whether it is pinned (a digest, or a tag that names a version)."""

from __future__ import annotations

import re
from typing import NamedTuple


class ImageRef(NamedTuple):
    name: str
    tag: str | None
    digest: str | None


def split(ref: str) -> ImageRef:
    """`registry:5000/name:tag@sha256:...` -> (name, tag, digest); a port is not a tag."""
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return ImageRef(name, tag, digest or None)


def pinned(ref: str) -> tuple[bool, str]:
    """Whether `ref` stays the same image tomorrow, and why (or why not), in words for the learner."""
    _name, tag, digest = split(ref)
    if digest:
        return True, "pinned by digest"
    if not tag:
        return False, "no tag, which means :latest"
    if tag == "latest":
        return False, ":latest moves whenever a new version is pushed"
    if not re.search(r"\d", tag):
        return False, f":{tag} names no version, so it moves too"
    if _short_name(_name) in MINOR_RELEASES and (major := re.match(r"^(\d+)(?![.\d])", tag)):
        return False, f":{tag} names only a major version: each new {major.group(1)}.x release replaces it"
    return True, f"tag {tag}"


MINOR_RELEASES = {"python", "pypy", "ruby", "golang", "php", "perl"}
"""Images whose minor versions are the releases that change the language: a major-only tag
(`python:3-slim`) moves from one to the next. (postgres:15 or node:20 name a release line.)"""


SLIM_TAGS = ("slim", "alpine", "distroless", "minimal", "micro", "chiseled")
"""Words in a tag (or name) that mark a small variant: python:3.12-slim, ubi9/ubi-minimal, dotnet's -chiseled."""
MINIMAL_REGISTRIES = ("cgr.dev/chainguard/", "docker.io/chainguard/", "chainguard/", "dhi.io/", "gcr.io/distroless/")
"""Publishers whose every runtime image is minimal (Chainguard, Docker Hardened Images, distroless);
their `-dev` tags add a shell and package tools for building, and are not."""


def slim(ref: str) -> bool:
    """Whether `ref` names a small variant of its image."""
    name, tag, _digest = split(ref)
    if any(marker in f"{name}:{tag or ''}" for marker in SLIM_TAGS):
        return True
    return name.startswith(MINIMAL_REGISTRIES) and not re.search(r"(^|-)dev($|-)", tag or "")


def _short_name(name: str) -> str:
    """`docker.io/library/python` -> `python`."""
    return name.rsplit("/", 1)[-1]
