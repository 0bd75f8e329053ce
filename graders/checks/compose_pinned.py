from __future__ import annotations

from graders.checks._compose import at, first, services
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered
from graders.image_ref import pinned


class ImagesPinned(Check):
    """Every image the stack pulls names a version (a tag with a version number, or a digest).
    Services built from a Dockerfile are judged by their build, not here."""

    needs = ("compose",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        verdicts = {}
        for name, service in services(gathered(facts.compose)).items():
            if service.get("build") or not service.get("image"):
                continue
            verdicts[name] = (service["image"], *pinned(service["image"]))
        if not verdicts:
            return Outcome.passed("no service pulls an image (every one is built)")
        loose = [f"{at(gathered(facts.compose), f'services.{n}.image')}: {ref} ({why})" for n, (ref, ok, why) in verdicts.items() if not ok]
        good = sum(1 for _, ok, _ in verdicts.values() if ok)
        if not loose:
            return Outcome.passed(f"all {good} pulled images are pinned", images={n: v[0] for n, v in verdicts.items()})
        return Outcome.partial(good / len(verdicts), f"{len(loose)} of {len(verdicts)} images are not pinned: {first(loose)}",
                               unpinned=loose)
