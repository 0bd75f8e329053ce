"""No large file (a model, a data set) baked into the image; looked for inside it, mounts excluded."""

from fnmatch import fnmatch

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Query, gathered


class LargeFilesAbsentParams(Params):
    max_mb: int = 20
    skip: list[str] = ["/usr/*", "/lib/*", "/lib64/*", "*/site-packages/*", "*/dist-packages/*"]
    """Where large files are programs and libraries (a compiler's cc1 is over 20 MB), not artifacts."""


def query(params: LargeFilesAbsentParams) -> Query:
    # in kB: busybox's find (the grader's own, in shell-less images) knows no M
    return Query("command", f"find / -xdev -path /proc -prune -o -type f -size +{params.max_mb * 1024}k -exec du -k {{}} + 2>/dev/null")


class LargeFilesAbsent(Check):
    Params = LargeFilesAbsentParams
    needs = ("inside",)

    def queries(self, params: LargeFilesAbsentParams) -> list[Query]:
        return [query(params)]

    def grade(self, params: LargeFilesAbsentParams, facts: Facts) -> Outcome:
        _code, output = gathered(facts.inside)[query(params)]
        found = [line.split("\t", 1)[1] for line in output.splitlines() if "\t" in line]
        found = [path for path in found if not any(fnmatch(path, pattern) for pattern in params.skip)]
        if not found:
            return Outcome.passed(f"no file over {params.max_mb} MB in the image")
        return Outcome.failed(f"file(s) over {params.max_mb} MB baked into the image: {', '.join(found[:3])}", files=found[:10])
