"""Load and validate course.yml into plain data.

Errors name the file, the line and the key path, e.g.
`course.yml:42 labs[0].rubric[3].points: expected a number`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator
from pydantic_core import ErrorDetails

from graders import checks, safeyaml, yamlines
from graders.errors import ConfigError

CHECKOUT_COURSE = Path(__file__).resolve().parent.parent / "course.yml"
COURSE_VARIABLE = "DOCKERLAB_COURSE"


def default_path() -> Path:
    """The course's course.yml: $DOCKERLAB_COURSE (the file, or the folder holding it) when set, else
    the one in the checkout this package runs from. Labs, solutions and stand-in recipes are found
    beside it, so an installed package (a wheel, the course image) grades the course it is pointed at."""
    chosen = os.environ.get(COURSE_VARIABLE)
    if not chosen:
        return CHECKOUT_COURSE
    path = Path(chosen).expanduser()
    return (path / "course.yml" if path.is_dir() else path).resolve()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaseImage(Strict):
    ref: str = Field(pattern=r"^[a-z0-9./_-]+:[A-Za-z0-9._-]+$")
    stand_in: Literal["debootstrap", "python", "redis", "postgres", "registry"] | None = None
    """How to make it without a registry: a Debian rootfs, or a recipe in docker/stand-ins/ built on
    the image named in `from` (Debian's Python, redis-server or postgresql)."""
    from_image: str | None = Field(default=None, alias="from")
    """For a recipe stand-in, the course image it is built on."""
    optional: bool = False
    """When it cannot be had, `images prepare` says so without failing; the labs that use it run without it."""
    why: str = ""

    @model_validator(mode="after")
    def _recipe_has_base(self) -> BaseImage:
        if self.stand_in not in (None, "debootstrap") and not self.from_image:
            raise ValueError(f"the {self.stand_in} stand-in recipe is built on another course image: name it in `from`")
        return self


class Limits(Strict):
    build_seconds: int = Field(default=600, gt=0)
    build_memory_mb: int = Field(default=4096, ge=256)
    """Memory of every build step together (the build sandbox, graders.engine.build_sandbox)."""
    build_pids: int = Field(default=512, ge=32)
    build_cpus: float = Field(default=1.0, gt=0)
    build_disk_mb: int = Field(default=8192, ge=256)
    """What one build may write to the engine's disk; a build starts only with this much free."""
    dockerfile_bytes: int = Field(default=256 * 1024, ge=1024)
    dockerfile_instructions: int = Field(default=1000, ge=10)
    run_seconds: int = Field(default=120, gt=0)
    memory_mb: int = Field(default=1024, ge=64)
    cpus: float = Field(default=1.0, gt=0)
    pids: int = Field(default=256, ge=16)


class Criterion(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    points: float = Field(gt=0)
    type: str
    params: dict[str, Any] = Field(default_factory=dict)
    partial: bool = True
    """False makes the criterion all or nothing, whatever the check's own partial rule."""
    hint: str
    visibility: Literal["visible", "hidden"] = "visible"
    requires: list[str] = Field(default_factory=list)
    """Criteria that must pass before this one is scored (size means little for a broken image)."""
    hadolint: list[str] = Field(default_factory=list)
    """hadolint rule codes whose findings are shown as this criterion's evidence."""
    gpu: bool = False
    """Needs a GPU to judge; on a machine without one the lab's `gpu` policy applies."""


class Mount(Strict):
    artifact: str
    """An artifact of the lab (see Lab.artifacts), mounted read-only."""
    target: str = Field(pattern=r"^/")


class Service(Strict):
    port: int = Field(default=8000, gt=0, lt=65536)
    env: dict[str, str] = Field(default_factory=dict)
    mounts: list[Mount] = Field(default_factory=list)


class Preempt(Strict):
    """Stop the job mid-run as a preemptible machine would (`docker stop`), then start it again with
    the same arguments on the same volumes: it must stop within the grace period and carry on."""

    args: list[str]
    """Arguments for both runs, `{run}` as in the job's (more epochs than the job, to be cut short)."""
    epochs: int = Field(ge=2)
    """The epochs those arguments ask for."""
    after: str
    """A regular expression: the first run is stopped once its logs match it (an epoch finished)."""
    grace_seconds: int = Field(default=5, ge=1, le=60)
    """What `docker stop -t` waits before SIGKILL."""


class Job(Strict):
    """A run-to-completion container (Lab 03's training), started with the image's ENTRYPOINT."""

    args: list[str] = Field(default_factory=list)
    """Arguments after the image name; `{run}` becomes a name unique to the grading."""
    data: Mount | None = None
    """An artifact mounted read-only (the training data)."""
    writable: list[str] = Field(default_factory=list)
    """Container paths that get a new named volume of their own (outputs, checkpoints), filled from the
    image's folder there, owner included."""
    shm_mb: int = Field(default=256, ge=1)
    memory_mb: int = Field(default=4096, ge=64)
    timeout_seconds: int = Field(default=300, gt=0)
    gpus: str = "all"
    """What `docker run --gpus` would be given, used when the engine has a GPU runtime."""
    version_code: str | None = None
    """Python run in the image (`python -c`) before the job: prints the framework's version and the
    CUDA release it was built for, or None (Lab 03: torch's). Unset: not asked."""
    checkpoint: str | None = None
    """The checkpoint the job must write in a writable folder, `{run}` as in args (`{run}.pt`)."""
    load_code: str | None = None
    """Python run in the image with the checkpoint's path as argv[1]: loads it back and prints what
    it recorded (the epoch). Unset: the checkpoint is not loaded."""
    preempt: Preempt | None = None
    """A second job, stopped mid-run and started again (Lab 03's `preemption`). Unset: not run."""


class Artifact(Strict):
    """A file or folder the lab's own script makes on the grading machine (never the learner's code)."""

    script: str
    """Path inside the lab folder, run with the grader's Python."""
    args: list[str] = Field(default_factory=list)
    """Arguments; `{out}` is replaced by the folder to write."""


class HttpCall(Strict):
    method: Literal["GET", "POST", "PUT", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/")
    """`{token}` becomes a value unique to the grading."""
    body: str | None = None
    """JSON text; `{token}` is replaced here too."""


class Persistence(Strict):
    """Data written through the API must survive `down` (volumes kept) and `up` again."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    services: list[str] = Field(min_length=1)
    """The services that keep the data: the probe is not_gradable when one of them is not run."""
    write: HttpCall
    read: HttpCall
    """Passes when it answers 2xx and its body holds the token."""


class ComposeLab(Strict):
    """A lab whose submission is a Compose stack (Lab 04)."""

    file: str = "compose.yaml"
    gpu_file: str | None = None
    """An override file with GPU reservations, read only for the GPU criterion (never started here)."""
    env_example: str | None = ".env.example"
    """Copied to .env when the submission has none (a learner's .env stays on their machine)."""
    entry: str = "api"
    """The service the grader sends HTTP requests to."""
    port: int = Field(default=8000, gt=0, lt=65536)
    ready_path: str = Field(default="/ready", pattern=r"^/")
    wait_seconds: int = Field(default=300, gt=0)
    """Time limit for `up --wait` (each time it runs)."""
    memory_mb: int = Field(default=1024, ge=64)
    """Per container."""
    cpus: float = Field(default=1.0, gt=0)
    pids: int = Field(default=512, ge=16)
    persistence: list[Persistence] = Field(default_factory=list)


class Leaderboard(Strict):
    """An opt-in leaderboard of a batch's passing submissions (summary.html, the feedback pages,
    Gradescope's `leaderboard` field). Never a grade."""

    metrics: list[Literal["image-added", "rebuild", "wasted"]] = Field(min_length=1)
    """image-added: MB added over the base; rebuild: seconds to rebuild after a code change (labs that
    grade the layer cache); wasted: MB wasted across layers (labs that measure it). Lower is better."""
    names: Literal["pseudonyms", "learners"] = "pseudonyms"
    """What summary.html shows: a pseudonym per learner (only the instructor's output folder can tell
    who is who), or the learners' names."""


class Similarity(Strict):
    """How alike two submissions of a batch must be to be flagged in summary.html (never a grade)."""

    threshold: float = Field(default=0.8, gt=0, le=1)
    """0 to 1: the share of two learners' own lines (beyond the starter and reference) that match once
    normalised (graders.batch.similarity)."""


class LabBase(Strict):
    """What every lab has, whatever it grades."""

    id: str = Field(pattern=r"^[0-9]{2}-[a-z0-9-]+$")
    title: str
    folder: str
    solution: str
    notebook: str = "lab.ipynb"
    """The lab's notebook, an nbgrader source notebook (its grading cells come from this rubric)."""
    learner_files: list[str] = Field(default_factory=lambda: ["Dockerfile", ".dockerignore"])
    """Files of the starter the learner edits: nbgrader's autograde must not replace them with the
    instructor's copies (its `exclude_overwriting`)."""
    pass_threshold: float = Field(ge=0, le=100)
    """Percent of the gradable maximum needed to pass."""
    gpu: Literal["skip", "zero", "require"] = "skip"
    """On a machine without a GPU: leave GPU criteria out, score them zero, or refuse to grade."""
    limits: Limits = Field(default_factory=Limits)
    artifacts: dict[str, Artifact] = Field(default_factory=dict)
    rubric: list[Criterion] = Field(min_length=1)
    leaderboard: Leaderboard | None = None
    similarity: Similarity = Field(default_factory=Similarity)

    @property
    def max_points(self) -> float:
        return sum(criterion.points for criterion in self.rubric)


class BuildInputs(Strict):
    """What the grader hands the build, as a CI job would (Lab 05)."""

    args: dict[str, str] = Field(default_factory=dict)
    """`--build-arg`s. A value may name {revision} (the submission's commit, else its fingerprint)
    and {created} (the build's time, RFC 3339)."""
    secrets: list[str] = Field(default_factory=list)
    """`--secret` ids. Each gets this machine's own random value (graders.stages.canary); each id is also offered as a
    build arg of the same name in upper case, as careless CI jobs do, so a leak through ARG shows."""


class Production(Strict):
    """A production Compose file the learner writes beside the Dockerfile (Lab 05). The grader reads
    it and runs the image with the hardening it asks for; it never runs the file itself."""

    file: str = "compose.prod.yaml"
    service: str = "api"


class SbomBuild(Strict):
    """How the learner's own SBOM is made for an image (Lab 05): a second Dockerfile, built with the
    grader's image in a build arg and its files written out, one of which is the SBOM."""

    dockerfile: str = "Dockerfile.sbom"
    arg: str = "IMAGE"
    file: str = "sbom.cdx.json"


class CiScript(Strict):
    """A CI script the learner writes (Lab 05): the grader runs it as a CI job would, in a sandbox
    whose `docker` relays to the grader (graders.engine.ci_relay), against the course registry."""

    script: str = "ci/build.sh"
    image: str = "iris"
    """The repository under $REGISTRY that the script publishes and the production file runs."""
    seconds: int = Field(default=300, ge=10, le=1800)
    runner: str = "python:3.11-slim"
    """The image the script runs in (a course base image: a shell, sed, Python for the relay)."""
    registry: str = "registry:2.8"
    """The image of the course registry the script pushes to (a course base image)."""


class ImageLab(LabBase):
    """A lab graded from a Dockerfile: the image built, then run as a service (Labs 01, 02, 05) or as
    a job (Lab 03). graders.pipeline.IMAGE grades it."""

    kind: Literal["image"] = "image"
    dockerfile: str = "Dockerfile"
    build: BuildInputs = Field(default_factory=BuildInputs)
    production: Production | None = None
    sbom: SbomBuild | None = None
    ci: CiScript | None = None
    service: Service = Field(default_factory=Service)
    job: Job | None = None
    baseline: str | None = None
    """A Dockerfile in the lab folder built from the learner's context for comparison (Lab 02's naive one)."""


class StackLab(LabBase):
    """A lab graded from a Compose file: the stack judged, built and brought up (Lab 04).
    graders.pipeline.STACK grades it. It has no service, job or baseline of its own: writing one is
    an error, not a setting that is silently ignored."""

    kind: Literal["stack"] = "stack"
    compose: ComposeLab


def _kind(value: Any) -> str:
    """A lab with a `compose` section is a stack lab; any other is an image lab (`kind` may say so)."""
    if isinstance(value, dict):
        return "stack" if "compose" in value else str(value.get("kind", "image"))
    return getattr(value, "kind", "image")


Lab = Annotated[Annotated[ImageLab, Tag("image")] | Annotated[StackLab, Tag("stack")], Discriminator(_kind)]


class Course(Strict):
    title: str
    version: str
    base_images: list[BaseImage]
    labs: list[Lab] = Field(min_length=1)

    @model_validator(mode="after")
    def _stand_ins_have_a_base(self) -> Course:
        refs = {image.ref for image in self.base_images}
        for image in self.base_images:
            if image.stand_in not in (None, "debootstrap") and image.from_image not in refs:
                raise ValueError(f"{image.ref}: 'from' must name another base image of the course")
        return self

    def lab(self, lab_id: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.id == lab_id), None)


def load(path: Path | None = None) -> Course:
    """Read, validate and cross-check course.yml (default: default_path()). Raises ConfigError with file:line."""
    path = path or default_path()
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        where = f" (from ${COURSE_VARIABLE})" if os.environ.get(COURSE_VARIABLE) and path == default_path() else ""
        raise ConfigError(str(path), None, "", f"cannot read it ({error.strerror}){where}; "
                          f"point --course or ${COURSE_VARIABLE} at a course.yml") from None
    try:
        document = safeyaml.load(text)
    except safeyaml.YamlError as error:
        raise ConfigError(name, error.line, "", error.message) from None
    data, lines = document.data, yamlines.record(document.node)
    if not isinstance(data, dict):
        raise ConfigError(name, 1, "", "expected a mapping with title, version, base_images and labs")
    try:
        course = Course.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        path_text = _path(first["loc"])
        raise ConfigError(name, yamlines.line_of(lines, path_text), path_text, _message(first)) from None
    _cross_check(course, name, lines, path.parent)
    return course


def _cross_check(course: Course, name: str, lines: dict[str, int], root: Path) -> None:
    def fail(path_text: str, message: str) -> None:
        raise ConfigError(name, yamlines.line_of(lines, path_text), path_text, message)

    lab_ids: set[str] = set()
    for l_index, lab in enumerate(course.labs):
        where = f"labs[{l_index}]"
        if lab.id in lab_ids:
            fail(f"{where}.id", f"duplicate lab id {lab.id!r}")
        lab_ids.add(lab.id)
        for key in ("folder", "solution"):
            if not (root / getattr(lab, key)).is_dir():
                fail(f"{where}.{key}", f"folder {getattr(lab, key)!r} does not exist")
        for artifact_name, artifact in lab.artifacts.items():
            if not (root / lab.folder / artifact.script).is_file():
                fail(f"{where}.artifacts.{artifact_name}.script", f"{artifact.script!r} is not in {lab.folder}")
        image = lab if isinstance(lab, ImageLab) else None
        for m_index, mount in enumerate(image.service.mounts if image else []):
            if mount.artifact not in lab.artifacts:
                fail(f"{where}.service.mounts[{m_index}].artifact", f"no artifact {mount.artifact!r} in this lab")
        if image and image.job and image.job.data and image.job.data.artifact not in lab.artifacts:
            fail(f"{where}.job.data.artifact", f"no artifact {image.job.data.artifact!r} in this lab")
        if image and image.baseline and not (root / lab.folder / image.baseline).is_file():
            fail(f"{where}.baseline", f"{image.baseline!r} is not in {lab.folder}")
        ids = [criterion.id for criterion in lab.rubric]
        for c_index, criterion in enumerate(lab.rubric):
            at = f"{where}.rubric[{c_index}]"
            if criterion.id in ids[:c_index]:
                fail(f"{at}.id", f"duplicate criterion id {criterion.id!r}")
            if criterion.type not in checks.REGISTRY:
                fail(f"{at}.type", f"unknown check type {criterion.type!r}; known types: {', '.join(checks.known())}")
            if "job" in checks.get(criterion.type).needs and not (image and image.job):
                fail(f"{at}.type", f"'{criterion.type}' reads the lab's training job, but the lab sets no 'job'")
            if "stack" in checks.get(criterion.type).needs and image:
                fail(f"{at}.type", f"'{criterion.type}' reads a Compose stack, but the lab sets no 'compose'")
            if "compose" in checks.get(criterion.type).needs and image and not image.production:
                fail(f"{at}.type", f"'{criterion.type}' reads a Compose file, but the lab sets no 'compose' or "
                                   "'production'")
            if "baseline" in checks.get(criterion.type).needs and not (image and image.baseline):
                fail(f"{at}.type", f"'{criterion.type}' compares with the lab's baseline, but the lab sets no 'baseline'")
            for needed in criterion.requires:
                if needed not in ids or needed == criterion.id:
                    fail(f"{at}.requires", f"{needed!r} is not another criterion of this lab")
            check = checks.get(criterion.type)
            try:
                params = check.Params.model_validate(criterion.params)
            except ValidationError as error:
                first = error.errors()[0]
                path_text = f"{at}.params" + ("." + _path(first["loc"]) if first["loc"] else "")
                fail(path_text, _message(first))
            for key, message in check.validate(params, lab):
                fail(f"{at}.params.{key}", message)


def _path(loc: tuple[str | int, ...]) -> str:
    # the union's tag (labs[0].image.rubric...) is not a key the author wrote
    loc = tuple(part for index, part in enumerate(loc)
                if not (part in ("image", "stack") and index >= 2 and loc[index - 2] == "labs"))
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_MESSAGES = {
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "missing": "required key is missing",
    "extra_forbidden": "unknown key (check its spelling)",
}


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    message = error["msg"]
    return message[len("Value error, ") :] if message.startswith("Value error, ") else message
