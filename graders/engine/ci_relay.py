"""A learner's CI script (Lab 05's `ci/build.sh`) run with the grader as its `docker`.

The script is untrusted, so it never meets the engine. It runs in a sandbox container (no network,
no capabilities, limits on memory, processes and time) with the submission at /work and a relay on
its PATH as `docker`. Each `docker ...` the script runs becomes one request line on the container's
stdout; the grader reads it (graders.ci_commands says what it asks, or why it is refused), runs it
on the engine (builds in the build sandbox, pushes to the course registry), and puts the answer
into the container as a file the relay waits for. The script's own output goes to stderr: its log.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from graders import ci_commands as ci
from graders.engine import boundary
from graders.engine import build as build_mod
from graders.engine import registry as registry_mod
from graders.engine.api import Builder
from graders.engine.build_sandbox import BuildLimits
from graders.engine.session import Session
from graders.facts import CiCommand, CiRun

RELAY = "/tmp/.dockerlab-relay"
LOG_BYTES = 256 * 1024
MOST_COMMANDS = 30
READ_BYTES = 1024 * 1024
SHIM = r'''#!/usr/bin/env python3
"""docker, as this CI sandbox has it: each command goes to the grader, which runs what it allows."""
import fcntl, json, os, sys, time

RELAY = "/tmp/.dockerlab-relay"
argv = sys.argv[1:]
if "--password-stdin" in argv:
    sys.stdin.read()
with open(RELAY + "/lock", "a+") as lock:  # one command at a time, also from scripts that use `&`
    fcntl.flock(lock, fcntl.LOCK_EX)
    lock.seek(0)
    number = int(lock.read() or 0) + 1
    lock.seek(0)
    lock.truncate()
    lock.write(str(number))
    lock.flush()
    request = {"n": number, "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    try:
        os.write(4, ("\x1e" + json.dumps(request) + "\n").encode())
    except OSError:
        sys.exit("docker: the grader's relay is closed (fd 4): this CI script must leave it open")
    done = "%s/%d.done" % (RELAY, number)
    while not os.path.exists(done):
        time.sleep(0.02)
    with open("%s/%d.json" % (RELAY, number)) as answer_file:
        answer = json.load(answer_file)
for path, text in answer.get("files", {}).items():
    with open(path, "w") as out:
        out.write(text)
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("code", 1))
'''
WRAPPER = (f'mkdir -p {RELAY} && exec 4>&1 >&2 </dev/null && '
           'if command -v bash >/dev/null; then exec bash "$0"; else exec sh "$0"; fi')
"""The script's stdout and stderr become the container's stderr (its log); fd 4 is the relay's."""


@dataclass
class CiSandbox:
    image: str
    seconds: int = 300
    memory_mb: int = 256
    pids: int = 64
    cpus: float = 0.5


@boundary
def run_script(client: docker.DockerClient, session: Session, builder: Builder, submission: Path, script: str,
               sandbox: CiSandbox, env: dict[str, str], registry: str, secrets: dict[str, Path], limits: BuildLimits,
               wanted: list[str], progress: Callable[[str], None] = lambda line: None) -> CiRun:
    """Run `script` (a path in the submission) with the grader as its docker; `wanted`: files of the
    submission to read back afterwards (what the script wrote)."""
    container = client.containers.create(
        sandbox.image, ["sh", "-c", WRAPPER, script], name=session.name("ci"), labels=session.labels,
        working_dir=ci.ROOT, environment={**env, "PATH": "/usr/local/bin:/usr/bin:/bin", "CI": "true"},
        network_mode="none", mem_limit=f"{sandbox.memory_mb}m", memswap_limit=f"{sandbox.memory_mb}m",
        pids_limit=sandbox.pids, nano_cpus=int(sandbox.cpus * 1e9), cap_drop=["ALL"],
        security_opt=["no-new-privileges"], entrypoint=[], user="0")
    with tempfile.TemporaryFile() as archive:  # on disk, not in memory: a submission may hold up to 512 MiB
        _tar(submission, archive)
        archive.seek(0)
        container.put_archive("/", archive)
    relay = _Relay(client, session, builder, submission, registry, secrets, limits, container, progress)
    run = CiRun(None, "", registry=registry, env=dict(env))
    timer = threading.Timer(sandbox.seconds, lambda: _kill(container, run))
    container.start()
    timer.start()
    try:
        relay.serve(run)
        run.exit_code = container.wait(timeout=30).get("StatusCode")
    finally:
        timer.cancel()
    for path in wanted:
        run.files[path] = _read(container, f"{ci.ROOT}/{path}")
    # what the registry holds for each ref the script pushed, and for each digest ref the files name
    named = [m.group(0) for text in run.files.values() if text
             for m in re.finditer(rf"{re.escape(registry)}/[a-z0-9._/-]+@sha256:[0-9a-f]{{64}}", text)]
    for ref in dict.fromkeys([*run.pushed, *named]):
        run.held[ref] = registry_mod.digest_of(client, ref)
    return run


