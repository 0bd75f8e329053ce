"""One reading of image references for every check that asks whether an image is pinned."""

from __future__ import annotations

import pytest

from graders.image_ref import pinned, slim, split


@pytest.mark.parametrize("ref, parts", [
    ("python:3.11-slim", ("python", "3.11-slim", None)),
    ("registry:5000/team/app", ("registry:5000/team/app", None, None)),
    ("registry:5000/team/app:1.2", ("registry:5000/team/app", "1.2", None)),
    ("redis:7@sha256:abc", ("redis", "7", "sha256:abc")),
])
def test_a_reference_splits_into_name_tag_and_digest(ref, parts):
    assert tuple(split(ref)) == parts


@pytest.mark.parametrize("ref, verdict, why", [
    ("python:3.11-slim", True, "tag 3.11-slim"),
    ("qdrant/qdrant@sha256:abc", True, "pinned by digest"),
    ("python", False, "no tag, which means :latest"),
    ("registry:5000/python", False, "no tag, which means :latest"),
    ("python:latest", False, ":latest moves whenever a new version is pushed"),
    ("python:slim", False, ":slim names no version, so it moves too"),
    ("python:3-slim", False, ":3-slim names only a major version: each new 3.x release replaces it"),
    ("docker.io/library/python:3", False, ":3 names only a major version: each new 3.x release replaces it"),
    ("golang:1-bookworm", False, ":1-bookworm names only a major version: each new 1.x release replaces it"),
    ("python:3.11-slim-bookworm", True, "tag 3.11-slim-bookworm"),
    ("python:3.11.10-slim", True, "tag 3.11.10-slim"),
    ("python:3-slim@sha256:abc", True, "pinned by digest"),
    ("postgres:15-bookworm", True, "tag 15-bookworm"),  # a major release line
    ("node:22-slim", True, "tag 22-slim"),
])
def test_pinned_means_a_digest_or_a_versioned_tag(ref, verdict, why):
    assert pinned(ref) == (verdict, why)


@pytest.mark.parametrize("ref, verdict", [
    ("python:3.12-slim", True),
    ("python:3.12-alpine", True),
    ("gcr.io/distroless/python3-debian12:nonroot", True),
    ("cgr.dev/chainguard/python:latest", True),  # Chainguard: every runtime image is minimal
    ("cgr.dev/chainguard/python:latest-dev", False),  # its -dev tags add a shell and apk
    ("dhi.io/python:3.13-debian13", True),  # Docker Hardened Images
    ("dhi.io/python:3.13-debian13-dev", False),
    ("registry.access.redhat.com/ubi9/ubi-minimal:9.6", True),
    ("registry.access.redhat.com/ubi9/ubi-micro:9.6", True),
    ("mcr.microsoft.com/dotnet/runtime:9.0-noble-chiseled", True),
    ("python:3.12", False),
    ("python:3.12-bookworm", False),
    ("ghcr.io/someone/dhi.io-mirror/python:3.13", False),  # the publisher is the name's start, not a substring
])
def test_slim_names_the_small_variants_and_the_minimal_publishers(ref, verdict):
    assert slim(ref) is verdict
