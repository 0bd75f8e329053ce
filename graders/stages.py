"""The work of each pipeline stage (see graders.pipeline). Each reads and writes `facts`."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graders import cuda as cuda_mod
from graders import dockerfile_features, production
from graders import layers as layers_mod
from graders import revision as revision_mod
from graders.course import ImageLab, Job, LabBase
from graders.dockerfile import Dockerfile
from graders.engine import state as state_mod
from graders.engine.api import Engine, Hardening, Sandbox
from graders.engine.build_sandbox import BuildLimits
from graders.errors import EngineError
from graders.facts import (
    IMAGE_HEALTHCHECK,
    Build,
    Container,
    Facts,
    Gpu,
    Hardened,
    Image,
    Missing,
    Preemption,
    Provided,
    Query,
    Sbom,
    TrainingJob,
)
from graders.runner import Progress
from graders.scoring import Bound


def build(facts: Facts, lab: ImageLab, context: Path, engine: Engine, say: Progress,
          course_bases: Sequence[str] = (), scratch: Path | None = None) -> None:
    if isinstance(facts.dockerfile, Missing):
        facts.build = facts.image = facts.rebuild = _not_built(facts.dockerfile)
        return
    facts.stand_ins = _stand_ins(engine, facts.dockerfile)
    facts.provided = provide(lab, facts.submission, scratch or context.parent)
    tag = f"dockerlab/{lab.id}:{engine.run_id}"
    result = engine.build(context, lab.dockerfile, tag, build_limits(lab), lambda step: say("build", step),
                          **_inputs(facts.provided))
    result.error_line = _failed_line(result, facts.dockerfile)
    facts.build = result
    if result.ok:
        return
    if unbuildable := beyond_builder(facts.dockerfile, engine.builder.engine_version, engine.builder.kind):
        facts.build = facts.image = facts.rebuild = unbuildable
        return
    infra = result.infra
    absent = [s.base for s in facts.dockerfile.stages
              if facts.dockerfile.stage(s.base) is None and s.base != "scratch" and not engine.present(s.base)]
    if infra and absent and not set(absent) & set(course_bases):
        here = [ref for ref in course_bases if engine.present(ref)]
        facts.build = Missing(f"the base image {absent[0]} is not in this classroom, and no registry can be reached "
                              f"to pull it. Base images here: {', '.join(here) or 'none'}", learner=True,
                              fix="change FROM to one of them")
    elif infra and absent:
        facts.build = Missing(f"not gradable here: the base image {absent[0]} is not on this machine and cannot be "
                              f"pulled ({infra[:200]})", learner=False,
                              fix="use one of the course's base images, or grade where a registry answers")
    elif infra:
        facts.build = Missing(f"not gradable here: the build failed for a reason outside the submission: {infra}", learner=False)
    facts.image = facts.rebuild = _not_built(facts.build if isinstance(facts.build, Missing) else None)


def provide(lab: ImageLab, submission: Path, scratch: Path) -> Provided | None:
    """The build args and secrets the lab hands the build: each secret this machine's own random value
    (the same for every grading here, so that a layer the cache kept from an earlier build that copied
    it still holds the value searched for) in a file only the grader reads, also offered as a build arg
    (INDEX_TOKEN for `index_token`) as a careless CI job would, so that ARG leaks it where the grader looks."""
    inputs = lab.build
    if not inputs.args and not inputs.secrets:
        return None
    values = {"revision": revision_mod.revision(submission),
              "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    args = {key: value.format_map(values) for key, value in inputs.args.items()}
    files: dict[str, Path] = {}
    for name in inputs.secrets:
        value = canary(name)
        path = scratch / f"secret-{name}"
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        files[name] = path
        args.setdefault(name.upper(), value)
    return Provided(args, files)


CANARY_PREFIX = "dockerlab-canary-"


def canary(name: str) -> str:
    """This machine's value for build secret `name`: made once, kept 0600 under $XDG_STATE_HOME/dockerlab."""
    folder = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "dockerlab" / "secrets"
    path = folder / name
    try:
        value = path.read_text(encoding="utf-8").strip()
        if re.fullmatch(r"dockerlab-canary-[0-9a-f]{24}", value):
            return value
    except OSError:
        pass
    value = f"{CANARY_PREFIX}{secrets.token_hex(12)}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = folder / f".{name}.{secrets.token_hex(4)}"
        temporary.write_text(value + "\n", encoding="utf-8")
        temporary.chmod(0o600)
        temporary.replace(path)  # atomic: two gradings at once keep one value
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return value  # a read-only home: a value for this grading alone (a cached copy would then be missed)


