"""No Python distribution in the image is one the course's frozen advisories name."""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import Field

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Query, gathered

DISTRIBUTIONS = Query("user_command", "python -c 'import importlib.metadata as m, json; print(json.dumps("
                      "{d.metadata[\"Name\"]: d.version for d in m.distributions() if d.metadata[\"Name\"]}))'")
"""The distributions the image's own python imports from, as its user finds them."""


class Advisory(Params):
    id: str
    package: str
    affected: list[str] = Field(min_length=1)
    """Version ranges (PEP 440 specifier sets, e.g. "<2.32.0"); a version in any of them is affected."""
    fixed: str
    summary: str


class AdvisoriesParams(Params):
    advisories: list[Advisory] = Field(min_length=1)


class AdvisoriesClear(Check):
    Params = AdvisoriesParams
    needs = ("inside",)

    def queries(self, params: AdvisoriesParams) -> list[Query]:
        return [DISTRIBUTIONS]

    def validate(self, params: AdvisoriesParams, lab: object) -> list[tuple[str, str]]:
        problems = []
        for index, advisory in enumerate(params.advisories):
            for spec in advisory.affected:
                try:
                    SpecifierSet(spec)
                except InvalidSpecifier:
                    problems.append((f"advisories.{index}.affected", f"{spec!r} is not a version specifier (PEP 440)"))
        return problems

    def grade(self, params: AdvisoriesParams, facts: Facts) -> Outcome:
        import json

        code, output = gathered(facts.inside)[DISTRIBUTIONS]
        try:
            installed = {canonicalize_name(k): v for k, v in json.loads(output.strip().splitlines()[-1]).items()}
        except (ValueError, IndexError, AttributeError):
            return Outcome.failed(f"the image's python could not list its packages (exit code {code}): "
                                  f"{(output or '').strip()[:200]}")
        hits = []
        for advisory in params.advisories:
            version = installed.get(canonicalize_name(advisory.package))
            try:
                if version and any(Version(version) in SpecifierSet(spec) for spec in advisory.affected):
                    hits.append({"advisory": advisory.id, "package": advisory.package, "installed": version,
                                 "fixed": advisory.fixed, "summary": advisory.summary})
            except InvalidVersion:
                continue
        evidence = {"advisories": len(params.advisories), "packages": len(installed), "affected": hits}
        if not hits:
            return Outcome.passed(f"none of the {len(installed)} packages is named by the {len(params.advisories)} "
                                  "advisories", **evidence)
        first = hits[0]
        return Outcome.partial(1 - len(hits) / len(params.advisories),
                               f"{first['package']} {first['installed']} is affected by {first['advisory']} "
                               f"({first['summary']}); {first['fixed']} fixes it", **evidence)
