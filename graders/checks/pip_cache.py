"""pip's download cache is kept out of the image: judged by what pip was told (the practice) and by
what is in the image (the result). How much pip caches depends on the network it talks to (a proxy
that forbids storing leaves the cache almost empty), so a clean image alone proves nothing."""

import re

from graders.checks.base import Check, Outcome, Params, megabytes
from graders.dockerfile import Dockerfile, Instruction, Stage, parse_assignments
from graders.facts import Facts, Query, gathered

FIND_PIP_CACHE = Query(
    "command",
    "find / -xdev \\( -path /proc -o -path /sys \\) -prune -o -type d -path '*/.cache/pip' -prune "
    "-exec du -sk {} + 2>/dev/null",
)
PIP_INSTALL = re.compile(r"(?:^|[;&|(\s])(?:\S*/)?(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?\s+-m\s+pip)\s+install\b")
CLEANUP = re.compile(r"\bpip3?\s+cache\s+purge\b|\brm\s+-\w+\s+[^;&|]*\.cache(?:/pip)?\b")
SEGMENTS = re.compile(r"&&|\|\||;|\n")


class P(Params):
    max_kb: int = 100
    """Cache folders may hold this much (empty folder trees take a few kB)."""


class PipNoCache(Check):
    Params = P
    needs = ("dockerfile", "image", "inside")

    def queries(self, params: P) -> list[Query]:
        return [FIND_PIP_CACHE]

    def grade(self, params: P, facts: Facts) -> Outcome:
        _code, output = gathered(facts.inside)[FIND_PIP_CACHE]
        caches = {}
        for line in output.splitlines():
            size, _, path = line.partition("\t")
            if size.isdigit():
                caches[path] = int(size)
        total_kb = sum(caches.values())
        careless = careless_installs(gathered(facts.dockerfile), gathered(facts.image).env)
        evidence = {"caches_kb": caches, "installs_without_no_cache": [f"line {line}" for line, _ in careless]}
        if total_kb > params.max_kb:
            where = ", ".join(caches)
            return Outcome.failed(f"pip's cache holds {megabytes(total_kb * 1024)} in the image ({where})", **evidence)
        if careless:
            line, command = careless[0]
            return Outcome.failed(
                f"line {line}: `{command[:80]}` runs without --no-cache-dir and PIP_NO_CACHE_DIR is not set: pip "
                "keeps what it downloads in ~/.cache/pip (this build's network left it nearly empty; a normal "
                "one fills it)", **evidence)
        return Outcome.passed("pip is told to keep no cache, and none is in the image", **evidence)


def careless_installs(dockerfile: Dockerfile, image_env: dict[str, str]) -> list[tuple[int, str]]:
    """(line, command) of each `pip install` in the final image's stages that may leave a cache."""
    if "PIP_NO_CACHE_DIR" in image_env:
        return []
    chain: list[Stage] = []
    stage: Stage | None = dockerfile.final
    while stage is not None and stage not in chain:
        chain.insert(0, stage)
        stage = dockerfile.stage(stage.base)
    found = []
    env_set = False
    for instruction in (i for s in chain for i in s.instructions):
        if instruction.keyword in ("ENV", "ARG") and "PIP_NO_CACHE_DIR" in parse_assignments(instruction.raw):
            env_set = instruction.keyword == "ENV" or env_set
        if instruction.keyword != "RUN" or env_set:
            continue
        text = instruction.shell + "\n" + "\n".join(instruction.heredocs)
        if not PIP_INSTALL.search(text) or CLEANUP.search(text) or _cache_mounted(instruction):
            continue
        told = False  # `export PIP_NO_CACHE_DIR=1 && pip install ...`
        for segment in SEGMENTS.split(text):
            told = told or "PIP_NO_CACHE_DIR=" in segment
            if PIP_INSTALL.search(segment) and not told and "--no-cache-dir" not in segment:
                found.append((instruction.line, " ".join(segment.split())))
                break
    return found


def _cache_mounted(instruction: Instruction) -> bool:
    """`RUN --mount=type=cache,target=/root/.cache/pip`: the cache stays with the builder."""
    return any("type=cache" in mount and ".cache" in mount for mount in instruction.flags.get("mount", []))