def _inputs(provided: Provided | None) -> dict[str, Any]:
    return {"args": provided.args, "secrets": provided.secrets} if provided else {}


def beyond_builder(dockerfile: Dockerfile, engine_version: str, builder_kind: str) -> Missing | None:
    """After a failed build: not gradable when the Dockerfile uses a feature this engine's builder lacks
    (a valid Dockerfile gets the same score on every engine, or none)."""
    buildkit = builder_kind == "buildkit"
    if found := dockerfile_features.beyond(dockerfile, engine_version, buildkit):
        reason, fix = dockerfile_features.explain(found, engine_version, buildkit)
        return Missing(reason, learner=False, fix=fix)
    return None


def inspect(facts: Facts, engine: Engine) -> None:
    if isinstance(facts.build, Build) and facts.build.ok and facts.build.image_id and isinstance(facts.dockerfile, Dockerfile):
        facts.image = engine.inspect(facts.build.image_id, facts.dockerfile.root_base())


def run(facts: Facts, lab: ImageLab, course_root: Path, engine: Engine) -> None:
    """Start the service in the sandbox, with the lab's artifacts mounted read-only, and wait for it."""
    if isinstance(facts.image, Missing):
        facts.container = facts.http = facts.image
        return
    container, refused = _serve(engine, facts.image, lab, lab.service.env, _mounts(lab, course_root, engine))
    if container is None:
        facts.container = Container(False, None, refused, None, [], None, None)
        facts.http = Missing(f"the container could not start: {refused[:300]}", learner=True)
        return
    facts.container = container
    if facts.container.running and facts.container.limit_hit:
        facts.http = Missing(f"the service never answered: {facts.container.limit_hit}", learner=True)
    elif not facts.container.running:
        last = state_mod.last_line(facts.container.logs)[:200] or "(no output)"
        why = f": {facts.container.limit_hit}" if facts.container.limit_hit else ""
        facts.http = Missing(
            f"the container exited with code {facts.container.exit_code} before it could be probed{why}; "
            f"its last log line: {last}",
            learner=True,
        )


def _serve(engine: Engine, image: Image, lab: ImageLab, env: dict[str, str], mounts: dict[str, str],
           role: str = "service", hardening: Hardening | None = None) -> tuple[Container | None, str]:
    """Start the image as the service (`role`: its name) in the lab's sandbox and wait until it is up, exits
    or runs out of time: (the container, "") or (None, the engine's words for why the image could not start)."""
    sandbox = _sandbox(lab)
    refused = engine.start(image.id, sandbox, env, image.healthcheck, mounts, role=role, hardening=hardening)
    if refused:
        return None, refused
    return engine.watch(lab.service.port, sandbox, role=role), ""


def _mounts(lab: ImageLab, course_root: Path, engine: Engine) -> dict[str, str]:
    """The lab's artifacts (host folder -> target), mounted read-only into the service."""
    return {str(engine.artifact(lab, course_root, m.artifact)): m.target for m in lab.service.mounts}


def probe(facts: Facts, engine: Engine, bound: list[Bound]) -> None:
    if isinstance(facts.container, Missing) or not facts.container.running or facts.container.limit_hit:
        return  # `run` has already said why there is nothing to probe
    if facts.container.address is None:
        raise EngineError("the container has no address the grader can reach")
    requests = {r.key: r for item in bound for r in item.check.requests(item.params)}
    facts.http = {key: engine.send(facts.container.address, request) for key, request in requests.items()}


def inside_image(facts: Facts, lab: ImageLab, engine: Engine, bound: list[Bound]) -> str | None:
    """Ask the checks' questions about the image, in an idle twin with nothing mounted; this runs
    beside the service's start. Returns the twin, which also answers for a service that died."""
    queries = [q for q in _queries(bound) if q.where == "image"]
    if isinstance(facts.image, Missing):
        facts.inside = facts.image
        return None
    twin = engine.start_idle(facts.image.id, _sandbox(lab)) if queries else None
    asked = {query: _resolved(query, facts.image.healthcheck) for query in queries}
    answers = engine.ask(twin, [q for q in asked.values() if q is not None]) if twin else {}
    facts.inside = {query: answers[real] if real is not None else (None, "") for query, real in asked.items()} if twin else {}
    return twin