class _Relay:
    def __init__(self, client: docker.DockerClient, session: Session, builder: Builder, submission: Path,
                 registry: str, secrets: dict[str, Path], limits: BuildLimits, container: Any,
                 progress: Callable[[str], None]) -> None:
        self.client, self.session, self.builder = client, session, builder
        self.submission, self.registry, self.secrets, self.limits = submission, registry, secrets, limits
        self.container, self.progress = container, progress
        self.notes: list[str] = []
        """What the grader says in the script's log about the relay itself."""
        self.masked = [path.read_text(encoding="utf-8").strip() for path in secrets.values()]
        """The secrets' values: shown as *** in the log and the commands, as CI services mask them."""

    def mask(self, text: str) -> str:
        for value in self.masked:
            if value:
                text = text.replace(value, "***")
        return text

    def serve(self, run: CiRun) -> None:
        pending, log = b"", bytearray()
        stream = self.client.api.attach(self.container.id, stdout=True, stderr=True, stream=True, logs=True, demux=True)
        for out, err in stream:
            if err and len(log) < LOG_BYTES:
                log += err[: LOG_BYTES - len(log)]
            pending += out or b""
            if len(pending) > LOG_BYTES and b"\n" not in pending:  # no request is that long: not the relay's
                pending = b""
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.startswith(b"\x1e"):
                    self._answer(line[1:], run)
                elif len(log) < LOG_BYTES:
                    log += line[: LOG_BYTES - len(log)] + b"\n"
        run.log = self.mask(log.decode(errors="replace") + "".join(f"\n[dockerlab] {note}" for note in self.notes))

    def _answer(self, line: bytes, run: CiRun) -> None:
        try:
            request = json.loads(line)
            number, argv = int(request["n"]), [str(word) for word in request["argv"]]
            cwd, env = str(request.get("cwd") or ci.ROOT), {str(k): str(v) for k, v in dict(request.get("env") or {}).items()}
        except (ValueError, KeyError, TypeError):
            return  # not the relay's: a script that wrote the marker itself gets no answer, and its time runs out
        started = time.monotonic()
        if len(run.commands) >= MOST_COMMANDS:  # the 31st and later are refused
            command: ci.Command = ci.Answer(stderr=f"docker: this CI runs at most {MOST_COMMANDS} docker commands\n", code=1)
        else:
            command = ci.vet(argv, cwd, env, self.registry, tuple(self.secrets))
        self.progress(f"docker {' '.join(argv)[:160]}")
        answer, files, detail = self._run(command, run)
        if len(run.commands) < MOST_COMMANDS:  # the evidence is bounded too; the script's log says the rest
            run.commands.append(CiCommand([self.mask(word) for word in argv], answer.code, type(command).__name__.lower(),
                                          self.mask(detail),
                                          round(time.monotonic() - started, 2)))
        body = json.dumps({"code": answer.code, "stdout": answer.stdout, "stderr": answer.stderr, "files": files})
        try:
            self.container.put_archive(RELAY, _files({f"{number}.json": body, f"{number}.done": ""}))
        except (DockerException, RequestException) as error:
            # the script removed the relay's folder: its own doing, and it fails by it (never "not gradable")
            self.notes.append(f"the answer to `docker {' '.join(argv)[:100]}` could not be handed back "
                              f"({_explain(error)[:100]}); the script waits for it until its time ends")

    def _run(self, command: ci.Command, run: CiRun) -> tuple[ci.Answer, dict[str, str], str]:
        try:
            if isinstance(command, ci.Answer):
                return command, {}, command.stderr.strip()[:200]
            if isinstance(command, ci.Build):
                return self._build(command, run)
            if isinstance(command, ci.Push):
                return self._push(command.ref, command.quiet, run), {}, command.ref
            if isinstance(command, ci.Tag):
                repo, tag = _split(command.target)
                self.client.api.tag(command.source, repo, tag)
                return ci.Answer(), {}, f"{command.source} -> {command.target}"
            if isinstance(command, ci.Pull):
                repo, tag = _split(command.ref)
                self.client.images.pull(repo, tag=tag)
                return ci.Answer(f"{command.ref}\n"), {}, command.ref
            if isinstance(command, ci.Inspect):
                return self._inspect(command), {}, " ".join(command.refs)
            return ci.Answer("Login Succeeded\n"), {}, command.registry
        except (DockerException, RequestException) as error:
            return ci.Answer(stderr=f"Error response from daemon: {_explain(error)}\n", code=1), {}, _explain(error)[:200]

    def _build(self, command: ci.Build, run: CiRun) -> tuple[ci.Answer, dict[str, str], str]:
        for note in command.notes:
            self.progress(note)
        tag = command.tags[0] if command.tags else f"{self.registry}/ci-build:{len(run.commands) + 1}"
        args = {**command.args, **({"BUILDKIT_INLINE_CACHE": "1"} if command.inline_cache else {})}
        result = build_mod.build(self.client, self.builder, self.submission / command.context,
                                 str(self.submission / command.dockerfile), tag, {**command.labels, **self.session.labels},
                                 self.limits, lambda line: self.progress(line), target=command.target, args=args,
                                 secrets={key: self.secrets[key] for key in command.secrets}, cache_from=command.cache_from)
        notes = "".join(f"{note}\n" for note in command.notes)
        log = "\n".join(result.log.splitlines()[-200:])
        if not result.ok or not result.image_id:
            return ci.Answer(stderr=f"{notes}{log}\nERROR: {result.error or 'the build failed'}\n", code=1), {}, \
                (result.error or "failed")[:200]
        for ref in command.tags:
            run.built[ref] = result.image_id
            if ref != tag:
                self.client.api.tag(result.image_id, *_split(ref))
        stderr, digest = notes + (log + "\n" if not command.quiet else ""), ""
        for ref in command.tags if command.push else ():
            pushed = self._push(ref, True, run)
            if pushed.code:
                return ci.Answer(stderr=stderr + pushed.stderr, code=1), {}, f"built, then the push of {ref} failed"
            digest = run.pushed.get(ref, digest)
        files = {}
        if command.iidfile:
            files[command.iidfile] = result.image_id
        if command.metadata_file:
            metadata = {"containerimage.config.digest": result.image_id, "image.name": ",".join(command.tags)}
            if digest:
                metadata["containerimage.digest"] = digest
            files[command.metadata_file] = json.dumps(metadata, indent=2) + "\n"
        stdout = f"{result.image_id}\n" if command.quiet else ""
        return ci.Answer(stdout, stderr), files, f"built {', '.join(command.tags) or tag}" + (" and pushed" if command.push else "")

    def _push(self, ref: str, quiet: bool, run: CiRun) -> ci.Answer:
        repo, tag = _split(ref)
        lines, digest, error = [f"The push refers to repository [{repo}]"], "", ""
        for event in self.client.images.push(repo, tag=tag, stream=True, decode=True):
            if event.get("error"):
                error = str(event["error"])
            elif event.get("aux", {}).get("Digest"):
                digest = str(event["aux"]["Digest"])
                lines.append(f"{tag}: digest: {digest} size: {event['aux'].get('Size', '')}")
            elif event.get("id") and str(event.get("status", "")).startswith(("Pushed", "Layer already", "Mounted from")):
                lines.append(f"{event['id']}: {event['status']}")
            elif match := re.search(r"digest: (sha256:[0-9a-f]{64})", str(event.get("status", ""))):
                digest = match.group(1)
                lines.append(str(event["status"]))
        if not error and not digest:  # an engine whose push reports no digest (the containerd store): ask the registry
            digest = registry_mod.digest_of(self.client, ref) or ""
            lines.append(f"{tag}: digest: {digest}")
        if error or not digest:
            return ci.Answer(stderr="\n".join(lines) + f"\n{error or 'the push gave no digest'}\n", code=1)
        run.pushed[ref] = digest
        return ci.Answer(f"{ref}\n" if quiet else "\n".join(lines) + "\n")

    def _inspect(self, command: ci.Inspect) -> ci.Answer:
        if command.format is None:
            found = [self.client.api.inspect_image(ref) for ref in command.refs]
            return ci.Answer(json.dumps(found, indent=4) + "\n")
        if not self.builder.cli:
            return ci.Answer(stderr="docker inspect --format: this machine has no docker CLI to read the template\n", code=1)
        try:
            done = subprocess.run([self.builder.cli, "image", "inspect", "--format", command.format, *command.refs],
                                  capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:  # the template's doing: the script's failure, not the machine's
            return ci.Answer(stderr="docker inspect: the template took longer than 30 s\n", code=1)
        return ci.Answer(done.stdout[:LOG_BYTES], done.stderr[:LOG_BYTES], done.returncode)


def _split(ref: str) -> tuple[str, str | None]:
    """`host:port/name:tag` -> (`host:port/name`, `tag`); a digest stays in the name, as the SDK wants it."""
    if "@" in ref:
        return ref, None
    last = ref.rsplit("/", 1)
    if ":" in last[-1]:
        repo, tag = ref.rsplit(":", 1)
        return repo, tag
    return ref, "latest"


def _explain(error: Exception) -> str:
    explanation = getattr(error, "explanation", None)
    return str(explanation or error)


def _kill(container: Any, run: CiRun) -> None:
    run.timed_out = True
    try:
        container.kill()
    except (DockerException, RequestException):
        pass


def _read(container: Any, path: str) -> str | None:
    """A file the script left, up to READ_BYTES (None: not there, not a file, or larger)."""
    try:
        stream, stat = container.get_archive(path)
        if int(stat.get("size", 0)) > READ_BYTES or not _regular(int(stat.get("mode", 0))):
            return None
        data = b"".join(stream)
    except (DockerException, RequestException):
        return None
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = next((m for m in archive.getmembers() if m.isfile()), None)
        if member is None or member.size > READ_BYTES:
            return None
        handle = archive.extractfile(member)
        return handle.read().decode(errors="replace") if handle else None


def _tar(submission: Path, out: IO[bytes]) -> None:
    """The submission under work/, and the relay as usr/local/bin/docker, written to `out`."""
    with tarfile.open(fileobj=out, mode="w") as archive:
        archive.add(submission, arcname=ci.ROOT.strip("/"))
        shim = SHIM.encode()
        info = tarfile.TarInfo("usr/local/bin/docker")
        info.size, info.mode = len(shim), 0o755
        archive.addfile(info, io.BytesIO(shim))


def _files(texts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, text in texts.items():  # in order: the answer first, then the mark that it is whole
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


GO_TYPE_BITS = (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)
"""Go's os.ModeType (dir, symlink, device, named pipe, socket, char device, irregular), as the API's stat gives it."""


def _regular(mode: int) -> bool:
    return mode & GO_TYPE_BITS == 0
