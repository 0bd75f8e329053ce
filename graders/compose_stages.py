"""The stages of grading a Compose stack (Lab 04), in the order graders.pipeline runs them:

    read → policy → build → images → up → ready → persist (down, up, read back) → down -v

Each reads and writes `facts`. A learner's mistake leaves `Missing(learner=True)`; a service whose
image this machine cannot have is left out of the run, and the criteria that need it are
not_gradable. The stack is always taken down with its volumes, whatever happens.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders import compose_files, dockerfile, stages, yamlines
from graders import stack as stack_mod
from graders.course import ComposeLab, HttpCall, ImageLab, Persistence, StackLab
from graders.engine import compose
from graders.engine.api import Engine
from graders.errors import DockerfileError
from graders.facts import ComposeFile, Facts, HttpRequest, HttpResponse, Missing, Persisted, ServiceState, Stack
from graders.health import command_missing
from graders.runner import Progress
from graders.submission import check_dockerfile

NOT_YET = Missing("the stack has not run yet", learner=False)


def read(facts: Facts, spec: ComposeLab, context: Path, project: str) -> None:
    """The model Compose computes from the learner's file, with and without interpolation."""
    path = context / spec.file
    if isinstance(facts.dockerfile, Missing) and facts.dockerfile.learner:  # the copy refused the folder
        facts.compose = facts.dockerfile
        return
    if not path.is_file():
        facts.compose = Missing(f"there is no {spec.file} in the submission", learner=True,
                                fix=f"write {spec.file} in the lab folder")
        return
    env_note = _env_file(context, spec)
    read_files, problem = compose_files.check(context, [spec.file])
    if problem:  # Compose never sees a file the grader could not read safely itself
        facts.compose = Missing(str(problem), learner=True, fix=problem.fix)
        if problem.key:
            service = problem.key.split(".")[1] if problem.key.startswith("services.") else ""
            facts.refused = [stack_mod.Refusal(service, problem.key, problem.message)]
        return
    written = read_files[spec.file]
    try:
        model = compose.config(context, [spec.file], project)
        raw = compose.config(context, [spec.file], project, interpolate=False)
    except compose.ComposeError as error:
        key = re.search(r"\bservices(?:\.[\w-]+)+", str(error))
        line = yamlines.line_of(written.lines, key.group(0)) if key else None
        where = f"{spec.file}:{line}" if line else spec.file
        facts.compose = Missing(f"{where}: Compose refuses it: {error}", learner=True,
                                fix="run `docker compose config` in the lab folder and fix what it reports")
        return
    found = ComposeFile(spec.file, model, raw, written.data, written.lines, env_note=env_note)
    if spec.gpu_file and (context / spec.gpu_file).is_file():
        found.gpu_file = spec.gpu_file
        _, gpu_problem = compose_files.check(context, [spec.file, spec.gpu_file])
        try:
            if gpu_problem:
                found.gpu_error = f"{gpu_problem} ({gpu_problem.fix})"
            else:
                found.gpu_model = compose.config(context, [spec.file, spec.gpu_file], project)
        except compose.ComposeError as error:
            found.gpu_error = f"{spec.gpu_file}: Compose refuses it: {error}"
    facts.compose = found


def production(facts: Facts, lab: ImageLab, context: Path, project: str) -> None:
    """An image lab's production file (Lab 05), read as Lab 04 reads a stack: bounded, then by Compose.
    Only read: the grader runs the image with the settings it asks for, never the file."""
    if lab.production is None:
        facts.compose = Missing("the lab has no production file", learner=False)
        return
    read(facts, ComposeLab(file=lab.production.file, env_example=None, entry=lab.production.service,
                           port=lab.service.port), context, project)
    if isinstance(facts.compose, ComposeFile) and lab.production.service not in (facts.compose.model.get("services") or {}):
        facts.compose = Missing(f"{lab.production.file} has no service '{lab.production.service}'", learner=True,
                                fix=f"name the service that runs the image '{lab.production.service}'")


def policy(facts: Facts, context: Path) -> list[stack_mod.Refusal]:
    if isinstance(facts.compose, Missing):
        return list(facts.refused)
    return stack_mod.refusals(facts.compose.model, context, facts.compose.source)


def _blocked(facts: Facts) -> bool:
    """The file could not be read, or an earlier stage already decided the stack's fate."""
    return isinstance(facts.compose, Missing) or (isinstance(facts.stack, Missing) and facts.stack is not NOT_YET)