HEALTH_SECONDS = 10
"""How long the image's health command may take in the idle twin (nothing answers it there)."""


def _resolved(query: Query, healthcheck: dict[str, Any] | None) -> Query | None:
    """`query`, with IMAGE_HEALTHCHECK made the image's own health command (None: the image has none)."""
    if query != IMAGE_HEALTHCHECK:
        return query
    test = (healthcheck or {}).get("Test") or []
    if len(test) < 2 or test[0] not in ("CMD", "CMD-SHELL"):
        return None
    command = shlex.join(test[1:]) if test[0] == "CMD" else f"sh -c {shlex.quote(test[1])}"
    # bounded: a command that waits on a service that is not there must not hold the grader; as the
    # image's user, as Docker runs a healthcheck
    return Query("user_command", f"if command -v timeout >/dev/null; then timeout {HEALTH_SECONDS} {command}; else {command}; fi")


def inside_service(facts: Facts, lab: ImageLab, engine: Engine, bound: list[Bound],
                   twin: Callable[[], str | None]) -> None:
    """Ask the questions about the running process: in the service, or in the twin when it died.
    `twin()` waits for inside_image's twin (None when it made none)."""
    queries = [q for q in _queries(bound) if q.where == "service"]
    idle = twin()  # inside_image has finished: facts.inside holds its answers
    if isinstance(facts.image, Missing) or isinstance(facts.inside, Missing) or not queries:
        return
    where: str | None
    if isinstance(facts.container, Container) and facts.container.running:
        where = engine.name("service")
    else:
        where = idle or engine.start_idle(facts.image.id, _sandbox(lab))
    facts.inside = {**facts.inside, **engine.ask(where, queries)}


def _queries(bound: list[Bound]) -> list[Query]:
    return list(dict.fromkeys(q for item in bound for q in item.check.queries(item.params)))


STOP_GRACE_SECONDS = 5.0


def unmounted(facts: Facts, lab: ImageLab, engine: Engine, bound: list[Bound]) -> None:
    """Start the service again without the lab's mounts (its model), and ask it what the checks ask
    then: a service must say it is alive and not ready when what it serves is not there."""
    if isinstance(facts.image, Missing):
        facts.unmounted = facts.image
        return
    container, refused = _serve(engine, facts.image, lab, lab.service.env, {}, role="bare")
    if container is None:
        facts.unmounted = Missing(f"the container could not start without the model: {refused[:300]}", learner=True)
        return
    if not container.running or container.address is None or container.limit_hit:
        last = state_mod.last_line(container.logs)[:200] or "(no output)"
        facts.unmounted = Missing(
            f"without the model mounted, the service did not stay up to answer (exit code {container.exit_code}"
            f"{': ' + container.limit_hit if container.limit_hit else ''}); its last log line: {last}", learner=True)
        return
    requests = {r.key: r for item in bound for r in item.check.other_requests(item.params, "unmounted")}
    facts.unmounted = {key: engine.send(container.address, request) for key, request in requests.items()}
    engine.stop(engine.name("bare"), 1)


def ci(facts: Facts, lab: ImageLab, context: Path, engine: Engine, say: Progress) -> None:
    """Run the learner's CI script as a CI job would: given the version, the commit (GIT_SHA and REVISION)
    and the build time, with the lab's build secrets offered to its builds by id, against the course
    registry; read back the production file it leaves."""
    spec = lab.ci
    if spec is None:
        facts.ci = Missing("the lab has no CI script", learner=False)
        return
    if not (context / spec.script).is_file():
        facts.ci = Missing(f"there is no {spec.script} in the submission", learner=True,
                           fix=f"write {spec.script}: it builds, pushes to $REGISTRY and pins the production file's image by digest")
        return
    provided = facts.provided or provide(lab, facts.submission, context.parent)
    # the build args, and each secret's value as CI hands a job its secrets (INDEX_TOKEN): masked in what is shown
    env = dict(provided.args) if provided else {}
    # the commit, as CI names it; a folder outside git has its fingerprint instead (without `sha256:`: a tag has no ':')
    env["GIT_SHA"] = (env.get("REVISION") or revision_mod.revision(facts.submission)).removeprefix("sha256:")
    wanted = [lab.production.file] if lab.production else []
    facts.ci = engine.run_ci(context, spec.script, env, provided.secrets if provided else {}, build_limits(lab), wanted,
                             spec.seconds, spec.runner, spec.registry, lambda line: say("ci", line))


