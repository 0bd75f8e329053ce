from __future__ import annotations

from graders.checks._compose import at, first, services
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class VolumesParams(Params):
    paths: dict[str, str]
    """service -> the container path where it keeps its data."""


class NamedVolumes(Check):
    """Each stateful service keeps its data in a named volume, which outlives `down` and `up`."""

    Params = VolumesParams
    needs = ("compose",)

    def grade(self, params: VolumesParams, facts: Facts) -> Outcome:
        present = services(gathered(facts.compose))
        good, problems = [], []
        for name, path in params.paths.items():
            if name not in present:
                problems.append(f"{name}: no such service")
                continue
            mounts = [m for m in present[name].get("volumes") or [] if m.get("target", "").rstrip("/") == path.rstrip("/")]
            where = at(gathered(facts.compose), f"services.{name}.volumes")
            if not mounts:
                problems.append(f"{name}: nothing is mounted at {path}, so its data lives in the container and dies with it")
            elif mounts[0].get("type") == "volume" and mounts[0].get("source"):
                good.append(f"{name}: volume {mounts[0]['source']} at {path}")
            elif mounts[0].get("type") == "volume":
                problems.append(f"{where}: {name} has an anonymous volume at {path}: a new, empty one after every down")
            else:
                problems.append(f"{where}: {name} bind-mounts {mounts[0].get('source')} at {path}; use a named volume "
                                "that Docker manages (permissions, portability, `down -v`)")
        if not problems:
            return Outcome.passed("every stateful service keeps its data in a named volume", volumes=good)
        return Outcome.partial(len(good) / len(params.paths), f"{len(problems)} of {len(params.paths)} stateful services "
                               f"lack a named volume: {first(problems)}", problems=problems, volumes=good)
