"""Lab 05 graded on the real engine: the solution, the starter, and variants that must each lose
exactly the criteria named, or nothing (forms people really write)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders import pipeline
from tests.conftest import ROOT, edit, lost

pytestmark = [pytest.mark.docker, pytest.mark.slow]

LAB_ID = "05-ship-it"
SOLUTION = ROOT / "solutions" / LAB_ID
SECRET_RUN = "RUN --mount=type=secret,id=index_token python tools/install_private.py\n"
USER_LINE = "USER 10001\n"
LABELS_END = 'org.opencontainers.image.created="${CREATED}"\n'
ARGS = "ARG VERSION=dev\nARG REVISION=unknown\nARG CREATED=unknown\n"
PROD = "compose.prod.yaml"
SBOM = "Dockerfile.sbom"
CI = "ci/build.sh"
PIN = 'sed -i "s|^    image: .*|    image: $digest|" compose.prod.yaml'
DIGEST_LINE = ("digest=$(docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' \"$IMAGE:$GIT_SHA\" "
               '| grep -m1 "^$IMAGE@")')
BUILD_AND_PUSH = """docker build \\
  --cache-from "$IMAGE:latest" \\
  --build-arg BUILDKIT_INLINE_CACHE=1 \\
  --build-arg VERSION="$VERSION" --build-arg REVISION="$GIT_SHA" --build-arg CREATED="$CREATED" \\
  --secret id=index_token,env=INDEX_TOKEN \\
  -t "$IMAGE:$GIT_SHA" -t "$IMAGE:latest" .
