from __future__ import annotations

from graders.checks._compose import at, first, services
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class VolumesParams(Params):
    paths: dict[str, str]
    """service -> the container path where it keeps its data (a volume there or at a folder above it)."""


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
            mounts = _covering(present[name].get("volumes") or [], path)
            where = at(gathered(facts.compose), f"services.{name}.volumes")
            if not mounts:
                problems.append(f"{name}: nothing is mounted at {path}, so its data lives in the container and dies with it")
            elif shadow := _shadowing(gathered(facts.compose).image_volumes.get(name), mounts[0], path):
                problems.append(f"{where}: {name} mounts {mounts[0].get('source') or 'a volume'} at "
                                f"{mounts[0]['target']}, but its image declares VOLUME {shadow} beneath it: the data "
                                f"goes to an anonymous volume there, a new, empty one after every down (mount at {path})")
            elif mounts[0].get("type") == "volume" and mounts[0].get("source"):
                target = mounts[0]["target"].rstrip("/")
                good.append(f"{name}: volume {mounts[0]['source']} at {target}" + (f" (holds {path})" if target != path else ""))
            elif mounts[0].get("type") == "volume":
                problems.append(f"{where}: {name} has an anonymous volume at {path}: a new, empty one after every down")
            else:
                problems.append(f"{where}: {name} bind-mounts {mounts[0].get('source')} at {path}; use a named volume "
                                "that Docker manages (permissions, portability, `down -v`)")
        if not problems:
            return Outcome.passed("every stateful service keeps its data in a named volume", volumes=good)
        return Outcome.partial(len(good) / len(params.paths), f"{len(problems)} of {len(params.paths)} stateful services "
                               f"lack a named volume: {first(problems)}", problems=problems, volumes=good)


def _covering(mounts: list[dict[str, str]], path: str) -> list[dict[str, str]]:
    """The mount that holds PATH: at PATH itself or at a folder above it (postgres 18's image asks for
    /var/lib/postgresql, where its data folder is named by version), the deepest first."""
    path = path.rstrip("/")
    holding = [m for m in mounts if (target := str(m.get("target", "")).rstrip("/"))
               and (path == target or path.startswith(target + "/"))]
    return sorted(holding, key=lambda m: -len(str(m.get("target", "")).rstrip("/")))


def _shadowing(declared: list[str] | None, mount: dict[str, str], path: str) -> str:
    """A VOLUME of the image between a mount above PATH and PATH itself: the engine mounts an
    anonymous volume there, which takes the data (postgres up to 17 declares /var/lib/postgresql/data;
    18 declares /var/lib/postgresql, its new data root)."""
    target = str(mount.get("target", "")).rstrip("/")
    for folder in declared or []:
        folder = folder.rstrip("/")
        if folder != target and folder.startswith(target + "/") and (path == folder or path.startswith(folder + "/")):
            return folder
    return ""
