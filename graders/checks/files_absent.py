"""Files that must stay out of the image (tests, notebooks, .git), looked for inside it; and, when
the lab asks, out of the build context too, as the static stage read the submission's `.dockerignore`."""

from fnmatch import fnmatch

from graders.checks.base import Check, Outcome, Params
from graders.facts import BuildContext, Facts, Query, gathered

# Every path outside system folders, installed packages and tools' caches, so a package's own tests
# (or the .git of a source uv cached) do not count; caches are pip-no-cache's to judge.
LIST_FILES = Query(
    "command",
    "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /usr -o -path /etc "
    "-o -path /var/lib -o -path /var/cache -o -name site-packages -o -name dist-packages "
    "-o -name node_modules -o -name .cache \\) -prune -o -print 2>/dev/null",
)


class FilesAbsentParams(Params):
    groups: dict[str, list[str]]
    """A name for each kind of file, and the path patterns (fnmatch, on the full path) that find it."""
    context: dict[str, list[str]] = {}
    """A name for each kind of file the build context must leave out, and example paths (relative to
    the submission) that its `.dockerignore` must exclude. Empty: only the image is judged."""


class FilesAbsent(Check):
    Params = FilesAbsentParams
    needs = ("inside", "context")

    def queries(self, params: FilesAbsentParams) -> list[Query]:
        return [LIST_FILES]

    def context_paths(self, params: FilesAbsentParams) -> list[str]:
        return [path for paths in params.context.values() for path in paths]

    def grade(self, params: FilesAbsentParams, facts: Facts) -> Outcome:
        _code, output = gathered(facts.inside)[LIST_FILES]
        paths = output.splitlines()
        found = {}
        for name, patterns in params.groups.items():
            hits = [p for p in paths if any(fnmatch(p, pattern) for pattern in patterns)]
            if hits:
                found[name] = hits[:5]
        in_image = 1 - len(found) / len(params.groups)
        listed = "; ".join(f"{name}: {', '.join(hits[:3])}" for name, hits in found.items())
        image_says = f"found in the image: {listed}" if found else f"none of {', '.join(params.groups)} is in the image"
        if not params.context:
            if not found:
                return Outcome.passed(image_says, searched=len(paths))
            return Outcome.partial(in_image, image_says, found=found)
        sent, file_says = _context(params.context, gathered(facts.context))
        in_context = 1 - len(sent) / len(params.context)
        evidence = {"found": found, "sent_to_engine": sent, "searched": len(paths)}
        if not found and not sent:
            return Outcome.passed(f"{image_says}; {file_says}", **evidence)
        return Outcome.partial((in_image + in_context) / 2, f"{image_says}; {file_says}", **evidence)


def _context(groups: dict[str, list[str]], context: BuildContext) -> tuple[dict[str, list[str]], str]:
    """Which kinds the build context would still send, and a sentence about the ignore file."""
    sent = {name: [p for p in paths if not context.left_out.get(p)] for name, paths in groups.items()}
    sent = {name: paths for name, paths in sent.items() if paths}
    if context.ignore_file is None:
        return sent, "there is no .dockerignore, so the whole folder (.git, .env and all) goes to the engine"
    if not sent:
        return sent, f".dockerignore leaves {', '.join(groups)} out of the build context"
    listed = ", ".join(f"{name} ({paths[0]})" for name, paths in sent.items())
    return sent, f".dockerignore still sends {listed} to the engine"