docker push "$IMAGE:$GIT_SHA"
docker push "$IMAGE:latest"
"""
LONG_TMPFS = "      - {type: tmpfs, target: /tmp, tmpfs: {size: 16777216}}\n"
TMPFS = "    tmpfs:\n      - /tmp:size=16m,mode=1777        # the one place the service writes (its ready file)\n"

# name: (Dockerfile edits, requirements or .dockerignore edits, the criteria that must be lost)
VARIANTS = {
    # flaws
    "revision-written-by-hand": ([('revision="${REVISION}"', 'revision="main"')], [], {"labels"}),
    # ARG before FROM is seen by FROM lines only: the labels come out empty
    "args-only-before-from": ([(ARGS, ""), ("FROM python:3.11-slim\n", ARGS + "FROM python:3.11-slim\n")], [], {"labels"}),
    # the Dockerfile's ARG, and the CI job's build that passes none: it cannot build what it publishes
    "token-through-a-build-arg": ([(SECRET_RUN, "ARG INDEX_TOKEN\nRUN INDEX_TOKEN=$INDEX_TOKEN python tools/install_private.py\n")],
                                  [], {"secret", "published"}),
    # the same ARG, and a CI job that passes it as the build arg (CI's secret in its environment): it publishes
    "token-through-a-build-arg-in-ci-too": ([(SECRET_RUN, "ARG INDEX_TOKEN\nRUN INDEX_TOKEN=$INDEX_TOKEN "
                                                          "python tools/install_private.py\n")],
                                            [(CI, "--secret id=index_token,env=INDEX_TOKEN", '--build-arg INDEX_TOKEN="$INDEX_TOKEN"')],
                                            {"secret"}),
    # mounted as a secret, then written into a file the image keeps: found in that layer's files
    "token-kept-in-a-file": ([(SECRET_RUN, "RUN --mount=type=secret,id=index_token cp /run/secrets/index_token /app/.token "
                                           "&& python tools/install_private.py\n")], [], {"secret"}),
    "model-baked-in": ([("COPY app/ ./app/\n", "COPY app/ ./app/\nCOPY model/ /models/iris/\n")],
                       [(".dockerignore", "model/\n", "")], {"live-ready"}),
    "advised-package-added": ([(SECRET_RUN, SECRET_RUN + "RUN pip install --no-cache-dir requests==2.31.0\n")], [],
                              {"advisories"}),
    "runs-as-root": ([(USER_LINE, "")], [], {"non-root"}),
    # no token reaches the install: the private index refuses, the build fails there, nothing runs
    "token-not-mounted": ([(SECRET_RUN, "RUN python tools/install_private.py\n")], [],
                          {"builds", "labels", "secret", "live-ready", "predict", "non-root", "advisories",
                           "hardened-serves", "sbom", "published"}),
    # the model is mounted where the image does not look: never ready
    "model-path-elsewhere": ([("ENV MODEL_PATH=/models/iris/model.joblib", "ENV MODEL_PATH=/models/model.joblib")], [],
                             {"live-ready", "predict"}),
    # the production file (compose.prod.yaml)
    "read-only-missing": ([], [(PROD, "    read_only: true                    # nothing in the image can be changed at run time\n", "")],
                          {"hardened"}),
    # read-only with nowhere to write: the service dies writing its ready file, the settings stand
    "read-only-without-a-tmpfs": ([], [(PROD, TMPFS, "")], {"hardened-serves"}),
    "capability-added": ([], [(PROD, "    cap_drop: [ALL]", "    cap_add: [NET_ADMIN]\n    cap_drop: [ALL]")], {"hardened"}),
    "user-by-name": ([], [(PROD, 'user: "10001:10001"', "user: app")], {"hardened"}),
    # the SBOM (Dockerfile.sbom)
    # what requirements.txt asked for, not what is installed: misses pip, setuptools, iris-private, every deb
    "sbom-of-the-requirements": ([], [(SBOM, "syft scan dir:/ \\", "syft scan dir:/app \\"),
                                      (SBOM, "      --override-default-catalogers image \\\n", "")], {"sbom"}),
    # the scanner installed into what it scans: the SBOM lists a package the image does not hold
    "scanner-in-the-scanned-image": ([], [(SBOM, "RUN --mount=type=bind,from=scanner,source=/opt/syft,target=/opt/syft \\\n",
                                           "COPY --from=scanner /opt/syft /opt/syft\nRUN \\\n"),
                                          (SBOM, "--exclude './opt/syft/**' ", "")], {"sbom"}),
    # no FROM scratch stage: the whole scanned file system is written out, and stopped past 64 MB
    "sbom-without-a-scratch-stage": ([], [(SBOM, "\nFROM scratch\nCOPY --from=scan /tmp/sbom.cdx.json /sbom.cdx.json\n", "\n")],
                                     {"sbom"}),
    # the CI job (ci/build.sh)
    # the commit's tag in the production file: pushed, and not pinned (a tag can be moved)
    "ci-pins-a-tag": ([], [(CI, PIN, PIN.replace("$digest", "$IMAGE:$GIT_SHA"))], {"published"}),
    # a digest written by hand, or left from another registry: the registry holds no such image
    "ci-pins-a-digest-the-registry-lacks": ([], [(CI, DIGEST_LINE, 'digest="$IMAGE@sha256:$(printf %064d 0)"')],
                                            {"published"}),
    # valid forms
    # buildx builds and pushes in one step, and its metadata file names the digest it pushed
    "ci-buildx-push-with-a-metadata-file": ([], [(CI, BUILD_AND_PUSH,
                                                  BUILD_AND_PUSH.replace("docker build", "docker buildx build --push "
                                                                         "--metadata-file /tmp/meta.json")
                                                  .split("docker push")[0]),
                                                 (CI, DIGEST_LINE, 'digest="$IMAGE@$(python3 -c "import json; print(json.load('
                                                  "open('/tmp/meta.json'))['containerimage.digest'])\")\"")], set()),
    # syft's directory catalogers: requirements.txt read too, at the versions installed
    "sbom-with-directory-catalogers": ([], [(SBOM, "      --override-default-catalogers image \\\n", "")], set()),
    # limits as Swarm and `docker compose` v2 both read them, the bare no-new-privileges, the tmpfs as a volume
    "deploy-limits-and-long-tmpfs": ([], [(PROD, "    mem_limit: 512m\n    pids_limit: 128\n",
                                           "    deploy:\n      resources:\n        limits: {memory: 512M, pids: 128}\n"),
                                          (PROD, "no-new-privileges:true", "no-new-privileges"),
                                          (PROD, TMPFS, ""),
                                          (PROD, "    volumes:\n", "    volumes:\n" + LONG_TMPFS)],
                                     set()),
    # labels set one per line, the args declared globally and again in the stage, as many CI templates do
    "labels-one-per-line": ([(ARGS, ""), ("FROM python:3.11-slim\n", "ARG VERSION\nARG REVISION\nARG CREATED\nFROM python:3.11-slim\n"),
                             (LABELS_END, LABELS_END + "ARG VERSION\nARG REVISION\nARG CREATED\n"
                              "LABEL org.opencontainers.image.version=$VERSION\n"
                              "LABEL org.opencontainers.image.revision=$REVISION\n"
                              "LABEL org.opencontainers.image.created=$CREATED\n")], [], set()),
    # the token read into a variable of the one RUN that needs it (the docs' `$(cat /run/secrets/...)`)
    "token-read-by-the-shell": ([(SECRET_RUN, "RUN --mount=type=secret,id=index_token,required=true \\\n"
                                              "    INDEX_TOKEN=\"$(cat /run/secrets/index_token)\" python tools/install_private.py\n")],
                                [], set()),
    # a named user (the check asks the running process, not the spelling)
    "named-user": ([(USER_LINE, "USER app\n")], [], set()),
    # an advised package raised to its fixed release rather than removed
    "advised-package-raised": ([(SECRET_RUN, SECRET_RUN + "RUN pip install --no-cache-dir requests==2.32.3\n")], [], set()),
    # the healthcheck asks readiness (what Compose's service_healthy waits for): not judged here
    "healthcheck-on-ready": ([("127.0.0.1:8000/live", "127.0.0.1:8000/ready")], [], set()),
}


def folder(tmp_path: Path) -> Path:
    """A learner's folder: the lab's starter with the reference's own files (learner_files) in it."""
    target = tmp_path / "submission"
    shutil.copytree(ROOT / "labs" / LAB_ID, target)
    for name in ("Dockerfile", ".dockerignore", "requirements.txt", PROD, SBOM, CI):
        shutil.copy(SOLUTION / name, target / name)
    return target


