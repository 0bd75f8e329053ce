"""pip's download cache is not left in the image, looked for inside it."""

from graders.checks.base import Check, Outcome, Params, megabytes
from graders.facts import Query

FIND_PIP_CACHE = Query(
    "command",
    "find / -xdev \\( -path /proc -o -path /sys \\) -prune -o -type d -path '*/.cache/pip' -prune "
    "-exec du -sk {} + 2>/dev/null",
)


class P(Params):
    max_kb: int = 100
    """Cache folders may hold this much (empty folder trees take a few kB)."""


class PipNoCache(Check):
    Params = P
    needs = ("inside",)

    def queries(self, params: P) -> list[Query]:
        return [FIND_PIP_CACHE]

    def grade(self, params: P, facts) -> Outcome:
        _code, output = facts.inside[FIND_PIP_CACHE]
        caches = {}
        for line in output.splitlines():
            size, _, path = line.partition("\t")
            if size.isdigit():
                caches[path] = int(size)
        total_kb = sum(caches.values())
        evidence = {"caches_kb": caches}
        if total_kb <= params.max_kb:
            return Outcome.passed("no pip cache in the image", **evidence)
        where = ", ".join(caches)
        return Outcome.failed(f"pip's cache holds {megabytes(total_kb * 1024)} in the image ({where})", **evidence)
