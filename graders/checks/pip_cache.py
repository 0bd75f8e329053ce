"""The installer's download cache (pip's, or uv's) is kept out of the image: judged by what the
installer was told (the practice) and by what is in the image (the result). How much pip caches
depends on the network it talks to (a proxy that forbids storing leaves the cache almost empty), so
a clean image alone proves nothing."""

import re
from typing import NamedTuple

from graders.checks.base import Check, Outcome, Params, megabytes
from graders.dockerfile import BuildStage, Dockerfile, Instruction, parse_assignments
from graders.facts import Facts, Query, gathered

FIND_PIP_CACHE = Query(
    "command",
    "find / -xdev \\( -path /proc -o -path /sys \\) -prune -o -type d \\( -path '*/.cache/pip' -o -path '*/.cache/uv' \\) -prune "
    "-exec du -sk {} + 2>/dev/null",
)
PIP_INSTALL = re.compile(r"(?<!\buv)(?:^|[;&|(\s])(?:\S*/)?(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?\s+-m\s+pip)\s+install\b")
UV_INSTALL = re.compile(r"(?:^|[;&|(\s])(?:\S*/)?uv\s+(?:pip\s+(?:install|sync)|sync)\b")
CLEANUP = re.compile(r"\bpip3?\s+cache\s+purge\b|\buv\s+cache\s+clean\b|\brm\s+-\w+\s+[^;&|]*\.cache(?:/pip|/uv)?\b")


class Installer(NamedTuple):
    name: str
    command: re.Pattern[str]
    flag: str
    """The flag that turns its cache off."""
    variable: str
    """The environment variable that does."""
    folder: str


INSTALLERS = (Installer("pip", PIP_INSTALL, "--no-cache-dir", "PIP_NO_CACHE_DIR", "~/.cache/pip"),
              Installer("uv", UV_INSTALL, "--no-cache", "UV_NO_CACHE", "~/.cache/uv"))
SEGMENTS = re.compile(r"&&|\|\||;|\n")


class PipNoCacheParams(Params):
    max_kb: int = 100
    """Cache folders may hold this much (empty folder trees take a few kB)."""


class PipNoCache(Check):
    Params = PipNoCacheParams
    needs = ("dockerfile", "image", "inside")

    def queries(self, params: PipNoCacheParams) -> list[Query]:
        return [FIND_PIP_CACHE]

    def grade(self, params: PipNoCacheParams, facts: Facts) -> Outcome:
        _code, output = gathered(facts.inside)[FIND_PIP_CACHE]
        caches = {}
        for line in output.splitlines():
            size, _, path = line.partition("\t")
            if size.isdigit():
                caches[path] = int(size)
        total_kb = sum(caches.values())
        careless = careless_installs(gathered(facts.dockerfile), gathered(facts.image).env)
        evidence = {"caches_kb": caches, "installs_without_no_cache": [f"line {line}" for line, _, _ in careless]}
        if total_kb > params.max_kb:
            where = ", ".join(caches)
            return Outcome.failed(f"the installer's cache holds {megabytes(total_kb * 1024)} in the image ({where})",
                                  **evidence)
        if careless:
            line, command, installer = careless[0]
            return Outcome.failed(
                f"line {line}: `{command[:80]}` runs without {installer.flag} and {installer.variable} is not set: "
                f"{installer.name} keeps what it downloads in {installer.folder} (this build's network may leave it "
                "nearly empty; a normal one fills it)", **evidence)
        return Outcome.passed("the installer is told to keep no cache, and none is in the image", **evidence)


def careless_installs(dockerfile: Dockerfile, image_env: dict[str, str]) -> list[tuple[int, str, Installer]]:
    """(line, command, installer) of each `pip install` or uv install in the final image's stages that
    may leave a cache."""
    chain: list[BuildStage] = []
    stage: BuildStage | None = dockerfile.final
    while stage is not None and stage not in chain:
        chain.insert(0, stage)
        stage = dockerfile.stage(stage.base)
    found = []
    for installer in INSTALLERS:
        if installer.variable in image_env:
            continue
        env_set = False
        for instruction in (i for s in chain for i in s.instructions):
            if instruction.keyword in ("ENV", "ARG") and installer.variable in parse_assignments(instruction.raw):
                env_set = instruction.keyword == "ENV" or env_set
            if instruction.keyword != "RUN" or env_set:
                continue
            text = instruction.shell + "\n" + "\n".join(instruction.heredocs)
            if not installer.command.search(text) or CLEANUP.search(text) or _cache_mounted(instruction):
                continue
            told = False  # `export PIP_NO_CACHE_DIR=1 && pip install ...`
            for segment in SEGMENTS.split(text):
                told = told or f"{installer.variable}=" in segment
                if installer.command.search(segment) and not told and installer.flag not in segment.split():
                    found.append((instruction.line, " ".join(segment.split()), installer))
                    break
    return sorted(found, key=lambda item: item[0])


def _cache_mounted(instruction: Instruction) -> bool:
    """`RUN --mount=type=cache,target=/root/.cache/pip`: the cache stays with the builder."""
    return any("type=cache" in mount and ".cache" in mount for mount in instruction.flags.get("mount", []))
