"""The service runs as a non-root user: in the image config and in the running container."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Query, gathered

PROCESS_UID = Query("process_uid", where="service")


def is_root(user: str) -> bool:
    name = user.split(":")[0]
    return name in ("", "root", "0")


class NonRootUser(Check):
    needs = ("image", "inside")

    def queries(self, params: Params) -> list[Query]:
        return [PROCESS_UID]

    def grade(self, params: Params, facts: Facts) -> Outcome:
        user = gathered(facts.image).user
        uid = gathered(facts.inside)[PROCESS_UID]
        evidence = {"image_user": user or "(unset: root)", "process_uid": uid}
        if is_root(user):
            return Outcome.failed("the image has no USER (or USER root), so the service runs as root", **evidence)
        if uid == 0:
            return Outcome.failed(f"the image says USER {user}, but the main process runs as uid 0", **evidence)
        return Outcome.passed(f"USER {user}; the main process runs as uid {uid}", **evidence)
