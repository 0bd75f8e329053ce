"""Which Dockerfile features an engine's own builder lacks: a failed build that uses one is not gradable."""

from graders import dockerfile
from graders.dockerfile_features import beyond, explain

MODERN = """\
FROM python:3.11-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install fastapi
RUN <<EOF
useradd app
EOF
COPY --link --chmod=755 app/ /app/
HEALTHCHECK --start-interval=1s CMD true
"""


def names(text: str, version: str, buildkit: bool = True) -> list[tuple[int, str]]:
    return [(instruction.line, feature.name) for instruction, feature in beyond(dockerfile.parse(text), version, buildkit)]


def test_engine_20_10_lacks_heredocs_link_and_start_interval_but_builds_mounts_and_chmod():
    assert names(MODERN, "20.10.24+dfsg1") == [(3, "a heredoc (<<EOF)"), (6, "COPY --link"), (7, "HEALTHCHECK --start-interval")]
    assert names(MODERN, "24.0.7") == [(7, "HEALTHCHECK --start-interval")]
    assert names(MODERN, "26.1.5+dfsg1") == names(MODERN, "28.5.2") == []


def test_the_legacy_builder_lacks_every_buildkit_feature_on_any_engine():
    assert [name for _, name in names(MODERN, "28.5.2", buildkit=False)] == [
        "RUN --mount", "a heredoc (<<EOF)", "COPY --chmod", "COPY --link"]
    reason, fix = explain(beyond(dockerfile.parse(MODERN), "28.5.2", False), "28.5.2", False)
    assert reason.startswith("not gradable here: line 2 uses RUN --mount (and 3 more such), which needs BuildKit")
    assert "buildx" in fix


def test_the_reason_names_the_first_line_and_the_fix_the_newest_engine_needed():
    reason, fix = explain(beyond(dockerfile.parse(MODERN), "20.10.24", True), "20.10.24", True)
    assert reason == ("not gradable here: line 3 uses a heredoc (<<EOF) (and 2 more such), which Docker Engine 23 "
                      "and newer build; this engine is 20.10.24")
    assert fix == "grade on Docker Engine 25 or newer"


def test_a_syntax_directive_brings_its_own_frontend_and_an_unknown_engine_is_not_judged():
    assert names("# syntax=docker/dockerfile:1\n" + MODERN, "20.10.24") == []
    assert names("# check=error=true\n# syntax=docker/dockerfile:1.7\n" + MODERN, "20.10.24") == []
    assert names("# a comment first\n# syntax=docker/dockerfile:1\n" + MODERN, "20.10.24")  # not a directive there
    assert names(MODERN, "") == names(MODERN, "?") == []
    assert names("FROM python:3.11-slim\nRUN echo hi\n", "20.10.24", buildkit=False) == []
