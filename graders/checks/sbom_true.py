"""The learner's SBOM is true of the image (Lab 05): it lists exactly the Python distributions the
image's python imports and the Debian packages dpkg knows, with their versions (CycloneDX JSON)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from graders.checks.advisories import DISTRIBUTIONS
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Query, Sbom, gathered

DPKG = Query("command", "if command -v dpkg-query >/dev/null; then dpkg-query -W -f "
                        "'${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\n'; "
                        "else echo no-dpkg; fi")
"""The Debian packages installed in the image (status "ii"), as dpkg lists them, with their source packages."""
COST = 0.1
"""What each package listed wrong costs, down to nothing."""


class SbomParams(Params):
    kinds: list[str] = ["pypi", "deb"]
    """The package kinds the SBOM must list exactly (purl types)."""


class SbomTrue(Check):
    Params = SbomParams
    needs = ("sbom", "inside")

    def queries(self, params: SbomParams) -> list[Query]:
        return [DISTRIBUTIONS, DPKG]

    def grade(self, params: SbomParams, facts: Facts) -> Outcome:
        sbom: Sbom = gathered(facts.sbom)
        inside = gathered(facts.inside)
        if sbom.document.get("bomFormat") != "CycloneDX":
            return Outcome.failed(f"{sbom.file} is not a CycloneDX document (no \"bomFormat\": \"CycloneDX\")")
        listed = components(sbom.document)
        debs, sources = _debian(inside[DPKG])
        held = {"pypi": _distributions(inside[DISTRIBUTIONS]), "deb": debs}
        wrong: list[str] = []
        counts: dict[str, Any] = {}
        for kind in params.kinds:
            have, said = held.get(kind) or {}, listed.get(kind, {})
            missing = sorted(set(have) - set(said))
            # a source package at the version its installed binaries came from is true too: scanners that read
            # binaries' ELF package notes name it (libsystemd.so says "systemd", installed as libsystemd0)
            extra = sorted(name for name in set(said) - set(have)
                           if kind != "deb" or not said[name] <= sources.get(name, set()))
            versions = sorted(name for name in set(have) & set(said) if said[name] != {have[name]})
            wrong += [f"{kind} {name} {have[name]} is not listed" for name in missing]
            wrong += [f"{kind} {name} is listed at {' and '.join(sorted(said[name]))}, the image holds {have[name]}"
                      for name in versions]
            wrong += [f"{kind} {name} {' and '.join(sorted(said[name]))} is listed, the image does not hold it" for name in extra]
            counts[kind] = {"in_the_image": len(have), "listed": len(said), "missing": missing[:20],
                            "wrong_version": versions[:20], "not_in_the_image": extra[:20],
                            "source_packages": sorted(set(said) - set(have) - set(extra))[:20]}
        evidence = {"file": sbom.file, "packages": counts}
        if not wrong:
            total = sum(c["in_the_image"] for c in counts.values())
            kinds = ", ".join(f"{c['in_the_image']} {kind}" for kind, c in counts.items())
            return Outcome.passed(f"{sbom.file} lists exactly the {total} packages the image holds ({kinds})", **evidence)
        return Outcome.partial(1 - COST * len(wrong), f"{len(wrong)} packages listed wrong; {wrong[0]}", **evidence)


def components(document: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """kind (purl type) -> canonical name -> the versions listed, from a CycloneDX document's components (nested too)."""
    found: dict[str, dict[str, set[str]]] = {}
    stack = list(document.get("components") or [])
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        stack.extend(item.get("components") or [])
        purl = str(item.get("purl") or "")
        if not purl.startswith("pkg:") or "/" not in purl:
            continue
        kind = purl[4:].split("/", 1)[0]
        name = str(item.get("name") or unquote(purl.rsplit("/", 1)[-1].split("@", 1)[0]))
        version = str(item.get("version") or unquote(purl.split("@", 1)[1].split("?", 1)[0]) if "@" in purl else "")
        found.setdefault(kind, {}).setdefault(_name(kind, name), set()).add(version)
    return found


def _name(kind: str, name: str) -> str:
    return str(canonicalize_name(name)) if kind == "pypi" else name


def _distributions(answer: tuple[int, str]) -> dict[str, str]:
    _code, output = answer
    try:
        listed = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
    return {_name("pypi", name): str(version) for name, version in listed.items()} if isinstance(listed, dict) else {}


def _debian(answer: tuple[int, str]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """The installed packages (name -> version) and the source packages they were built from (name -> versions)."""
    _code, output = answer
    found: dict[str, str] = {}
    sources: dict[str, set[str]] = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 5 and parts[0].strip() == "ii":
            found[parts[1]] = parts[2]
            sources.setdefault(parts[3] or parts[1], set()).update({parts[4] or parts[2], parts[2]})  # binNMUs: +bN
    return found, sources