def build(facts: Facts, lab: StackLab, engine: Engine, say: Progress) -> dict[str, str]:
    """Build every service with a `build:` section; service -> image id. A failed build fails the stack."""
    built: dict[str, str] = {}
    if isinstance(facts.compose, Missing):
        facts.stack = facts.compose
        return built
    facts.stack = NOT_YET
    for name, service in facts.compose.model["services"].items():
        options = service.get("build")
        if not options:
            continue
        say("build", name)
        context = Path(options.get("context", "."))
        try:
            check_dockerfile(context, options.get("dockerfile") or "Dockerfile", lab)
        except DockerfileError as error:
            facts.stack = Missing(f"service '{name}': {error.message}", learner=True, fix=error.fix)
            return built
        result = engine.build(
            context, options.get("dockerfile") or "Dockerfile", f"dockerlab/{lab.id}-{name}:{engine.run_id}",
            stages.build_limits(lab), _progress(say, name),
            target=options.get("target"), args={k: str(v) for k, v in (options.get("args") or {}).items() if v is not None},
        )
        if name == lab.compose.entry or isinstance(facts.build, Missing):
            facts.build = result
        if not result.ok:
            infra = result.infra
            if unbuildable := _beyond_builder(context / (options.get("dockerfile") or "Dockerfile"), engine):
                facts.build = facts.stack = Missing(f"service '{name}': {unbuildable.reason}", learner=False, fix=unbuildable.fix)
            elif infra:
                facts.stack = Missing(f"not gradable here: building '{name}' failed for a reason outside the submission: {infra}",
                                      learner=False)
            else:
                facts.build = result
                facts.stack = Missing(f"service '{name}' does not build: {result.error}", learner=True,
                                      fix=f"build it yourself with `docker compose build {name}` and fix the first error")
            return built
        built[name] = result.image_id or ""  # a build that passed has its id
    return built


def _beyond_builder(path: Path, engine: Engine) -> Missing | None:
    try:
        return stages.beyond_builder(dockerfile.parse_file(path), engine.builder.engine_version, engine.builder.kind)
    except DockerfileError:
        return None


def _progress(say: Progress, service: str) -> Callable[[str], None]:
    return lambda step: say("build", f"{service}: {step}")


def images(facts: Facts, engine: Engine, built: dict[str, str]) -> dict[str, str]:
    """Services whose image is neither built nor on this machine nor pullable: service -> why (left out)."""
    left_out: dict[str, str] = {}
    compose_file = facts.compose
    if _blocked(facts) or isinstance(compose_file, Missing):
        return left_out
    for name, service in compose_file.model["services"].items():
        if name in built:
            compose_file.image_healthchecks[name] = engine.image_healthcheck(built[name])
            compose_file.image_volumes[name] = engine.image_volumes(built[name])
            _note_stand_ins(facts, engine, _bases(service["build"]))
            continue
        ref = service.get("image", "")
        available = engine.available(ref)
        if available.unknown:
            facts.stack = Missing(f"service '{name}': the image {ref} does not exist", learner=True,
                                  fix="check the image's name and tag on its registry")
            return left_out
        if not available.present:
            left_out[name] = f"its image {ref} is not on this machine and no registry is in reach"
            compose_file.image_healthchecks[name] = None
            continue
        compose_file.image_healthchecks[name] = engine.image_healthcheck(ref)
        compose_file.image_volumes[name] = engine.image_volumes(ref)
        _note_stand_ins(facts, engine, [ref])
    return left_out


def _bases(build: dict[str, Any]) -> list[str]:
    """The images a build section's Dockerfile starts from (none when it cannot be parsed)."""
    try:
        parsed = dockerfile.parse_file(Path(build.get("context", ".")) / (build.get("dockerfile") or "Dockerfile"))
    except (DockerfileError, OSError):
        return []
    return [stage.base for stage in parsed.stages if parsed.stage(stage.base) is None]


def _note_stand_ins(facts: Facts, engine: Engine, refs: list[str]) -> None:
    for ref in refs:
        label = engine.stand_in(ref)
        if label and label not in facts.stand_ins:
            facts.stand_ins.append(label)


def run(facts: Facts, lab: StackLab, engine: Engine, built: dict[str, str], left_out: dict[str, str], folder: Path,
        say: Progress, env_file: Path | None = None) -> None:
    """Up, ready, persistence, and down -v in every outcome (Ctrl-C included)."""
    compose_file = facts.compose
    if _blocked(facts) or isinstance(compose_file, Missing):
        return
    spec = lab.compose
    project = f"dockerlab-{engine.run_id}"
    limits = stack_mod.ContainerLimits(spec.memory_mb, spec.cpus, spec.pids)
    model = stack_mod.derive(compose_file.model, project=project, labels=engine.labels, images=built,
                             left_out=set(left_out), limits=limits)
    file = folder / "stack.json"
    file.write_text(json.dumps(model, indent=2))
    running = _Project(file, project, spec, engine, list(model["services"]), env_file)
    volumes: set[str] = set()
    result = Stack(project, dict(left_out), False, "", "", 0.0, {}, None)
    facts.stack = result
    try:
        say("up", f"{len(model['services'])} services")
        outcome = running.up()
        result.up_ok, result.up_output, result.stopped_early, result.seconds = (
            outcome.ok, outcome.output[-3000:], outcome.stopped_early, round(outcome.seconds, 1))
        result.services, seen = running.states()
        volumes |= seen
        result.address = running.address()
        if not result.address:
            for item in spec.persistence:
                result.not_tried[item.id] = (f"{spec.entry} is not running, so nothing could be written", True)
            return
        say("ready", spec.ready_path)
        result.ready = _ready(engine, result.address, spec.ready_path, set(left_out))
        runnable = _runnable(spec, left_out, result)
        if runnable:
            say("persist", "write, down, up, read")
            volumes |= _persist(running, result, result.address, runnable)
    finally:
        say("down", "down -v --remove-orphans")
        done = running.down(volumes=True)
        if not done.ok:
            result.teardown = done.output[-500:]
        engine.problems.extend(engine.remove_volumes(volumes))


