"""The hostile-input corpus: submissions a stranger could send, each with the result it must get.

A case is a learner's folder (or archive) and what its result must say: `(criterion, statuses,
words)` means that criterion's status is one of `statuses` and its message holds `words`;
criterion "*" means the whole submission was refused (every criterion carries the words).
"""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "01-basic-dockerfile"
SERVER = Path(__file__).parent / "files" / "server.py"
FAILED = {"failed"}
SERVICE = "FROM python:3.11-slim\nCOPY server.py /server.py\nEXPOSE 8000\n"


@dataclass(frozen=True)
class Case:
    name: str
    criterion: str
    statuses: frozenset
    words: str


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    shutil.copytree(ROOT / "labs" / "01-basic-dockerfile", folder)
    for file in ("Dockerfile", ".dockerignore"):
        shutil.copy(SOLUTION / file, folder / file)
    return folder


def _dockerfile(root: Path, name: str, content: str | bytes) -> Path:
    folder = _folder(root, name)
    path = folder / "Dockerfile"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def _service(root: Path, name: str, cmd: str) -> Path:
    folder = _dockerfile(root, name, SERVICE + f"CMD {cmd}\n")
    shutil.copy(SERVER, folder / "server.py")
    return folder


def lab01(root: Path) -> list[Case]:
    """Write every Lab 01 case under `root` (folders and archives) and return what each must get."""
    solution = (SOLUTION / "Dockerfile").read_text()
    cases: list[Case] = []

    def case(name: str, criterion: str, words: str, statuses=FAILED) -> None:
        cases.append(Case(name, criterion, frozenset(statuses), words))

    # Dockerfiles the grader must refuse before any engine work
    _dockerfile(root, "empty", "")
    case("empty", "builds", "no instructions")
    _dockerfile(root, "binary", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    case("binary", "builds", "binary file")
    _dockerfile(root, "latin1", b"FROM python:3.11-slim\n# caf\xe9\n")
    case("latin1", "builds", "not UTF-8")
    _dockerfile(root, "unknown-instruction", "FROM python:3.11-slim\nFROBNICATE everything\n")
    case("unknown-instruction", "builds", "FROBNICATE")
    _dockerfile(root, "5k-instructions", "FROM python:3.11-slim\n" + "ENV A=1\n" * 5000)
    case("5k-instructions", "builds", "the limit is 1,000")
    _dockerfile(root, "100k-instructions", "FROM python:3.11-slim\n" + "ENV A=1\n" * 100_000)
    case("100k-instructions", "builds", "bytes; the limit is")
    _dockerfile(root, "10mb", "FROM python:3.11-slim\n# " + "x" * 10 * 2**20 + "\n")
    case("10mb", "builds", "bytes; the limit is")
    linked = _folder(root, "link-to-host")
    (linked / "Dockerfile").unlink()
    (linked / "Dockerfile").symlink_to("/etc/shadow")
    case("link-to-host", "builds", "link to a file outside")
    ignore = _folder(root, "dockerignore-to-host")
    (ignore / ".dockerignore").unlink()
    (ignore / ".dockerignore").symlink_to("/etc/shadow")
    case("dockerignore-to-host", "builds", ".dockerignore is a link to something outside")
    _folder(root, "huge-dockerignore").joinpath(".dockerignore").write_text("*.tmp\n" * 20_000)
    case("huge-dockerignore", "builds", ".dockerignore is over 64 KiB")
    folder = _folder(root, "dockerfile-is-a-folder")
    (folder / "Dockerfile").unlink()
    (folder / "Dockerfile").mkdir()
    case("dockerfile-is-a-folder", "builds", "is not a file")

    # Dockerfiles that must build as the solution does
    _dockerfile(root, "bom", "\ufeff" + solution)
    case("bom", "builds", "", {"passed"})
    _dockerfile(root, "crlf", solution.replace("\n", "\r\n"))
    case("crlf", "builds", "", {"passed"})

    # Build steps that must be stopped at the build sandbox's limits
    _dockerfile(root, "from-nowhere", "FROM dockerlab-test/does-not-exist:1.0\nRUN true\n")
    case("from-nowhere", "builds", "dockerlab-test/does-not-exist:1.0", {"failed", "not_gradable"})
    _dockerfile(root, "build-fork-bomb", "FROM python:3.11-slim\nRUN for i in $(seq 1 2000); do sleep 60 & done; wait\n")
    case("build-fork-bomb", "builds", "limit of 512 processes")
    _dockerfile(root, "build-memory-hog", "FROM python:3.11-slim\nRUN python -c \"b = bytearray(6 * 2**30)\"\n")
    case("build-memory-hog", "builds", "memory limit of 4096 MB")
    _dockerfile(root, "build-disk-filler", "FROM python:3.11-slim\nRUN dd if=/dev/zero of=/fill bs=1M count=3072\n")
    case("build-disk-filler", "builds", "wrote over 2,048 MB")

    # Running containers that misbehave
    _service(root, "run-fork-bomb", '["sh", "-c", "for i in $(seq 1 2000); do sleep 600 & done; wait"]')
    case("run-fork-bomb", "health-endpoint", "limit of 256 processes")
    _service(root, "run-memory-hog", '["python", "-c", "b = bytearray(6 * 2**30)"]')
    case("run-memory-hog", "health-endpoint", "memory limit of 1024 MB")
    _service(root, "busy-loop", '["python", "-c", "while True: pass"]')
    case("busy-loop", "health-endpoint", "not listening on port 8000 at the end of the run stage's start budget")
    _service(root, "2gb-of-logs", '["python", "/server.py", "logs"]')
    case("2gb-of-logs", "health-endpoint", "")
    _service(root, "hangs", '["python", "/server.py", "hang"]')
    case("hangs", "health-endpoint", "timed out after 5 s")
    _service(root, "huge-body", '["python", "/server.py", "huge"]')
    case("huge-body", "predict", "")
    _service(root, "redirects-forever", '["python", "/server.py", "redirect"]')
    case("redirects-forever", "health-endpoint", "more than 5 redirects")
    _service(root, "cuts-the-answer", '["python", "/server.py", "cut"]')
    case("cuts-the-answer", "health-endpoint", "broke off its answer")

    # Archives
    _zip(root / "zip-climbs.zip", {"../evil/Dockerfile": b"FROM x\n"})
    case("zip-climbs", "*", "climbs out of its folder")
    _tar(root / "tar-absolute.tar.gz", [_member("/etc/cron.d/evil")])
    case("tar-absolute", "*", "absolute path")
    _tar(root / "tar-symlink.tar.gz", [_member("Dockerfile", tarfile.SYMTYPE, link="/etc/shadow")])
    case("tar-symlink", "*", "links are not accepted")
    _tar(root / "tar-hardlink.tar.gz", [_member("Dockerfile", tarfile.LNKTYPE, link="/etc/shadow")])
    case("tar-hardlink", "*", "links are not accepted")
    _tar(root / "tar-device.tar.gz", [_member("disk", tarfile.BLKTYPE)])
    case("tar-device", "*", "special file")
    _zip_bomb(root / "zip-bomb.zip")
    case("zip-bomb", "*", "unpacks to over 512 MiB")
    _million_files(root / "million-files.tar.gz")
    case("million-files", "*", "holds over 20000 files")
    (root / "not-an-archive.zip").write_bytes(b"this is not a zip file")
    case("not-an-archive", "*", "cannot be read")
    return cases


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(zipfile.ZipInfo(name), data)


def _member(name: str, kind=tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 0
    return info


def _tar(path: Path, members: list[tarfile.TarInfo]) -> None:
    with tarfile.open(path, "w:gz") as tarred:
        for info in members:
            tarred.addfile(info, io.BytesIO(b"") if info.isfile() else None)


def _zip_bomb(path: Path) -> None:
    """600 MiB of zeros deflated to well under a megabyte."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        with zipped.open("Dockerfile", "w", force_zip64=True) as sink:
            block = bytes(2**20)
            for _ in range(600):
                sink.write(block)


def _million_files(path: Path, count: int = 1_000_000) -> None:
    """A gzipped tar of a million empty files, its headers written directly (tarfile is slow at this)."""
    template = bytearray(tarfile.TarInfo("f0000000").tobuf(tarfile.USTAR_FORMAT))
    with gzip.open(path, "wb", compresslevel=1) as sink:
        for number in range(count):
            header = bytearray(template)
            header[0:8] = b"f%07d" % number
            header[148:156] = b"        "
            header[148:156] = b"%06o\0 " % sum(header)
            sink.write(header)
        sink.write(bytes(1024))


def lab04_compose(root: Path) -> dict[str, tuple[str, str]]:
    """Lab 04 folders whose compose files are hostile: name -> (how it ends, words in the result)."""
    lab = ROOT / "labs" / "04-compose-stack"
    solution = ROOT / "solutions" / "04-compose-stack"

    def folder(name: str, compose: str | None = None) -> Path:
        path = root / name
        shutil.copytree(lab, path)
        for item in solution.iterdir():
            target = path / item.name
            if item.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                shutil.copy(item, target)
        if compose is not None:
            (path / "compose.yaml").write_text(compose)
        return path

    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    merges = ["m0: &m0 {" + ", ".join(f"k{j}: {j}" for j in range(10)) + "}"]
    merges += [f"m{i}: &m{i} {{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(10)) + f", <<: *m{i - 1}}}"
               for i in range(1, 9)]
    expected = {
        "alias-bomb": ("compose", "expand to over 100,000 values"),
        "merge-key-bomb": ("compose", "expand to over 100,000 values"),
        "10mb-compose": ("compose", "MiB; the limit is 1 MiB"),
        "wrong-types": ("compose", "Compose refuses it"),
        "privileged-in-extends": ("refused", "privileged"),
        "host-mount-in-included-file": ("refused", "/etc"),
        "env-file-dev-zero": ("refused", "outside the submission folder"),
        "recursive-alias": ("compose", "refers to the value that contains it"),
    }
    folder("alias-bomb", "x-bomb:\n  " + "\n  ".join(levels) + "\nservices:\n  api: {image: python:3.11-slim}\n")
    folder("merge-key-bomb", "x-bomb:\n  " + "\n  ".join(merges) + "\nservices:\n  api: {image: python:3.11-slim}\n")
    folder("10mb-compose", "services:\n  api: {image: python:3.11-slim}\n# " + "x" * 10 * 2**20 + "\n")
    folder("wrong-types", "services:\n  api:\n    image: python:3.11-slim\n    ports: {not: a list}\n    mem_limit: [1]\n")
    extends = folder("privileged-in-extends")
    (extends / "base.yaml").write_text("services:\n  base:\n    image: python:3.11-slim\n    privileged: true\n")
    text = (extends / "compose.yaml").read_text()
    sneaky = "services:\n  sneaky:\n    extends: {file: base.yaml, service: base}\n"
    (extends / "compose.yaml").write_text(text.replace("services:\n", sneaky, 1))
    included = folder("host-mount-in-included-file")
    (included / "more.yaml").write_text("services:\n  extra:\n    image: python:3.11-slim\n    volumes: ['/etc:/host-etc:ro']\n")
    (included / "compose.yaml").write_text("include: [more.yaml]\n" + (included / "compose.yaml").read_text())
    zero = folder("env-file-dev-zero")
    text = (zero / "compose.yaml").read_text()
    leak = "services:\n  leak:\n    image: python:3.11-slim\n    env_file: /dev/zero\n"
    (zero / "compose.yaml").write_text(text.replace("services:\n", leak, 1))
    folder("recursive-alias", "x-loop: &loop\n  again: *loop\nservices:\n  api: {image: python:3.11-slim}\n")
    return expected