def test_solution_scores_full_marks(engine, reference):
    result = reference(LAB_ID)
    assert [(c.id, c.message) for c in result.criteria if c.status != "passed"] == []
    assert result.score == 100
    labels = next(c for c in result.criteria if c.id == "labels").evidence["labels"]
    revision = next(row for row in labels if row["label"].endswith("revision"))
    assert revision["value"] == revision["expected"] and len(revision["value"]) in (40, 23)  # a commit, or sha256:+16


def test_starter_loses_what_each_section_fixes(engine, course):
    result = pipeline.grade(course.lab(LAB_ID), ROOT / "labs" / LAB_ID)
    assert lost(result) == {"labels", "secret", "live-ready", "non-root", "advisories", "hardened", "sbom", "published"}
    assert not result.passed
    secret = next(c for c in result.criteria if c.id == "secret")
    assert secret.message.startswith("the image holds the secret's value: history: RUN |1 INDEX_TOKEN=dockerlab-canary-")
    advisories = next(c for c in result.criteria if c.id == "advisories")
    assert {row["advisory"] for row in advisories.evidence["affected"]} == {"CVE-2024-35195", "CVE-2024-37891"}
    ready = next(c for c in result.criteria if c.id == "live-ready")
    assert "/ready without the model: status 200, expected 503" in ready.message


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_loses_exactly_its_criteria(name, engine, course, tmp_path):
    dockerfile_edits, file_edits, expected = VARIANTS[name]
    submission = folder(tmp_path)
    for old, new in dockerfile_edits:
        edit(submission / "Dockerfile", old, new)
    for file, old, new in file_edits:
        edit(submission / file, old, new)
    result = pipeline.grade(course.lab(LAB_ID), submission)
    assert lost(result) == expected, {c.id: c.message for c in result.criteria if c.status != "passed"}
    assert not [c.id for c in result.criteria if c.status == "not_gradable"]
    if name == "token-through-a-build-arg-in-ci-too":
        published = next(c for c in result.criteria if c.id == "published")
        assert "INDEX_TOKEN=***" in str(published.evidence["commands"]) and "dockerlab-canary-" not in str(published.evidence)
    if name == "token-kept-in-a-file":
        secret = next(c for c in result.criteria if c.id == "secret")
        assert "/app/.token" in secret.message, secret.message
    if name == "read-only-without-a-tmpfs":
        serves = next(c for c in result.criteria if c.id == "hardened-serves")
        assert "Read-only file system" in serves.message, serves.message
    if name == "args-only-before-from":
        labels = next(c for c in result.criteria if c.id == "labels")
        assert labels.points == 10 * 0.25 and "version not set" in labels.message  # only source, written, is right


