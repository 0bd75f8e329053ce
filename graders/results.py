"""Grading results as plain data. The JSON result document is a faithful dump of these.

The document's schema is `graders/report/result.schema.json`; bump SCHEMA_VERSION when a field
changes meaning or disappears (adding an optional field is a minor bump).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = "1.3"

Status = Literal["passed", "partial", "failed", "skipped", "not_gradable"]
UNSCORED = ("skipped", "not_gradable")
"""Left out of the maximum: judged only once another criterion passes, or not judgeable on this machine."""


@dataclass
class CriterionResult:
    id: str
    """The criterion's id in course.yml."""
    title: str
    """What the criterion asks for, in a few words."""
    status: Status
    """passed (full points), partial, failed (no points), skipped (judged only once the criterion it
    requires passes) or not_gradable (the machine could not judge it); the last two are left out of the
    maximum."""
    points: float
    """Points earned; 0 when skipped or not_gradable."""
    max_points: float
    """Points the criterion is worth in course.yml."""
    message: str
    """What the grader saw, in a sentence."""
    hint: str
    """What to change to earn the points lost; empty when nothing was lost."""
    evidence: dict[str, Any] = field(default_factory=dict)
    """The facts behind the verdict (paths, sizes, log lines, Dockerfile lines)."""
    visibility: Literal["visible", "hidden"] = "visible"
    """Hidden criteria count in the score but are shown to learners only by title and mark."""


@dataclass
class Layer:
    instruction: str
    """The instruction that made the layer, as the image history records it."""
    size_bytes: int
    """Bytes the layer adds."""
    from_base: bool
    """True when the layer belongs to the base image."""
    wasted_bytes: int = 0
    """Bytes of files in this layer that another layer also writes or deletes (dive's count)."""


@dataclass
class ImageSummary:
    id: str
    size_bytes: int
    base: str
    """The image the final stage is built on, as written in FROM."""
    base_size_bytes: int
    layers: list[Layer] = field(default_factory=list)
    wasted_bytes: int | None = None
    """Layer inefficiency as dive counts it; None when the lab does not measure it."""
    baseline_size_bytes: int | None = None
    """Size of the lab's comparison build (Lab 02's naive Dockerfile); None when there is none."""


@dataclass
class Environment:
    """The machine a result was graded on. Unset fields are left out of the document."""
    dockerlab: str | None = None
    engine_version: str | None = None
    api_version: str | None = None
    os: str | None = None
    storage_driver: str | None = None
    cgroup_version: str | None = None
    cgroup_driver: str | None = None
    image_store: str | None = None
    """containerd or graphdriver: the containerd store keeps each layer twice (blob and snapshot)."""
    runtimes: list[str] | None = None
    root_dir: str | None = None
    cdi_spec_dirs: list[str] | None = None
    gpu: dict[str, Any] | None = None
    """What graders.engine.gpu detected: runtime, driver, CUDA, devices, capabilities."""
    builder: str | None = None
    """buildkit or legacy."""
    builder_detail: str | None = None
    build_sandbox: dict[str, Any] | None = None
    """{enforced, detail}: whether a build step's memory, processes and CPU were limited."""
    compose: str | None = None
    """Compose's version (Compose labs)."""
    left_out: dict[str, str] | None = None
    """Compose services not run here, and why."""
    stand_ins: list[str] = field(default_factory=list)
    """Base images that were local stand-ins, not the registry's."""

    def describe_engine(self, info: dict[str, Any]) -> None:
        """Take what graders.engine.client.info() said of the engine."""
        for key, value in info.items():
            setattr(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class GradingResult:
    lab: str
    submission: str
    score: float
    max_score: float
    passed: bool
    criteria: list[CriterionResult]
    image: ImageSummary | None
    environment: Environment
    """Engine version, builder (buildkit or legacy), stand-in base images used, GPU."""
    timings: dict[str, float]
    """Seconds spent in each pipeline stage."""
    percent: float = 0.0
    pass_threshold: float = 0.0
    schema_version: str = SCHEMA_VERSION
    problems: list[str] = field(default_factory=list)
    """Infrastructure trouble met during grading (why criteria are not_gradable)."""
    build: dict[str, Any] | None = None
    """The first build: builder, ok, seconds, steps (instruction, cached) and the log's last lines."""
    refusals: list[str] = field(default_factory=list)
    """Why the grader would not run the submission at all (a Compose stack asking for host privileges)."""
    gradable: bool = True
    """False when this machine could grade too little of the rubric (under half its points) for a
    verdict; `passed` is then False and says nothing of the learner."""

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["environment"] = self.environment.to_dict()
        return document