def sbom(facts: Facts, lab: ImageLab, context: Path, engine: Engine, say: Progress, scratch: Path) -> None:
    """Build the learner's SBOM Dockerfile with the grader's image in its build arg, its files written
    out as a tar (at most 64 MiB: the engine stops the build past it), and read the SBOM from it."""
    spec = lab.sbom
    if spec is None:
        facts.sbom = Missing("the lab asks for no SBOM", learner=False)
        return
    if isinstance(facts.image, Missing):
        facts.sbom = facts.image
        return
    if not (context / spec.dockerfile).is_file():
        facts.sbom = Missing(f"there is no {spec.dockerfile} in the submission", learner=True,
                             fix=f"write {spec.dockerfile}: it builds the SBOM of the image named by --build-arg {spec.arg}")
    else:
        out = scratch / "sbom-out.tar"
        tag = f"dockerlab/{lab.id}:{engine.run_id}-sbom"
        args = {spec.arg: f"dockerlab/{lab.id}:{engine.run_id}"}
        result = engine.build(context, spec.dockerfile, tag, build_limits(lab), lambda step: say("sbom", step),
                              args=args, output=out)
        if not result.ok:
            reason = result.infra and f"not gradable here: {result.infra}"
            facts.sbom = Missing(reason or f"{spec.dockerfile} did not build: {result.error[:300]}", learner=not reason)
            return
        text, found = _member(out, spec.file)
        if text is None:
            facts.sbom = Missing(f"{spec.dockerfile} built, and wrote no {spec.file} at the top of its output "
                                 f"(it wrote: {', '.join(found) or 'nothing'})", learner=True,
                                 fix=f"make its last stage FROM scratch and COPY the SBOM to /{spec.file}")
            return
        try:
            document = json.loads(text)
        except ValueError as error:
            facts.sbom = Missing(f"{spec.file} is not JSON: {error}", learner=True)
        else:
            facts.sbom = Sbom(spec.file, document if isinstance(document, dict) else {})


def _member(archive: Path, name: str) -> tuple[str | None, list[str]]:
    """A regular file at the top of a build's tar output, as text, and the first names the output holds."""
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            found = sorted(m.name.lstrip("./") for m in members)[:10]
            for member in members:
                if member.name.lstrip("./") == name and member.isfile():
                    handle = tar.extractfile(member)
                    return (handle.read().decode("utf-8", "replace") if handle else None), found
    except (OSError, tarfile.TarError):
        return None, []
    return None, found


STATUS = Query("command", "cat /proc/1/status")
MOUNTS = Query("command", "cat /proc/1/mountinfo")


def hardened(facts: Facts, lab: ImageLab, course_root: Path, engine: Engine, bound: list[Bound]) -> None:
    """Run the image as the production file's service asks (read-only root, tmpfs, user, capabilities
    dropped) on top of the sandbox, with the lab's mounts; read what its first process has in force,
    and ask it what the checks ask of a hardened service."""
    if isinstance(facts.image, Missing):
        facts.hardened = facts.image
        return
    if isinstance(facts.compose, Missing) or lab.production is None:
        facts.hardened = facts.compose if isinstance(facts.compose, Missing) else Missing("no production file", False)
        return
    service = facts.compose.model["services"][lab.production.service]
    plan = hardening(service)
    env = {**lab.service.env, **{k: str(v) for k, v in (service.get("environment") or {}).items()
                                 if isinstance(k, str) and v is not None and k.isidentifier()}}
    applied = {"read_only": plan.read_only, "tmpfs": plan.tmpfs or {}, "user": plan.user,
               "cap_drop": ["ALL"] if plan.drop_all else list(plan.cap_drop)}
    container, refused = _serve(engine, facts.image, lab, env, _mounts(lab, course_root, engine), "hardened", plan)
    if container is None:
        facts.hardened = Missing(f"run as {lab.production.file} asks, the container could not start: {refused[:300]}",
                                 learner=True)
        return
    facts.hardened = Hardened(applied, container)
    if not container.running:
        return
    answers = engine.ask(engine.name("hardened"), [STATUS, MOUNTS])
    facts.hardened.status = answers[STATUS][1] if answers[STATUS][0] == 0 else ""
    facts.hardened.root_mount = next((line for line in answers[MOUNTS][1].splitlines()
                                      if len(line.split()) > 4 and line.split()[4] == "/"), "")
    if container.address and not container.limit_hit:
        requests = {r.key: r for item in bound for r in item.check.other_requests(item.params, "hardened")}
        facts.hardened.http = {key: engine.send(container.address, request) for key, request in requests.items()}
    engine.stop(engine.name("hardened"), 1)


