"""Files that must stay out of the image (tests, notebooks, .git), looked for inside it."""

from fnmatch import fnmatch

from graders.checks.base import Check, Outcome, Params
from graders.facts import Query

# Every path outside system folders and installed packages, so a package's own tests do not count.
LIST_FILES = Query(
    "command",
    "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /usr -o -path /etc "
    "-o -path /var/lib -o -path /var/cache -o -name site-packages -o -name dist-packages "
    "-o -name node_modules \\) -prune -o -print 2>/dev/null",
)


class P(Params):
    groups: dict[str, list[str]]
    """A name for each kind of file, and the path patterns (fnmatch, on the full path) that find it."""


class FilesAbsent(Check):
    Params = P
    needs = ("inside",)

    def queries(self, params: P) -> list[Query]:
        return [LIST_FILES]

    def grade(self, params: P, facts) -> Outcome:
        _code, output = facts.inside[LIST_FILES]
        paths = output.splitlines()
        found = {}
        for name, patterns in params.groups.items():
            hits = [p for p in paths if any(fnmatch(p, pattern) for pattern in patterns)]
            if hits:
                found[name] = hits[:5]
        clean = len(params.groups) - len(found)
        if not found:
            return Outcome.passed(f"none of {', '.join(params.groups)} is in the image", searched=len(paths))
        listed = "; ".join(f"{name}: {', '.join(hits[:3])}" for name, hits in found.items())
        return Outcome.partial(clean / len(params.groups), f"found in the image: {listed}", found=found)
