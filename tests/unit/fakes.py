"""Fake facts for unit tests of checks: no engine, just the data a check reads."""

from pathlib import Path

from graders.dockerfile import parse
from graders.facts import Build, BuildContext, Container, Facts, HistoryEntry, HttpResponse, Image, Step

SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "01-basic-dockerfile" / "Dockerfile"


def image(**changes) -> Image:
    values = dict(
        id="sha256:" + "ab" * 32, size_bytes=450_000_000, base_ref="python:3.11-slim", base_size_bytes=160_000_000,
        base_history_length=2, user="app", exposed_ports=["8000/tcp"], volumes=[], cmd=["uvicorn"], entrypoint=None,
        healthcheck={"Test": ["CMD", "python", "-c", "0"]}, env={}, labels={}, workdir="/app",
        history=[HistoryEntry("base", 160_000_000, False), HistoryEntry("CMD [python3]", 0, True),
                 HistoryEntry("RUN pip install -r requirements.txt", 290_000_000, False)],
    )
    values.update(changes)
    return Image(**values)


def container(**changes) -> Container:
    values = dict(running=True, exit_code=None, logs="", health="healthy", health_log=["", ""],
                  seconds_to_healthy=2.0, address="10.0.0.2:8000")
    values.update(changes)
    return Container(**values)


def facts(dockerfile_text: str | None = None, **changes) -> Facts:
    built = Facts(submission=Path("/nowhere"))
    built.dockerfile = parse(dockerfile_text if dockerfile_text is not None else SOLUTION.read_text())
    built.lint = []
    built.context = BuildContext(".dockerignore", {})
    built.build = Build(True, "sha256:x", "buildkit", 3.0, "", [])
    built.image = image()
    built.container = container()
    built.http = {}
    built.inside = {}
    built.rebuild = Build(True, "sha256:y", "buildkit", 1.0, "", [])
    for key, value in changes.items():
        setattr(built, key, value)
    return built


def response(status=200, body="{}", ms=10.0, error="") -> HttpResponse:
    return HttpResponse(status, body, ms, error)


def steps(*pairs) -> list[Step]:
    return [Step(i + 1, text, cached) for i, (text, cached) in enumerate(pairs)]
