"""Lab 05's parts that need no engine: the hardening a production service asks for, the revision a
build is labelled with, and the secret search inside a layer (plain or gzip)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from graders import revision
from graders.engine.api import CAPABILITIES, Hardening, Sandbox
from graders.engine.leaks import _in_layer
from graders.stages import hardening


def test_a_service_asks_for_a_read_only_root_a_tmpfs_a_user_and_no_capabilities():
    plan = hardening({"read_only": True, "tmpfs": ["/tmp:size=16m,mode=1777", "/run"], "user": "10001:10001",
                      "cap_drop": ["ALL"]})
    assert plan == Hardening(True, {"/tmp": "size=16m,mode=1777", "/run": ""}, "10001:10001", True, ())
    options = plan.options(Sandbox().options())
    assert options["read_only"] and options["cap_add"] == [] and options["cap_drop"] == ["ALL"]
    assert options["user"] == "10001:10001" and options["security_opt"] == ["no-new-privileges:true"]


def test_the_long_tmpfs_syntax_and_odd_values_are_read_safely():
    plan = hardening({"volumes": [{"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": 16777216}},
                                  {"type": "bind", "source": "/srv", "target": "/srv"}],
                      "tmpfs": "/cache:size=1g;rm -rf /", "user": "root; echo"})
    assert plan.tmpfs == {"/tmp": "size=16777216"} and plan.user is None


def test_capabilities_are_only_ever_taken_away():
    plan = hardening({"cap_drop": ["net_bind_service", "CAP_CHOWN"], "cap_add": ["SYS_ADMIN"]})
    kept = plan.options(Sandbox().options())["cap_add"]
    assert set(kept) == set(CAPABILITIES) - {"NET_BIND_SERVICE", "CHOWN"} and "SYS_ADMIN" not in kept


def test_the_revision_is_the_checked_out_commit(tmp_path):
    git = tmp_path / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
    lab = tmp_path / "repo" / "labs" / "05"
    lab.mkdir(parents=True)
    assert revision.revision(lab) == "a" * 40
    (git / "refs" / "heads" / "main").unlink()
    (git / "packed-refs").write_text("# pack-refs with: peeled\n" + "b" * 40 + " refs/heads/main\n")
    assert revision.revision(lab) == "b" * 40
    (git / "HEAD").write_text("c" * 40 + "\n")  # a detached head
    assert revision.revision(lab) == "c" * 40


def test_without_git_the_revision_is_the_folders_fingerprint(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    first = revision.revision(tmp_path)
    assert first.startswith("sha256:") and len(first) == 23 and revision.revision(tmp_path) == first
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCMD [\"x\"]\n")
    assert revision.revision(tmp_path) != first


def _layer(files: dict[str, bytes], compress: bool) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return gzip.compress(raw) if compress else raw


def test_the_secret_is_found_in_a_layers_file_plain_or_gzip_and_across_a_chunk_boundary(monkeypatch):
    from graders.engine import leaks

    monkeypatch.setattr(leaks, "CHUNK", 64)
    secret = b"dockerlab-canary-0123456789abcdef01234567"
    files = {"app/main.py": b"print('hi')\n", "app/.token": b"x" * 50 + secret + b"\n", "etc/other": b"nothing"}
    for compress in (False, True):
        assert _in_layer(io.BytesIO(_layer(files, compress)), secret) == ["/app/.token"]
    assert _in_layer(io.BytesIO(b"{\"not\": \"a layer\"}"), secret) == []


def test_the_grader_puts_the_secret_outside_the_build_context(tmp_path):
    from graders import course
    from graders.stages import provide

    lab = course.load().lab("05-ship-it")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    provided = provide(lab, Path("solutions/05-ship-it"), scratch)
    assert provided is not None and set(provided.secrets) == {"index_token"}
    path = provided.secrets["index_token"]
    assert path.parent == scratch and path.stat().st_mode & 0o077 == 0
    assert provided.args["INDEX_TOKEN"] == provided.secret("index_token").strip()
    assert provided.args["VERSION"] == "1.2.3" and provided.args["CREATED"].endswith("Z")
    first = provided.args["INDEX_TOKEN"]
    again = provide(lab, Path("solutions/05-ship-it"), scratch)
    # the same value on this machine: a layer the cache kept from an earlier grading holds what is searched for
    assert again is not None and again.args["INDEX_TOKEN"] == first


def test_each_machine_has_its_own_canary(tmp_path, monkeypatch):
    from graders.stages import canary

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "one"))
    one = canary("index_token")
    assert one == canary("index_token") and (tmp_path / "one" / "dockerlab" / "secrets" / "index_token").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "two"))
    assert canary("index_token") != one


def _sbom_stage(tmp_path: Path, write=None):
    from graders import course, stages
    from graders.facts import Facts
    from tests.unit.fake_engine import FakeEngine, image, tar_folder

    lab = course.load().lab("05-ship-it")
    context = tmp_path / "context"
    context.mkdir(parents=True)
    (context / "Dockerfile.sbom").write_text("FROM scratch\n")
    facts = Facts(submission=context)
    facts.image = image()
    fake = FakeEngine()
    if write is not None:  # what the learner's build writes out instead of the fake's SBOM
        original = fake.build

        def build(*args, **kwargs):
            result = original(*args, **kwargs)
            folder = tmp_path / "written"
            folder.mkdir()
            write(folder)
            tar_folder(folder, kwargs["output"])
            return result
        fake.build = build  # type: ignore[method-assign]
    with fake:
        stages.sbom(facts, lab, context, fake, lambda *a: None, tmp_path)
    return facts.sbom, fake, context


def test_the_sbom_build_gets_the_graders_image_and_writes_its_files_out(tmp_path):
    from graders.facts import Sbom

    found, fake, _context = _sbom_stage(tmp_path)
    assert isinstance(found, Sbom) and found.document["bomFormat"] == "CycloneDX"
    (context, dockerfile, tag, _limits), = fake.called("build")
    assert dockerfile == "Dockerfile.sbom" and tag.endswith("-sbom")


def test_an_sbom_build_that_writes_something_else_is_the_learners_to_fix(tmp_path):
    from graders.facts import Missing

    found, _fake, _context = _sbom_stage(tmp_path / "a", lambda out: (out / "bom.json").write_text("{}"))
    assert isinstance(found, Missing) and found.learner and "wrote no sbom.cdx.json" in found.reason and "bom.json" in found.reason
    found, _fake, _context = _sbom_stage(tmp_path / "b", lambda out: (out / "sbom.cdx.json").write_text("not json"))
    assert isinstance(found, Missing) and "is not JSON" in found.reason
    found, _fake, _context = _sbom_stage(tmp_path / "c", lambda out: (out / "sbom.cdx.json").symlink_to("/etc/passwd"))
    assert isinstance(found, Missing) and "wrote no sbom.cdx.json" in found.reason  # a link is never followed
    found, _fake, _context = _sbom_stage(tmp_path / "d", lambda out: (out / "sbom.cdx.json").mkdir())
    assert isinstance(found, Missing) and "wrote no sbom.cdx.json" in found.reason