def test_nbgrader_autograde_a_batch_and_export_agree_for_lab05(engine, tmp_path):
    """Lab 05 through nbgrader as the other labs go: released, autograded from its notebook's cells,
    graded again as a batch into a gradebook, exported; the two agree criterion by criterion."""
    import csv
    import sys

    from tests.integration.test_nbgrader import BIN, run, scores

    course_folder = tmp_path / "course"
    run(sys.executable, "-m", "graders", "nbgrader", "setup", str(course_folder), LAB_ID, cwd=ROOT)
    run(str(BIN / "nbgrader"), "generate_assignment", LAB_ID, cwd=course_folder)
    alice = course_folder / "submitted" / "alice" / LAB_ID
    shutil.copytree(course_folder / "release" / LAB_ID, alice)
    for name in ("Dockerfile", ".dockerignore", "requirements.txt", PROD, SBOM, CI):
        (alice / name).parent.mkdir(exist_ok=True)
        shutil.copy(SOLUTION / name, alice / name)
    run(str(BIN / "nbgrader"), "autograde", LAB_ID, cwd=course_folder)
    autograded = scores(course_folder / "gradebook.db", LAB_ID)
    assert sum(autograded["alice"].values()) == 100, autograded

    db = tmp_path / "dockerlab.db"
    run(sys.executable, "-m", "graders", "grade", LAB_ID, str(course_folder), "--out", str(tmp_path / "out"),
        "--gradebook", str(db), cwd=ROOT)
    assert scores(db, LAB_ID) == autograded
    run(str(BIN / "nbgrader"), "export", f"--CourseDirectory.db_url=sqlite:///{db}",
        f"--CsvExportPlugin.to={tmp_path / 'export.csv'}", cwd=course_folder)
    with open(tmp_path / "export.csv") as handle:
        assert {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)} == {"alice": 100.0}


def test_clean_with_registry_removes_the_course_registry_and_its_volume(engine):
    """Last in this file: the gradings above pushed to the course registry; `dockerlab clean --registry`
    removes it and what it holds (the next grading makes it again)."""
    import subprocess
    import sys

    from graders.engine import registry

    assert engine.containers.list(filters={"name": registry.NAME}), "the gradings above made the course registry"
    done = subprocess.run([sys.executable, "-m", "graders", "clean", "--registry"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "removed the course registry" in done.stdout, done.stdout + done.stderr
    assert not engine.containers.list(all=True, filters={"name": registry.NAME})
    assert registry.VOLUME not in [volume.name for volume in engine.volumes.list()]
