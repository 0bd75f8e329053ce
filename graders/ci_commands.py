"""The docker commands a learner's CI script may have the grader run, read from their argv.

Lab 05's `ci/build.sh` runs in a sandbox with no engine: its `docker` is a relay that hands each
command's argv to the grader (graders.engine.ci_relay). This module decides, without an engine,
what such an argv asks for, or why it is refused. The rules keep a script inside its grading:
- images are named only under the grading's own registry (`$REGISTRY/...`): a tag like
  `python:3.11-slim` would replace a course base image on the grader's engine;
- a build's context and Dockerfile are inside the submission;
- a cache is read only from that registry (nothing leaves the machine);
- build secrets are the grader's, by id: a script names `--secret id=index_token`, never its value.
What is refused comes back to the script as the docker CLI's own errors do: a message on stderr and
exit code 1, which the script's log keeps for the learner.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

ROOT = "/work"
"""Where the submission lies in the CI sandbox (the script's working directory)."""


@dataclass(frozen=True)
class Build:
    """`docker build` / `docker buildx build`: paths relative to the submission's root."""

    context: str
    dockerfile: str
    tags: tuple[str, ...]
    args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    cache_from: tuple[str, ...] = ()
    inline_cache: bool = False
    secrets: tuple[str, ...] = ()
    target: str | None = None
    push: bool = False
    quiet: bool = False
    iidfile: str | None = None
    """Sandbox paths the CLI would write: the image id, buildx's metadata (with containerimage.digest)."""
    metadata_file: str | None = None
    notes: tuple[str, ...] = ()
    """What was left out, said on the script's stderr (a --cache-from outside the registry)."""


@dataclass(frozen=True)
class Push:
    ref: str
    quiet: bool = False


@dataclass(frozen=True)
class Tag:
    source: str
    target: str


@dataclass(frozen=True)
class Inspect:
    refs: tuple[str, ...]
    format: str | None = None


@dataclass(frozen=True)
class Pull:
    ref: str


@dataclass(frozen=True)
class Login:
    registry: str


@dataclass(frozen=True)
class Answer:
    """A command answered without the engine (`docker version`, a refusal): its output and exit code."""

    stdout: str = ""
    stderr: str = ""
    code: int = 0


Command = Build | Push | Tag | Inspect | Pull | Login | Answer

# flags of `docker build` / `buildx build` that take a value, and those that take none
_BUILD_VALUED = {"-t", "--tag", "-f", "--file", "--build-arg", "--label", "--cache-from", "--cache-to", "--secret",
                 "--target", "--progress", "--platform", "--iidfile", "--metadata-file", "--network", "--provenance",
                 "--sbom", "--output", "-o", "--ssh", "--add-host", "--builder", "--shm-size", "--ulimit", "--allow",
                 "--attest", "--annotation", "--build-context", "--cgroup-parent", "--call", "--check"}
_BUILD_FLAGS = {"--pull", "--no-cache", "-q", "--quiet", "--push", "--load", "--rm", "--force-rm"}
_BUILD_IGNORED = {"--progress", "--platform", "--provenance", "--sbom", "--builder", "--pull", "--load", "--rm",
                  "--force-rm"}
"""Accepted and left to the grader: how progress is drawn, the only platform there is, attestations
(Engine 20.10's builder makes none), the builder (the grader's own sandbox)."""
_BUILD_REFUSED = {
    "--network": "a CI build here has the network the grader gives every build",
    "--output": "this CI pushes images; write `--push` (or build, then `docker push`)",
    "-o": "this CI pushes images; write `--push` (or build, then `docker push`)",
    "--ssh": "no SSH agent is forwarded to builds here",
    "--add-host": "builds here cannot add host names",
    "--shm-size": "builds here run in the grader's build sandbox",
    "--ulimit": "builds here run in the grader's build sandbox",
    "--allow": "builds here get no extra privileges",
    "--cgroup-parent": "builds here run in the grader's build sandbox",
    "--no-cache": "the point of this CI is its cache: a build that ignores it is not what it would run",
}


def vet(argv: list[str], cwd: str, env: dict[str, str], registry: str, secrets: tuple[str, ...] = ()) -> Command:
    """What `docker ARGV`, run in directory `cwd` of the sandbox with environment `env`, asks of the
    grader's engine; an Answer (exit code 1 for a refusal) when the grader answers it itself."""
    words = list(argv)
    while words and words[0] in ("--debug", "-D"):
        words = words[1:]
    if not words:
        return _refuse("docker: give a command (this CI runs build, buildx build, push, tag, pull, inspect, login)")
    head, rest = words[0], words[1:]
    if head == "image" and rest:
        head, rest = rest[0], rest[1:]
    if head == "buildx":
        if rest[:1] in (["build"], ["b"]):
            return _build(rest[1:], cwd, env, registry, secrets)
        if rest[:1] == ["version"]:
            return Answer("github.com/docker/buildx (the grader's relay)\n")
        return _refuse(f"docker buildx {' '.join(rest[:1])}: this CI runs only `docker buildx build`")
    if head in ("build", "builder") and (head == "build" or rest[:1] == ["build"]):
        return _build(rest if head == "build" else rest[1:], cwd, env, registry, secrets)
    if head == "push":
        return _one_ref(rest, "push", registry, lambda ref, quiet: Push(ref, quiet), quiet_flags=("-q", "--quiet"))
    if head == "pull":
        return _one_ref(rest, "pull", registry, lambda ref, quiet: Pull(ref), quiet_flags=("-q", "--quiet"))
    if head == "tag":
        if len(rest) != 2 or any(word.startswith("-") for word in rest):
            return _refuse("docker tag: give SOURCE and TARGET (docker tag SOURCE_IMAGE TARGET_IMAGE)")
        for ref in rest:
            if why := _outside(ref, registry):
                return _refuse(f"docker tag: {why}")
        return Tag(rest[0], rest[1])
    if head == "inspect":
        return _inspect(rest, registry)
    if head == "login":
        positional = _positional(rest, {"-u", "--username", "-p", "--password"})
        if positional and positional[0] != registry:
            return _refuse(f"docker login {positional[0]}: this CI's registry is {registry}")
        return Login(registry)
    if head == "version":
        return Answer("Client: the grader's relay to its Docker engine\n")
    return _refuse(f"docker {head}: this CI runs only build, buildx build, push, tag, pull, inspect and login")


def _build(words: list[str], cwd: str, env: dict[str, str], registry: str, secrets: tuple[str, ...]) -> Command:
    options: dict[str, list[str]] = {}
    flags: set[str] = set()
    positional: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        name, has_value, value = word.partition("=") if word.startswith("--") else (word, False, "")
        if name in _BUILD_VALUED:
            if not has_value:
                if index + 1 >= len(words):
                    return _refuse(f"docker build: flag needs an argument: {name}")
                index += 1
                value = words[index]
            options.setdefault(name, []).append(value)
        elif word in _BUILD_FLAGS:
            flags.add(word)
        elif word.startswith("-") and word != "-":
            return _refuse(f"docker build: unknown flag: {word}")
        else:
            positional.append(word)
        index += 1
    for name in (*options, *flags):
        if name in _BUILD_REFUSED:
            return _refuse(f"docker build {name}: {_BUILD_REFUSED[name]}")
    if len(positional) != 1:
        return _refuse('docker build: give exactly one context, the folder to build (usually ".")')
    context = _inside(positional[0], cwd)
    if context is None:
        return _refuse(f"docker build: the context {positional[0]!r} is outside the submission ({ROOT})")
    file_word = _last(options, "-f", "--file")
    dockerfile = _inside(file_word, cwd) if file_word else posixpath.normpath(posixpath.join(context, "Dockerfile"))
    if dockerfile is None:
        return _refuse(f"docker build: the Dockerfile {file_word!r} is outside the submission ({ROOT})")
    tags = tuple(options.get("-t", []) + options.get("--tag", []))
    for tag in tags:
        if why := _outside(tag, registry):
            return _refuse(f"docker build -t {tag}: {why}")
    args: dict[str, str] = {}
    for item in options.get("--build-arg", []):
        key, has_value, value = item.partition("=")
        if has_value:
            args[key] = value
        elif key in env:  # `--build-arg NAME` takes NAME's value from the environment, as the CLI does
            args[key] = env[key]
    labels = dict(item.partition("=")[::2] for item in options.get("--label", []))
    if ours := [key for key in labels if key.startswith("org.dockerlab.")]:
        return _refuse(f"docker build --label {ours[0]}: labels under org.dockerlab. are the grader's")
    cache_from, notes = [], []
    for item in options.get("--cache-from", []):
        ref = _cache_ref(item)
        if ref is None:
            return _refuse(f"docker build --cache-from {item}: this CI reads a cache from an image in its registry "
                           f"(--cache-from {registry}/NAME:TAG, or type=registry,ref=...)")
        if _outside(ref, registry):
            notes.append(f"--cache-from {ref}: not in this CI's registry ({registry}); left out")
        else:
            cache_from.append(ref)
    inline = args.get("BUILDKIT_INLINE_CACHE") == "1"
    for item in options.get("--cache-to", []):
        fields = _fields(item)
        if fields.get("type") != "inline":
            return _refuse(f"docker build --cache-to {item}: ERROR: cache export feature is currently not supported for "
                           "docker driver (write --cache-to type=inline, or --build-arg BUILDKIT_INLINE_CACHE=1)")
        inline = True
    args.pop("BUILDKIT_INLINE_CACHE", None)
    wanted: list[str] = []
    for item in options.get("--secret", []):
        secret = _fields(item).get("id") or ""
        if secret not in secrets:
            known = ", ".join(secrets) or "none"
            return _refuse(f"docker build --secret {item}: this CI provides the secrets {known} (--secret id=NAME)")
        wanted.append(secret)
    targets = options.get("--target", [])
    push = "--push" in flags
    if push and not tags:
        return _refuse("docker build --push: give the image a name to push (-t $REGISTRY/NAME:TAG)")
    return Build(context, dockerfile, tags, args, labels, tuple(cache_from), inline, tuple(wanted),
                 targets[-1] if targets else None, push, bool(flags & {"-q", "--quiet"}),
                 _sandbox_path(_last(options, "--iidfile"), cwd), _sandbox_path(_last(options, "--metadata-file"), cwd),
                 tuple(notes))


def _last(options: dict[str, list[str]], *names: str) -> str | None:
    values = [value for name in names for value in options.get(name, [])]
    return values[-1] if values else None


def _inspect(words: list[str], registry: str) -> Command:
    template: str | None = None
    refs: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("-f", "--format"):
            if index + 1 >= len(words):
                return _refuse(f"docker inspect: flag needs an argument: {word}")
            template, index = words[index + 1], index + 2
            continue
        if word.startswith("--format="):
            template = word.split("=", 1)[1]
        elif word == "--type=image" or word == "--type":
            index += 2 if word == "--type" else 1
            continue
        elif word.startswith("-"):
            return _refuse(f"docker inspect: unknown flag: {word}")
        else:
            refs.append(word)
        index += 1
    if not refs:
        return _refuse("docker inspect: give the image to inspect")
    for ref in refs:
        if why := _outside(ref, registry):
            return _refuse(f"docker inspect {ref}: {why}")
    return Inspect(tuple(refs), template)


def _one_ref(words: list[str], verb: str, registry: str, make: Callable[[str, bool], Command],
             quiet_flags: tuple[str, ...]) -> Command:
    quiet = any(word in quiet_flags for word in words)
    refs = [word for word in words if not word.startswith("-")]
    unknown = [word for word in words if word.startswith("-") and word not in quiet_flags]
    if unknown:
        return _refuse(f"docker {verb}: unknown flag: {unknown[0]}")
    if len(refs) != 1:
        return _refuse(f"docker {verb}: give one image (docker {verb} $REGISTRY/NAME:TAG)")
    if why := _outside(refs[0], registry):
        return _refuse(f"docker {verb} {refs[0]}: {why}")
    return make(refs[0], quiet)


def _outside(ref: str, registry: str) -> str:
    """Why `ref` is not an image of this CI's registry ("" when it is)."""
    if not ref.startswith(registry + "/") or len(ref) == len(registry) + 1:
        return f"name images in this CI's registry: {registry}/NAME:TAG (its address is in $REGISTRY)"
    name = ref[len(registry) + 1:].split("@", 1)[0].split(":", 1)[0]  # past the host, a ':' starts the tag
    if not name or any(not (c.islower() or c.isdigit() or c in "._-/") for c in name):
        return f"{ref!r} is not a valid image name (lower case letters, digits, '.', '_', '-' and '/')"
    return ""


def _cache_ref(item: str) -> str | None:
    if "=" not in item:
        return item
    fields = _fields(item)
    if fields.get("type", "registry") != "registry":
        return None
    return fields.get("ref")


def _fields(item: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in item.split(","))


def _positional(words: list[str], valued: set[str]) -> list[str]:
    found, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in valued:
            skip = True
        elif not word.startswith("-"):
            found.append(word)
    return found


def _inside(path: str | None, cwd: str) -> str | None:
    """`path` (relative to `cwd`) as a path relative to the submission's root; None when outside it."""
    if path is None:
        return None
    full = posixpath.normpath(posixpath.join(cwd, path))
    if full == ROOT:
        return "."
    if not full.startswith(ROOT + "/"):
        return None
    return full[len(ROOT) + 1:]


def _sandbox_path(path: str | None, cwd: str) -> str | None:
    return posixpath.normpath(posixpath.join(cwd, path)) if path else None


def _refuse(message: str) -> Answer:
    return Answer(stderr=message.rstrip() + "\n", code=1)
