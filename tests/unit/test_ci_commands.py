"""What a CI script's docker commands ask of the grader, and what is refused (graders.ci_commands)."""

import pytest

from graders.ci_commands import Answer, Build, Inspect, Login, Pull, Push, Tag, vet

REG = "127.0.0.1:41234"
ENV = {"REGISTRY": REG, "GIT_SHA": "abc123"}


def run(line: str, cwd: str = "/work", secrets=("index_token",)):
    return vet(line.split(), cwd, ENV, REG, secrets)


def test_the_classic_ci_build_with_an_inline_cache():
    command = run(f"build --cache-from {REG}/iris:latest --build-arg BUILDKIT_INLINE_CACHE=1 "
                  f"--build-arg VERSION=1.2.3 --build-arg GIT_SHA --secret id=index_token,env=INDEX_TOKEN "
                  f"-t {REG}/iris:abc123 -t {REG}/iris:latest .")
    assert command == Build(".", "Dockerfile", (f"{REG}/iris:abc123", f"{REG}/iris:latest"),
                            {"VERSION": "1.2.3", "GIT_SHA": "abc123"}, {}, (f"{REG}/iris:latest",), True,
                            ("index_token",))


def test_buildx_with_push_cache_to_inline_and_a_metadata_file():
    command = run(f"buildx build --push --cache-to type=inline --cache-from=type=registry,ref={REG}/iris:latest "
                  f"--metadata-file ci/meta.json --file=Dockerfile --tag={REG}/iris:abc123 --progress plain "
                  f"--provenance=false .")
    assert isinstance(command, Build) and command.push and command.inline_cache
    assert command.cache_from == (f"{REG}/iris:latest",) and command.metadata_file == "/work/ci/meta.json"


def test_paths_are_read_from_the_scripts_directory():
    command = run(f"build -f ../Dockerfile -t {REG}/iris:1 ..", cwd="/work/ci")
    assert isinstance(command, Build) and (command.context, command.dockerfile) == (".", "Dockerfile")


@pytest.mark.parametrize("line, words", [
    (f"build -t {REG}/iris:1 /", "outside the submission"),
    (f"build -t {REG}/iris:1 -f /etc/passwd .", "outside the submission"),
    (f"build -t {REG}/iris:1 ../..", "outside the submission"),
    ("build -t python:3.11-slim .", "name images in this CI's registry"),       # would replace a course base image
    (f"build -t {REG}/Iris:1 .", "not a valid image name"),
    (f"build -t {REG}/iris:1 --cache-to type=registry,ref={REG}/c .", "not supported for docker driver"),
    (f"build -t {REG}/iris:1 --cache-from type=local,src=/tmp .", "reads a cache from an image in its registry"),
    (f"build -t {REG}/iris:1 --secret id=aws .", "provides the secrets index_token"),
    (f"build -t {REG}/iris:1 --network host .", "--network"),
    (f"build -t {REG}/iris:1 --no-cache .", "the point of this CI is its cache"),
    (f"build -t {REG}/iris:1 --frobnicate .", "unknown flag: --frobnicate"),
    (f"build -t {REG}/iris:1 --label org.dockerlab.run=x .", "are the grader's"),      # would escape the cleanup
    (f"build -t {REG}/iris:1", "exactly one context"),
    ("build --push .", "a name to push"),
    ("push docker.io/library/iris:1", "name images in this CI's registry"),
    (f"push {REG}/iris:1 {REG}/iris:2", "give one image"),
    (f"tag {REG}/iris:1 iris:prod", "name images in this CI's registry"),
    ("run --rm -v /:/host alpine", "runs only build"),
    ("exec -it x sh", "runs only build"),
    ("buildx create --use", "only `docker buildx build`"),
    ("login localhost:5000", "this CI's registry is"),
    ("inspect --format {{.Id}} python:3.11-slim", "name images in this CI's registry"),
])
def test_refused_with_the_reason_on_stderr_and_exit_code_1(line, words):
    answer = run(line)
    assert isinstance(answer, Answer) and answer.code == 1 and words in answer.stderr


def test_a_cache_from_outside_the_registry_is_left_out_and_said():
    command = run(f"build --cache-from iris:latest -t {REG}/iris:1 .")
    assert isinstance(command, Build) and command.cache_from == () and "left out" in command.notes[0]


def test_push_tag_pull_inspect_login():
    assert run(f"push {REG}/iris:abc123") == Push(f"{REG}/iris:abc123")
    assert run(f"image push -q {REG}/iris:abc123") == Push(f"{REG}/iris:abc123", quiet=True)
    assert run(f"tag {REG}/iris:abc123 {REG}/iris:latest") == Tag(f"{REG}/iris:abc123", f"{REG}/iris:latest")
    assert run(f"pull {REG}/iris:latest") == Pull(f"{REG}/iris:latest")
    assert vet(["inspect", "--format", "{{index .RepoDigests 0}}", f"{REG}/iris:abc123"], "/work", ENV, REG) == \
        Inspect((f"{REG}/iris:abc123",), "{{index .RepoDigests 0}}")
    assert vet(["image", "inspect", f"{REG}/iris@sha256:" + "a" * 64], "/work", ENV, REG) == \
        Inspect((f"{REG}/iris@sha256:" + "a" * 64,), None)
    assert run(f"login -u ci --password-stdin {REG}") == Login(REG)
    assert run("version") == Answer("Client: the grader's relay to its Docker engine\n")


@pytest.mark.parametrize("ref, split", [
    (f"{REG}/iris:abc123", (f"{REG}/iris", "abc123")),
    (f"{REG}/g-1/iris", (f"{REG}/g-1/iris", "latest")),                           # the port is not a tag
    (f"{REG}/iris@sha256:" + "a" * 64, (f"{REG}/iris@sha256:" + "a" * 64, None)),
])
def test_a_ref_split_for_the_sdk(ref, split):
    from graders.engine.ci_relay import _split

    assert _split(ref) == split


def test_the_sandbox_gets_the_submission_under_work_and_the_relay_as_an_executable_docker(tmp_path):
    import io
    import tarfile

    from graders.engine.ci_relay import SHIM, _files, _regular, _tar

    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "build.sh").write_text("docker version\n")
    out = io.BytesIO()
    _tar(tmp_path, out)
    members = {m.name: m for m in tarfile.open(fileobj=io.BytesIO(out.getvalue())).getmembers()}
    assert "work/ci/build.sh" in members and members["usr/local/bin/docker"].mode == 0o755
    assert members["usr/local/bin/docker"].size == len(SHIM.encode())
    answer = tarfile.open(fileobj=io.BytesIO(_files({"1.json": "{}", "1.done": ""})))
    assert [m.name for m in answer.getmembers()] == ["1.json", "1.done"]  # the answer whole before its mark
    assert _regular(0o644) and not _regular((1 << 31) | 0o755) and not _regular((1 << 27) | 0o777)  # dir, symlink
