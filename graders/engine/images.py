"""Making the course's base images present: pulled from a registry, or built as labelled stand-ins.

Stand-ins (no registry in reach):
  debootstrap  a Debian root file system (`debootstrap --variant=minbase SUITE`), slimmed the way
               the official slim images are, and `docker import`ed.
  python       CPython built from Debian's source package into /usr/local, as the official image is
               (upstream layout: site-packages, venv, pip); see docker/stand-ins/python.Dockerfile.
  redis        Debian's redis-server, run as the official image runs it (docker/stand-ins/redis.*).
  postgres     Debian's postgresql-15 behind the official image's entrypoint (docker/stand-ins/postgres.*).
  registry     Debian's docker-registry (Distribution 2.8), configured as the official image is.
Each carries the label org.dockerlab.stand-in=<the ref it stands in for>.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, DockerException, ImageNotFound

from graders.course import BaseImage
from graders.engine import boundary
from graders.engine.inspect import STAND_IN_LABEL
from graders.errors import EngineError

RECIPES = Path("docker/stand-ins")  # under the course root
CA_PATH = "/usr/local/share/dockerlab/ca-bundle.crt"
VERSION_LABEL = "org.dockerlab.stand-in.version"
RECIPE_VERSIONS = {"debootstrap": "2", "python": "3", "redis": "1", "postgres": "1", "registry": "1"}
DESCRIPTIONS = {
    "debootstrap": "Debian minbase root file system",
    "python": "CPython 3.11 built from source",
    "redis": "Debian's redis-server",
    "postgres": "Debian's postgresql-15",
    "registry": "Debian's docker-registry",
}  # bump when a recipe changes what it makes
DURATIONS = {"python": "about 3 minutes on 2 cores"}
SLIM_EXCLUDES = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian"]
DPKG_SLIM = """\
# As in the official slim images: keep documentation out of every package installed later.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
"""
# As in the official Debian images: apt keeps no downloaded packages or caches in a layer.
APT_CLEAN = {
    "docker-clean": (
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
    ),
    "docker-no-languages": 'Acquire::Languages "none";\n',
    "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n',
}


@dataclass
class Prepared:
    ref: str
    action: str  # "present", "pulled", "stand-in built", "unavailable" (optional image), "failed"
    detail: str = ""


@boundary
def prepare(client: docker.DockerClient, base_images: list[BaseImage], *, offline: bool, ca_bundle: Path | None, recipes: Path,
            say: Callable[[str], None] = lambda text: None) -> list[Prepared]:
    done: list[Prepared] = []
    rebuilt: set[str] = set()
    for image in _in_build_order(base_images):
        stale_base = image.from_image in rebuilt
        if present(client, image.ref) and not _outdated(client, image) and not stale_base:
            label = _label(client, image.ref)
            done.append(Prepared(image.ref, "present", f"stand-in for {label}" if label else "real image"))
            continue
        if not offline:
            say(f"pulling {image.ref}")
            pulled, why = _pull(client, image.ref)
            if pulled:
                done.append(Prepared(image.ref, "pulled"))
                continue
            say(f"cannot pull {image.ref} ({why}); building a stand-in")
        if image.stand_in is None:
            action = "unavailable" if image.optional else "failed"
            done.append(Prepared(image.ref, action, "no registry in reach and no stand-in recipe" +
                                 (f"; {image.why}" if image.optional and image.why else "")))
            continue
        try:
            if image.stand_in == "debootstrap" or image.from_image is None:  # course.yml: a recipe has `from`
                _debian(client, image.ref, say)
            else:
                _recipe(client, recipes, image.ref, image.stand_in, image.from_image, ca_bundle, say)
            done.append(Prepared(image.ref, "stand-in built", _describe(image, ca_bundle)))
            rebuilt.add(image.ref)
        except EngineError as error:
            done.append(Prepared(image.ref, "failed", str(error)))
    return done


def _in_build_order(base_images: list[BaseImage]) -> list[BaseImage]:
    first = [i for i in base_images if i.stand_in in (None, "debootstrap")]
    return first + [i for i in base_images if i.stand_in not in (None, "debootstrap")]


@boundary
def present(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
        return True
    except ImageNotFound:
        return False


def _label(client: docker.DockerClient, ref: str) -> str | None:
    labels: dict[str, str] = client.images.get(ref).labels or {}
    return labels.get(STAND_IN_LABEL)


def _outdated(client: docker.DockerClient, image: BaseImage) -> bool:
    """A stand-in made by an older recipe (real images are never outdated here)."""
    labels: dict[str, str] = client.images.get(image.ref).labels or {}
    if STAND_IN_LABEL not in labels or image.stand_in is None:
        return False
    return labels.get(VERSION_LABEL, "1") != RECIPE_VERSIONS[image.stand_in]


def _pull(client: docker.DockerClient, ref: str) -> tuple[bool, str]:
    try:
        client.images.pull(ref)
        return True, ""
    except DockerException as error:
        return False, str(error).splitlines()[0][:160]


def _debian(client: docker.DockerClient, ref: str, say: Callable[[str], None]) -> None:
    if os.geteuid() != 0:
        raise EngineError(f"building the {ref} stand-in needs root (debootstrap)", "run it as root, or with sudo")
    if not shutil.which("debootstrap"):
        raise EngineError("debootstrap is not installed", "apt-get install debootstrap (./dev setup does it)")
    suite = ref.split(":", 1)[1].split("-")[0]
    with tempfile.TemporaryDirectory(prefix="dockerlab-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        say(f"debootstrap --variant=minbase {suite} (about 30 s)")
        done = subprocess.run(["debootstrap", "--variant=minbase", suite, str(root)], capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            raise EngineError(f"debootstrap failed: {' / '.join(tail)}", "check that Debian's mirror is reachable")
        _slim(root)
        say(f"importing {ref}")
        changes = ['CMD ["bash"]', f"LABEL {STAND_IN_LABEL}={ref} org.dockerlab.stand-in.recipe=debootstrap-minbase "
                   f"{VERSION_LABEL}={RECIPE_VERSIONS['debootstrap']}"]
        command = ["tar", "-C", str(root), "--numeric-owner", "-c", "."]
        tar = subprocess.Popen(command, stdout=subprocess.PIPE)
        assert tar.stdout is not None  # stdout=PIPE
        try:
            client.api.import_image_from_stream(tar.stdout, repository=ref.split(":")[0], tag=ref.split(":")[1], changes=changes)
        except DockerException as error:
            raise EngineError(f"docker import of {ref} failed: {error}") from error
        finally:
            tar.stdout.close()
            tar.wait()


def _slim(root: Path) -> None:
    for relative in SLIM_EXCLUDES:
        shutil.rmtree(root / relative, ignore_errors=True)
    for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (root / folder).glob("*"):
            if item.is_file():
                item.unlink()
    for item in (root / "var/cache/apt").glob("*.bin"):
        item.unlink()
    (root / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/dpkg/dpkg.cfg.d/docker-slim").write_text(DPKG_SLIM)
    for name, text in APT_CLEAN.items():
        (root / "etc/apt/apt.conf.d" / name).write_text(text)


def _recipe(client: docker.DockerClient, recipes: Path, ref: str, name: str, base: str, ca_bundle: Path | None,
            say: Callable[[str], None]) -> None:
    """Build RECIPES/NAME.Dockerfile on `base`, with the recipe's NAME-*.sh helpers beside it."""
    recipe = (recipes / f"{name}.Dockerfile").read_text()
    if ca_bundle and name == "python":
        recipe += f"ENV PIP_CERT={CA_PATH} SSL_CERT_FILE={CA_PATH} REQUESTS_CA_BUNDLE={CA_PATH}\n"
    with tempfile.TemporaryDirectory(prefix=f"dockerlab-{name}-") as tmp:
        context = Path(tmp)
        (context / "Dockerfile").write_text(recipe)
        for helper in recipes.glob(f"{name}-*.sh"):
            shutil.copy2(helper, context / helper.name)
        bundle = context / "ca-bundle.crt"
        bundle.write_bytes(ca_bundle.read_bytes() if ca_bundle and name == "python" else b"")
        say(f"building {ref} from {DESCRIPTIONS[name]} on {base} ({DURATIONS.get(name, 'about 15 s')})")
        labels = {STAND_IN_LABEL: ref, "org.dockerlab.stand-in.recipe": f"debian-{name}",
                  VERSION_LABEL: RECIPE_VERSIONS[name],
                  "org.dockerlab.ca-bundle": "yes" if ca_bundle and name == "python" else "no"}
        try:
            client.images.build(path=str(context), tag=ref, buildargs={"BASE": base}, labels=labels, rm=True, forcerm=True)
        except (BuildError, APIError) as error:
            raise EngineError(f"building the {ref} stand-in failed: {error}") from error


def _describe(image: BaseImage, ca_bundle: Path | None) -> str:
    if image.stand_in is None or image.stand_in == "debootstrap":
        return DESCRIPTIONS["debootstrap"]
    text = f"{DESCRIPTIONS[image.stand_in]} on {image.from_image}"
    return text + (f", CA bundle {ca_bundle}" if ca_bundle and image.stand_in == "python" else "")