@dataclass
class _Project:
    """The submission's stack as Compose runs it here (its derived file, its project name)."""

    file: Path
    name: str
    spec: ComposeLab
    engine: Engine
    services: list[str]
    env_file: Path | None

    def up(self) -> compose.Outcome:
        return self.engine.up(self.file, self.name, self.spec.wait_seconds, lambda: _hopeless(self.engine, self.name),
                              self.env_file)

    def down(self, *, volumes: bool) -> compose.Outcome:
        return self.engine.down(self.file, self.name, volumes=volumes)

    def states(self) -> tuple[dict[str, ServiceState], set[str]]:
        return self.engine.services(self.name, self.services)

    def address(self) -> str | None:
        return self.engine.address(self.name, self.spec.entry, self.spec.port)

    def send(self, address: str, request: HttpRequest) -> HttpResponse:
        return self.engine.send(address, request)


def _runnable(spec: ComposeLab, left_out: dict[str, str], result: Stack) -> list[Persistence]:
    """The persistence probes that can run here; why each other one is not tried goes in `result`."""
    runnable = [p for p in spec.persistence if not set(p.services) & set(left_out)]
    for item in spec.persistence:
        if item not in runnable:
            out = ", ".join(sorted(set(item.services) & set(left_out)))
            result.not_tried[item.id] = (f"{out} not run here: {left_out[out.split(', ')[0]]}", False)
    # a service the probe does not go through (an unhealthy notebook server) does not stop it
    for item in [p for p in runnable if not result.up_ok]:
        down = _not_serving(result.services, [spec.entry, *item.services])
        if down:
            result.not_tried[item.id] = (f"{down} did not come up healthy, so nothing was written", True)
            runnable.remove(item)
    return runnable


def _not_serving(states: dict[str, ServiceState], names: list[str]) -> str:
    """The first of `names` that is not running and healthy (or running with no healthcheck); "" if none."""
    for name in names:
        state = states.get(name)
        if state is None or state.status != "running" or state.health not in ("healthy", None):
            return name
    return ""


def _persist(running: _Project, result: Stack, address: str, runnable: list[Persistence]) -> set[str]:
    """Write through the API, take the stack down keeping its volumes, bring it up, read back.
    Returns the named volumes the stack mounted the second time."""
    token = "dl" + uuid.uuid4().hex[:12]
    written = {p.id: running.send(address, _request(p.write, token)) for p in runnable}
    running.down(volumes=False)
    again = running.up()
    address_again = running.address()
    states, seen = running.states()
    for item in runnable:
        read_back = running.send(address_again, _request(item.read, token)) if address_again else None
        back = again.ok or not _not_serving(states, [running.spec.entry, *item.services])
        note = "" if back else f"the stack did not come back up: {(again.stopped_early or again.output)[-300:]}"
        result.persistence[item.id] = Persisted(written[item.id], read_back, token, back, note)
    return seen


def _env_file(context: Path, spec: ComposeLab) -> str:
    if (context / ".env").is_file():
        return "the submission's .env"
    if spec.env_example and (context / spec.env_example).is_file():
        shutil.copyfile(context / spec.env_example, context / ".env")
        return f"{spec.env_example} (the submission has no .env)"
    return "no .env in the submission"


def _hopeless(engine: Engine, project: str) -> str | None:
    """A reason to stop waiting: a healthcheck whose command is not in the image can never pass. Only
    once no other service is still starting, so that each of them is judged on its own check."""
    hopeless = [(service, output) for service, output in engine.failed_health(project) if command_missing(output)]
    if not hopeless or engine.starting(project) - {service for service, _ in hopeless}:
        return None
    service, output = hopeless[0]
    return f"service '{service}': its healthcheck cannot run in its image: {output[-200:]}"


def _ready(engine: Engine, address: str, path: str, left_out: set[str], budget_s: float = 30.0) -> HttpResponse:
    """GET the ready endpoint until every dependency that runs here is reported reachable (or time is up)."""
    deadline = time.monotonic() + budget_s
    while True:
        answer = engine.send(address, HttpRequest("GET", path, timeout_s=10.0), retries=1)
        body = answer.json() if answer.status else None
        reported = (body or {}).get("dependencies") if isinstance(body, dict) else None
        settled = isinstance(reported, dict) and all(
            isinstance(v, dict) and v.get("ok") for k, v in reported.items() if k not in left_out)
        if answer.status == 200 or settled or time.monotonic() > deadline:
            return answer
        time.sleep(2)


def _request(call: HttpCall, token: str) -> HttpRequest:
    body = call.body.replace("{token}", token) if call.body else None
    return HttpRequest(call.method, call.path.replace("{token}", token), body, timeout_s=15.0)