def hardening(service: dict[str, Any]) -> Hardening:
    """The options the grader applies on top of its sandbox: only ever tighter than the sandbox."""
    tmpfs: dict[str, str] = {}
    for entry in production.as_list(service.get("tmpfs")):
        path, _, options = str(entry).partition(":")
        if path.startswith("/") and TMPFS_OPTIONS.match(options):
            tmpfs[path] = options
    for volume in service.get("volumes") or []:  # the long syntax: type: tmpfs
        if isinstance(volume, dict) and volume.get("type") == "tmpfs" and str(volume.get("target", "")).startswith("/"):
            size = str((volume.get("tmpfs") or {}).get("size") or "")
            tmpfs[volume["target"]] = f"size={size}" if size.isdigit() else ""
    user = str(service.get("user") or "")
    drops = {production.cap(name) for name in production.as_list(service.get("cap_drop"))}
    return Hardening(read_only=service.get("read_only") is True, tmpfs=tmpfs or None,
                     user=user if USER.match(user) else None, drop_all="ALL" in drops,
                     cap_drop=tuple(sorted(drops - {"ALL"})))



USER = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$")
TMPFS_OPTIONS = re.compile(r"^[a-z0-9=,]*$")


def leaks(facts: Facts, engine: Engine) -> None:
    """Where the image holds a value handed to a build as a secret: any of the grader's canaries,
    found by their prefix, so that a layer the cache kept from a build handed another value counts."""
    if isinstance(facts.image, Missing):
        facts.leaks = facts.image
        return
    if facts.provided is None or not facts.provided.secrets:
        facts.leaks = Missing("the lab hands the build no secret", learner=False)
        return
    facts.leaks = engine.leaks(facts.image.id, CANARY_PREFIX)


def stop(facts: Facts, engine: Engine) -> None:
    """Stop the service the way `docker stop` does, last, so the probes and looks inside came first."""
    if isinstance(facts.container, Missing):
        facts.stop = facts.container
    elif not facts.container.running:
        facts.stop = Missing(f"the service was not running (exit code {facts.container.exit_code}), so how it "
                             "stops could not be seen", learner=True)
    else:
        facts.stop = engine.stop(engine.name("service"), STOP_GRACE_SECONDS)


def rebuild(facts: Facts, lab: ImageLab, context: Path, engine: Engine, bound: list[Bound], say: Progress) -> None:
    """Change application files only, rebuild, and keep the second build's steps."""
    if not (isinstance(facts.build, Build) and facts.build.ok):
        return
    for relative in dict.fromkeys(p for item in bound for p in item.check.touches(item.params)):
        path = context / relative
        if not path.is_file():
            facts.rebuild = Missing(f"{relative} is not in the submission, so the cache could not be tested", learner=True)
            return
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# changed by the grader to test the layer cache ({engine.run_id})\n")
    tag = f"dockerlab/{lab.id}:{engine.run_id}-rebuild"
    result = engine.build(context, lab.dockerfile, tag, build_limits(lab), lambda step: say("cache", step),
                          **_inputs(facts.provided))
    if not result.ok:
        raise EngineError(f"the second build failed although the first passed: {result.error}")
    facts.rebuild = result


