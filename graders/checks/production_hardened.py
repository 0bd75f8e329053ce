"""A production Compose service hardened setting by setting (Lab 05), each setting proved in the
running container where a process can show it: a read-only root, no capabilities, no new
privileges, a non-root uid."""

from __future__ import annotations

from graders import production
from graders.checks.base import Check, Outcome, Params
from graders.facts import ComposeFile, Facts, Hardened, Image, gathered, optional

SHOWN = {  # setting -> what /proc shows of it in the running container, and the value it must have
    "read_only": "root file system read-only",
    "cap_drop": "CapEff 0000000000000000",
    "no_new_privileges": "NoNewPrivs 1",
    "user": "Uid not 0",
}


class ProductionHardenedParams(Params):
    service: str = "api"


class ProductionHardened(Check):
    Params = ProductionHardenedParams
    needs = ("compose",)
    uses = ("hardened", "image")

    def grade(self, params: ProductionHardenedParams, facts: Facts) -> Outcome:
        compose: ComposeFile = gathered(facts.compose)
        service = (compose.model.get("services") or {}).get(params.service) or {}
        image: Image | None = optional(facts.image)
        settings = production.settings(service, bool(image and image.healthcheck))
        run: Hardened | None = optional(facts.hardened)
        proved = _proved(run) if run is not None and run.status else {}
        rows = [{"setting": s.name, "asked": s.asked, "detail": s.detail,
                 "in_force": proved.get(s.name) if s.asked and s.name in proved else None} for s in settings]
        wrong = [row for row in rows if not row["asked"] or row["in_force"] is False]
        good = len(rows) - len(wrong)
        evidence = {"file": compose.file, "settings": rows,
                    "proved_in_the_container": bool(proved) or "the hardened container did not stay up to be read"}
        if not wrong:
            shown = ", ".join(SHOWN[name] for name in proved)
            return Outcome.passed(f"{len(rows)} of {len(rows)} settings asked in {compose.file}"
                                  + (f"; in force in the running container: {shown}" if shown else ""), **evidence)
        first = wrong[0]
        why = first["detail"] if not first["asked"] else f"{first['setting']} was asked but is not in force"
        return Outcome.partial(good / len(rows), f"{good} of {len(rows)} settings right; {why}", **evidence)


def _proved(run: Hardened) -> dict[str, bool]:
    """What the container's first process shows of each setting."""
    uid = run.field("Uid").split()
    return {
        "read_only": run.root_read_only,
        "cap_drop": run.field("CapEff").strip("0") == "" and bool(run.field("CapEff")),
        "no_new_privileges": run.field("NoNewPrivs") == "1",
        "user": bool(uid) and uid[0] != "0",
    }
