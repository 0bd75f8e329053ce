"""What every check is: declared parameters, declared needs, and a pure `grade(params, facts)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from graders.facts import Facts, HttpRequest, Query

if TYPE_CHECKING:
    from graders.course import Lab


class Params(BaseModel):
    """Base for a check's parameters in course.yml; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class Outcome:
    """A check's verdict before points: the fraction of the criterion earned, and why."""

    fraction: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    not_gradable: bool = False

    @classmethod
    def passed(cls, message: str, **evidence: Any) -> Outcome:
        return cls(1.0, message, evidence)

    @classmethod
    def failed(cls, message: str, **evidence: Any) -> Outcome:
        return cls(0.0, message, evidence)

    @classmethod
    def partial(cls, fraction: float, message: str, **evidence: Any) -> Outcome:
        return cls(max(0.0, min(1.0, fraction)), message, evidence)

    @classmethod
    def ungradable(cls, message: str, **evidence: Any) -> Outcome:
        return cls(0.0, message, evidence, not_gradable=True)


class Check:
    """One rubric check. Subclasses set `Params` and `needs`, and implement `grade`.

    `needs` names the facts the check reads (see graders.facts.Facts). When one of them could not
    be gathered, the pipeline decides the outcome without calling `grade`: failed when the
    learner's submission is why (the image did not build), not_gradable when the machine is.
    """

    Params: ClassVar[type[Params]] = Params
    needs: ClassVar[tuple[str, ...]] = ()
    uses: ClassVar[tuple[str, ...]] = ()
    """Facts the check reads when they were gathered and judges without otherwise (never a reason to
    skip it): read them with `optional(facts.X)`."""

    def requests(self, params: Any) -> list[HttpRequest]:
        """HTTP requests the probe stage must send to the running service for this check."""
        return []

    def other_requests(self, params: Any, run: str) -> list[HttpRequest]:
        """HTTP requests sent to another run of the service: "unmounted" (started without the lab's
        mounts) or "hardened" (run as the production file asks)."""
        return []

    def queries(self, params: Any) -> list[Query]:
        """Questions the inside stage must ask in the running container for this check."""
        return []

    def context_paths(self, params: Any) -> list[str]:
        """Paths (in the submission) the static stage must say are in or out of the build context."""
        return []

    def touches(self, params: Any) -> list[str]:
        """Files the cache stage must change before rebuilding (paths in the submission)."""
        return []

    def validate(self, params: Any, lab: Lab) -> list[tuple[str, str]]:
        """What in `params` does not fit the lab it is written in: (the param's key, the message).
        course.yml's loader reports each at its line, so a check's own rules live with the check."""
        return []

    def grade(self, params: Any, facts: Facts) -> Outcome:
        raise NotImplementedError


def linear(value: float, full_at: float, zero_at: float) -> float:
    """1.0 at or below `full_at`, 0.0 at or above `zero_at`, a straight line between."""
    if value <= full_at:
        return 1.0
    if value >= zero_at:
        return 0.0
    return (zero_at - value) / (zero_at - full_at)


def megabytes(size_bytes: float) -> str:
    """Decimal megabytes, as `docker images` shows them."""
    return f"{size_bytes / 1e6:.1f} MB"
