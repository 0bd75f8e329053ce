"""The work of each pipeline stage (see graders.pipeline). Each reads and writes `facts`."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from graders import dockerfile as parser
from graders import layers as layers_mod
from graders.course import Lab
from graders.engine import artifacts
from graders.engine import build as builder_mod
from graders.engine import layers as layers_engine
from graders.engine import hadolint, inside as inside_mod, inspect as inspect_mod, probe as probe_mod, run as run_mod
from graders.engine.session import Session
from graders.errors import DockerfileError, EngineError
from graders.facts import Build, Container, Facts, Missing

CONTEXT_LIMIT_BYTES = 512 * 2**20


def copy_submission(facts: Facts, lab: Lab, context: Path) -> None:
    """Copy the submission into a private build context, so grading never touches the learner's files.

    An empty `.git` folder is added when there is none, as a real project would have one: the
    .dockerignore criterion can then see whether .git is kept out of the image.
    """
    total = 0

    def skip_special(folder: str, names: list[str]) -> list[str]:
        nonlocal total
        skipped = []
        for name in names:
            info = os.lstat(os.path.join(folder, name))
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                skipped.append(name)
            elif stat.S_ISREG(info.st_mode):
                total += info.st_size
        if total > CONTEXT_LIMIT_BYTES:
            raise _TooBig(total)
        return skipped

    try:
        shutil.copytree(facts.submission, context, symlinks=True, ignore=skip_special)
    except _TooBig as too_big:
        facts.dockerfile = Missing(
            f"the submission folder holds over {too_big.size // 2**20} MiB; the limit is {CONTEXT_LIMIT_BYTES // 2**20} MiB",
            learner=True,
            fix="move data and model files out of the folder and mount them at run time",
        )
        return
    if not (context / ".git").exists():
        (context / ".git").mkdir()
        (context / ".git" / "HEAD").write_text("ref: refs/heads/main\n")


def static(facts: Facts, lab: Lab, context: Path, needs: set[str]) -> None:
    """Parse the Dockerfile the way BuildKit does, and run hadolint on it."""
    if isinstance(facts.dockerfile, Missing) and facts.dockerfile.learner:
        facts.lint = facts.dockerfile
        return
    try:
        facts.dockerfile = parser.parse_file(context / lab.dockerfile)
    except DockerfileError as error:
        where = f"{lab.dockerfile}:{error.line}" if error.line else lab.dockerfile
        facts.dockerfile = Missing(f"{where}: {error.message}", learner=True, fix=error.fix)
        facts.lint = facts.dockerfile
        return
    facts.lint = hadolint.lint(context / lab.dockerfile)


def build(facts: Facts, lab: Lab, context: Path, session: Session, builder, say) -> None:
    if isinstance(facts.dockerfile, Missing):
        facts.build = facts.image = facts.rebuild = _not_built(facts.dockerfile)
        return
    facts.stand_ins = _stand_ins(session, facts.dockerfile)
    tag = f"dockerlab/{lab.id}:{session.run_id}"
    result = builder_mod.build(
        session.client, builder, context, lab.dockerfile, tag, session.labels, lab.limits.build_seconds,
        lambda step: say("build", step),
    )
    result.error_line = _failed_line(result, facts.dockerfile)
    facts.build = result
    if result.ok:
        return
    infra = builder_mod.infra_reason(result.log)
    if infra:
        facts.build = Missing(f"not gradable here: the build failed for a reason outside the submission: {infra}", learner=False)
    facts.image = facts.rebuild = _not_built(facts.build if isinstance(facts.build, Missing) else None)


def inspect(facts: Facts, client) -> None:
    if isinstance(facts.build, Build) and facts.build.ok:
        facts.image = inspect_mod.image(client, facts.build.image_id, facts.dockerfile.root_base())


def run(facts: Facts, lab: Lab, course_root: Path, session: Session) -> None:
    """Start the service in the sandbox, with the lab's artifacts mounted read-only, and wait for it."""
    if isinstance(facts.image, Missing):
        facts.container = facts.http = facts.inside = facts.image
        return
    sandbox = _sandbox(lab)
    mounts = {str(artifacts.ensure(lab, course_root, m.artifact)): m.target for m in lab.service.mounts}
    container, refused = run_mod.start(session, facts.image.id, sandbox, lab.service.env, facts.image.healthcheck, mounts)
    if refused:
        facts.container = Container(False, None, refused, None, [], None, None)
        facts.http = Missing(f"the container could not start: {refused[:300]}", learner=True)
        return
    facts.container = run_mod.watch(session.client, container, lab.service.port, sandbox.start_seconds)
    if not facts.container.running:
        last = (facts.container.logs.strip().splitlines() or ["(no output)"])[-1][:200]
        facts.http = Missing(
            f"the container exited with code {facts.container.exit_code} before it could be probed; its last log line: {last}",
            learner=True,
        )