def baseline(facts: Facts, lab: ImageLab, course_root: Path, context: Path, engine: Engine, say: Progress) -> None:
    """Build the lab's own comparison Dockerfile (never the learner's copy) from the learner's context."""
    if not (isinstance(facts.build, Build) and facts.build.ok):
        facts.baseline = Missing("the image did not build, so there is nothing to compare", learner=True)
        return
    if isinstance(facts.image, Missing) or not lab.baseline:
        facts.baseline = facts.image if isinstance(facts.image, Missing) else Missing("the lab has no comparison", False)
        return
    with tempfile.TemporaryDirectory(prefix="dockerlab-baseline-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        shutil.copy(course_root / lab.folder / lab.baseline, dockerfile)
        tag = f"dockerlab/{lab.id}:{engine.run_id}-baseline"
        result = engine.build(context, str(dockerfile), tag, build_limits(lab), lambda step: say("baseline", step))
    if not result.ok or not result.image_id:
        raise EngineError(f"the comparison build ({lab.baseline}) failed on this folder: {result.error}")
    facts.baseline = engine.inspect(result.image_id, facts.image.base_ref)


def efficiency(facts: Facts, engine: Engine) -> None:
    """Layer efficiency as dive counts it, from the image's own layers."""
    if isinstance(facts.image, Missing):
        facts.efficiency = facts.image
        return
    layers, history_index = engine.layers(facts.image.id)
    facts.efficiency = layers_mod.efficiency(layers)
    facts.efficiency.history_index = history_index


TEXT_SUFFIXES = {".json", ".jsonl", ".txt", ".csv", ".log"}


def train(facts: Facts, lab: ImageLab, course_root: Path, engine: Engine) -> None:
    """Run the image as the lab's training job: data mounted read-only, a new named volume for each
    of its outputs (filled from the image's folder, owner included, as `docker run -v` does),
    shared memory and limits from course.yml, GPUs when the engine has them and the image's CUDA
    suits the host driver (judged before running)."""
    if isinstance(facts.image, Missing) or lab.job is None:
        facts.job = facts.image if isinstance(facts.image, Missing) else Missing("the lab runs no job", False)
        return
    job, image, sandbox = lab.job, facts.image, _sandbox(lab)
    torch_text = ""
    if job.version_code:
        code, output = _python(engine, image.id, "torch", ["-c", job.version_code], job, sandbox)
        torch_text = output.strip().splitlines()[-1] if code == 0 and output.strip() else ""
    # The CUDA release the framework was built for is the one that runs (its own libraries); the
    # image's CUDA_VERSION only counts when the framework is missing or a CPU build (Python's None).
    torch_cuda = torch_text.split()[1] if len(torch_text.split()) > 1 else "None"
    cuda_version = torch_cuda if torch_cuda != "None" else image.env.get("CUDA_VERSION")
    requested, note = _gpu_plan(facts.gpu, cuda_version)
    mounts: dict[str, tuple[str, str]] = {}
    if job.data:
        mounts[str(engine.artifact(lab, course_root, job.data.artifact))] = (job.data.target, "ro")
    outputs = engine.volumes(job.writable, "train")
    mounts.update({name: (target, "rw") for target, name in outputs.items()})
    run_name = f"grade-{engine.run_id}"
    args = [arg.replace("{run}", run_name) for arg in job.args]
    job_sandbox = Sandbox(job.memory_mb, sandbox.cpus, sandbox.pids)
    exit_code, logs, seconds, timed_out = engine.run_job(
        image.id, name="train", args=args, mounts=mounts, shm_mb=job.shm_mb, sandbox=job_sandbox,
        timeout=job.timeout_seconds, gpus=job.gpus if requested else None)
    files, texts = engine.written("train", job.writable, TEXT_SUFFIXES)
    limit = engine.job_limit("train", logs, job_sandbox, stopped=timed_out)
    facts.job = TrainingJob(run_name, exit_code, timed_out, seconds, logs, job.shm_mb, files, texts, None,
                            torch_text, cuda_version, requested, note, limit)
    facts.job.checkpoint = (job.checkpoint or "").replace("{run}", run_name)
    checkpoint = next((p for p in files if p.endswith(f"/{facts.job.checkpoint}")), None) if job.checkpoint else None
    if checkpoint and job.load_code:
        target = checkpoint.rsplit("/", 1)[0]
        code, output = _python(engine, image.id, "load", ["-c", job.load_code, checkpoint], job, sandbox,
                               {outputs[target]: (target, "ro")})
        facts.job.checkpoint_load = (code if code is not None else -1, output.strip()[-300:])


def preempt(facts: Facts, lab: ImageLab, course_root: Path, engine: Engine) -> None:
    """Run the job on new volumes, `docker stop` it once an epoch is done, then start it again with
    the same arguments on the same volumes, as a preemptible machine's scheduler would. Only when
    the job itself ran to its end: otherwise there is nothing to cut short."""
    if lab.job is None or lab.job.preempt is None:
        facts.preempt = Missing("the lab does not stop its job", False)
        return
    if isinstance(facts.job, Missing) or facts.job.exit_code != 0:
        facts.preempt = facts.job if isinstance(facts.job, Missing) else Missing(
            "the training job did not finish, so it was not stopped and started again", learner=True)
        return
    job, plan, sandbox = lab.job, lab.job.preempt, _sandbox(lab)
    image = gathered_image(facts)
    run_name = f"preempt-{engine.run_id}"
    args = [arg.replace("{run}", run_name) for arg in plan.args]
    mounts: dict[str, tuple[str, str]] = {}
    if job.data:
        mounts[str(engine.artifact(lab, course_root, job.data.artifact))] = (job.data.target, "ro")
    outputs = engine.volumes(job.writable, "preempt")
    mounts.update({name: (target, "rw") for target, name in outputs.items()})
    job_sandbox = Sandbox(job.memory_mb, sandbox.cpus, sandbox.pids)
    stopped = engine.run_and_stop(image.id, name="preempted", args=args, mounts=mounts, shm_mb=job.shm_mb,
                                  sandbox=job_sandbox, when=plan.after, grace=plan.grace_seconds,
                                  timeout=job.timeout_seconds)
    facts.preempt = Preemption(run_name, plan.epochs, plan.grace_seconds, stopped)
    if not stopped.seen:
        return
    code, logs, _seconds, timed_out = engine.run_job(
        image.id, name="resumed", args=args, mounts=mounts, shm_mb=job.shm_mb, sandbox=job_sandbox,
        timeout=job.timeout_seconds)
    facts.preempt.resume_exit, facts.preempt.resume_timed_out, facts.preempt.resume_logs = code, timed_out, logs
    _files, facts.preempt.texts = engine.written("resumed", job.writable, TEXT_SUFFIXES)


def gathered_image(facts: Facts) -> Image:
    if isinstance(facts.image, Missing):
        raise EngineError("the image went missing between stages")
    return facts.image


def _python(engine: Engine, image_id: str, name: str, args: list[str], job: Job, sandbox: Sandbox,
            mounts: dict[str, tuple[str, str]] | None = None) -> tuple[int | None, str]:
    """`python ARGS` in the image beside the job (the framework's version, loading the checkpoint):
    the job's memory, the sandbox's CPUs and processes, 64 MB of shared memory, two minutes."""
    code, output, _seconds, _timed_out = engine.run_job(
        image_id, name=name, args=args, mounts=mounts or {}, entrypoint=["python"], shm_mb=64,
        sandbox=Sandbox(job.memory_mb, sandbox.cpus, sandbox.pids), timeout=120)
    return code, output


def _gpu_plan(gpu: Gpu | None, cuda_version: str | None) -> tuple[bool, str]:
    if gpu is None or gpu.runtime == "none":
        return False, "this machine's engine has no GPU runtime (NVIDIA runtime or CDI)"
    verdict = cuda_mod.check(gpu.driver_version, cuda_version, gpu.capabilities)
    if verdict.ok is False:
        return False, verdict.message
    return True, verdict.message


def _not_built(why: Missing | None) -> Missing:
    if why is not None and not why.learner:
        return why
    reason = why.reason if why is not None else "the image did not build (see the 'builds' criterion)"
    return Missing(reason, learner=True, fix=why.fix if why is not None else "")


def _failed_line(result: Build, dockerfile: Dockerfile) -> int | None:
    failed = [step for step in result.steps if step.failed]
    if not failed:
        return None
    wanted = " ".join(failed[-1].instruction.split())
    for instruction in dockerfile.instructions:
        if " ".join(instruction.text().split()) == wanted:
            return instruction.line
    return None


def _stand_ins(engine: Engine, dockerfile: Dockerfile) -> list[str]:
    found: list[str] = []
    for stage in dockerfile.stages:
        if dockerfile.stage(stage.base) is None:
            label = engine.stand_in(stage.base)
            if label and label not in found:
                found.append(label)
    return found


def build_limits(lab: LabBase) -> BuildLimits:
    limits = lab.limits
    return BuildLimits(limits.build_memory_mb, limits.build_pids, limits.build_cpus, limits.build_disk_mb,
                       limits.build_seconds)


def _sandbox(lab: ImageLab) -> Sandbox:
    limits = lab.limits
    return Sandbox(limits.memory_mb, limits.cpus, limits.pids, limits.run_seconds)
