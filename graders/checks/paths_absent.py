"""Things that must not be in the final image (compilers, build headers, apt lists), looked for inside it."""

from fnmatch import fnmatch

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Query, gathered


class PathsAbsentParams(Params):
    groups: dict[str, list[str]]
    """A name for each kind of leftover, and shell globs that find it (e.g. /usr/bin/gcc*)."""


def query(params: PathsAbsentParams) -> Query:
    # The globs stay unquoted on purpose: the container's own shell expands them.
    globs = " ".join(sorted({g for patterns in params.groups.values() for g in patterns}))
    return Query("command", f'for p in {globs}; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done')


class PathsAbsent(Check):
    Params = PathsAbsentParams
    needs = ("inside",)

    def queries(self, params: PathsAbsentParams) -> list[Query]:
        return [query(params)]

    def grade(self, params: PathsAbsentParams, facts: Facts) -> Outcome:
        _code, output = gathered(facts.inside)[query(params)]
        present = set(output.split())
        found = {}
        for name, patterns in params.groups.items():
            hits = sorted(p for p in present if any(_matches(p, g) for g in patterns))
            if hits:
                found[name] = hits[:5]
        if not found:
            return Outcome.passed(f"none in the image: {', '.join(params.groups)}")
        listed = "; ".join(f"{name} ({', '.join(hits[:2])})" for name, hits in found.items())
        return Outcome.partial(1 - len(found) / len(params.groups), f"left in the final image: {listed}", found=found)


def _matches(path: str, glob: str) -> bool:
    return fnmatch(path, glob) or path == glob