def probe(facts: Facts, bound) -> None:
    if isinstance(facts.container, Missing) or not facts.container.running:
        return  # `run` has already said why there is nothing to probe
    if facts.container.address is None:
        raise EngineError("the container has no address the grader can reach")
    requests = {r.key: r for item in bound for r in item.check.requests(item.params)}
    facts.http = {key: probe_mod.send(facts.container.address, request) for key, request in requests.items()}


def inside(facts: Facts, lab: Lab, session: Session, bound) -> None:
    """Ask the checks' questions: about the image in an idle twin with nothing mounted, about the
    running process in the service (or in the twin, if the service died)."""
    queries = list(dict.fromkeys(q for item in bound for q in item.check.queries(item.params)))
    if isinstance(facts.container, Missing):
        facts.inside = facts.container
        return
    twin = None
    if any(q.where == "image" for q in queries) or not facts.container.running:
        twin = run_mod.start_idle(session, facts.image.id, _sandbox(lab)).id
    service = session.name("service") if facts.container.running else twin
    answers = inside_mod.answer(twin, [q for q in queries if q.where == "image"]) if twin else {}
    answers.update(inside_mod.answer(service, [q for q in queries if q.where == "service"]))
    facts.inside = answers


def rebuild(facts: Facts, lab: Lab, context: Path, session: Session, builder, bound, say) -> None:
    """Change application files only, rebuild, and keep the second build's steps."""
    if not (isinstance(facts.build, Build) and facts.build.ok):
        return
    for relative in dict.fromkeys(p for item in bound for p in item.check.touches(item.params)):
        path = context / relative
        if not path.is_file():
            facts.rebuild = Missing(f"{relative} is not in the submission, so the cache could not be tested", learner=True)
            return
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# changed by the grader to test the layer cache ({session.run_id})\n")
    tag = f"dockerlab/{lab.id}:{session.run_id}-rebuild"
    result = builder_mod.build(
        session.client, builder, context, lab.dockerfile, tag, session.labels, lab.limits.build_seconds,
        lambda step: say("cache", step),
    )
    if not result.ok:
        raise EngineError(f"the second build failed although the first passed: {result.error}")
    facts.rebuild = result


def baseline(facts: Facts, lab: Lab, course_root: Path, context: Path, session: Session, builder, say) -> None:
    """Build the lab's own comparison Dockerfile (never the learner's copy) from the learner's context."""
    if not (isinstance(facts.build, Build) and facts.build.ok):
        facts.baseline = Missing("the image did not build, so there is nothing to compare", learner=True)
        return
    with tempfile.TemporaryDirectory(prefix="dockerlab-baseline-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        shutil.copy(course_root / lab.folder / lab.baseline, dockerfile)
        tag = f"dockerlab/{lab.id}:{session.run_id}-baseline"
        result = builder_mod.build(session.client, builder, context, str(dockerfile), tag, session.labels,
                                   lab.limits.build_seconds, lambda step: say("baseline", step))
    if not result.ok:
        raise EngineError(f"the comparison build ({lab.baseline}) failed on this folder: {result.error}")
    facts.baseline = inspect_mod.image(session.client, result.image_id, facts.image.base_ref)


def efficiency(facts: Facts, session: Session) -> None:
    """Layer efficiency as dive counts it, from the image's own layers."""
    if isinstance(facts.image, Missing):
        facts.efficiency = facts.image
        return
    layers, history_index = layers_engine.entries(session.client, facts.image.id)
    facts.efficiency = layers_mod.efficiency(layers)
    facts.efficiency.history_index = history_index


def _not_built(why: Missing | None) -> Missing:
    if why is not None and not why.learner:
        return why
    reason = why.reason if why is not None else "the image did not build (see the 'builds' criterion)"
    return Missing(reason, learner=True, fix=why.fix if why is not None else "")


def _failed_line(result: Build, dockerfile) -> int | None:
    failed = [step for step in result.steps if step.failed]
    if not failed:
        return None
    wanted = " ".join(failed[-1].instruction.split())
    for instruction in dockerfile.instructions:
        if " ".join(instruction.text().split()) == wanted:
            return instruction.line
    return None


def _stand_ins(session: Session, dockerfile) -> list[str]:
    found = []
    for stage in dockerfile.stages:
        if dockerfile.stage(stage.base) is None:
            label = inspect_mod.stand_in(session.client, stage.base)
            if label and label not in found:
                found.append(label)
    return found


def _sandbox(lab: Lab) -> run_mod.Sandbox:
    limits = lab.limits
    return run_mod.Sandbox(limits.memory_mb, limits.cpus, limits.pids, limits.run_seconds)


class _TooBig(Exception):
    def __init__(self, size: int):
        self.size = size
