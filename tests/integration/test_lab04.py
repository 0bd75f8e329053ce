"""Lab 04 on the real engine: the stack is built, brought up in isolation, asked, restarted and
always taken down. Offline, qdrant cannot be had: its criteria are not_gradable and the rest runs."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest

from graders import pipeline
from graders.engine.session import MANAGED
from graders.report.json import validate
from tests.conftest import ROOT, edit, lost, tag_aliases

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SOLUTION = ROOT / "solutions" / "04-compose-stack"
SEED = ROOT / "tests" / "integration" / "files" / "lab04-seed" / "compose.yaml"
QDRANT = {"healthy-qdrant", "ready-qdrant", "persists-flowers"}
PROJECT = "com.docker.compose.project"


@pytest.fixture(scope="module")
def lab04(course):
    return course.lab("04-compose-stack")


@pytest.fixture(scope="module")
def qdrant_here(engine):
    try:
        engine.images.get("qdrant/qdrant:v1.15.1")
        return True
    except Exception:
        return False


@pytest.fixture
def redis_full_tag(engine):
    """redis:8.0.2, the full version of the stand-in's 8.0."""
    with tag_aliases(engine, "redis:8.0", ["redis:8.0.2"]):
        yield


@pytest.fixture
def postgres_full_tag(engine):
    """postgres:15.18-bookworm, the full version of the stand-in postgres:15-bookworm."""
    with tag_aliases(engine, "postgres:15-bookworm", ["postgres:15.18-bookworm"]):
        yield


@pytest.fixture
def stack_folder(tmp_path):
    folder = tmp_path / "submission"
    shutil.copytree(SOLUTION, folder)
    return folder


@pytest.fixture(autouse=True)
def _no_stack_left(engine):
    """Nothing of a grading's stack may remain: containers, networks, and volumes, anonymous ones included."""
    volumes_before = {v.name for v in engine.volumes.list()}
    yield
    projects = {"label": PROJECT}
    assert not [c.name for c in engine.containers.list(all=True, filters=projects) if c.name.startswith("dockerlab-")]
    assert not [n.name for n in engine.networks.list(filters=projects) if n.name.startswith("dockerlab-")]
    assert {v.name for v in engine.volumes.list()} <= volumes_before


def test_solution_full_marks_with_the_runtime_path_really_run(engine, reference, qdrant_here):
    result = reference("04-compose-stack")
    validate(result.to_dict())
    statuses = {c.id: c.status for c in result.criteria}
    gradable_out = set() if qdrant_here else QDRANT
    assert {k for k, v in statuses.items() if v == "not_gradable"} == gradable_out
    assert all(v == "passed" for k, v in statuses.items() if k not in gradable_out), lost(result)
    assert result.score == result.max_score == (100 if qdrant_here else 91) and result.passed
    # the runtime path ran: services healthy, /ready asked, data written, stack restarted, read back
    messages = {c.id: c.message for c in result.criteria}
    assert messages["healthy-mlflow"] == "mlflow is running and healthy"
    assert messages["ready-mlflow"] == "the API reaches mlflow by its service name"
    assert messages["persists-runs"] == messages["persists-feedback"] == "written, then read back after down and up"
    assert result.timings["up"] > 0
    if not qdrant_here:
        assert any("qdrant" in p and "not run here" in p for p in result.problems)


def test_flaws_lose_only_their_criteria_beside_valid_forms_in_one_stack(engine, lab04, stack_folder, qdrant_here,
                                                                       redis_full_tag):
    """One grading (a stack run costs about 100 s of CI) for independent cases.

    Flaws: a default password written in the file (used whenever .env lacks the variable); password
    checks turned off (the stack still runs: mlflow's connection needs no password then); the earlier
    reference's ${POSTGRES_PASSWORD} in MLflow's store URL (`ps` shows it to every user of the host);
    `ports: ["6379"]` (the engine picks a host port, on every interface); postgres's volume one folder
    up, where postgres 18's image wants it, on postgres 15's image, whose own VOLUME
    /var/lib/postgresql/data takes the data into an anonymous volume (so the runs are lost).
    Valid forms: the GPU on services of their own behind a profile, asked with `gpus: all` and with a
    reservation that leaves driver and count to the engine (no override file); postgres with every
    capability dropped and the five its entrypoint needs added back."""
    compose = stack_folder / "compose.yaml"
    edit(compose, "postgresql+psycopg2://mlflow@postgres", "postgresql+psycopg2://mlflow:${POSTGRES_PASSWORD}@postgres")
    edit(compose, "JUPYTER_TOKEN: ${JUPYTER_TOKEN:?set JUPYTER_TOKEN in .env (see .env.example)}",
         "JUPYTER_TOKEN: ${JUPYTER_TOKEN:-letmein}")
    edit(compose, "      POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password\n",
         "      POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password\n      POSTGRES_HOST_AUTH_METHOD: trust\n")
    edit(compose, "      - redis-data:/data\n", "      - redis-data:/data\n    ports: [\"6379\"]\n")
    edit(compose, "      - postgres-data:/var/lib/postgresql/data\n",
         "      - postgres-data:/var/lib/postgresql\n    cap_drop: [ALL]\n"
         "    cap_add: [CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID]\n")
    (stack_folder / "compose.gpu.yaml").unlink()
    edit(compose, "\n# Made from the POSTGRES_PASSWORD",
         "\n  trainer:\n    image: python:3.11-slim\n    profiles: [gpu]\n    gpus: all\n"
         "  notebook-gpu:\n    image: python:3.11-slim\n    profiles: [gpu]\n"
         "    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}\n"
         "\n# Made from the POSTGRES_PASSWORD")
    # more flaws: mlflow's command without --host (it listens on its own loopback: its healthcheck passes,
    # no other container reaches it), and a jupyter healthcheck that asks with curl, which its image lacks
    edit(compose, "      - --host=0.0.0.0\n", "")
    edit(compose, "    shm_size: 1gb\n", "    shm_size: 1gb\n    healthcheck:\n"
                  "      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8888/api\"]\n      interval: 5s\n      retries: 2\n")
    # more valid forms: redis on its default snapshots (saved when it is stopped) with a shell-form
    # healthcheck and a full version tag; a URL without a database number; depends_on with restart and
    # required; a label named version; the artifacts volume in the long syntax
    edit(compose, '    command: ["redis-server", "--appendonly", "yes"]\n', "")
    edit(compose, '      test: ["CMD", "redis-cli", "ping"]', '      test: ["CMD-SHELL", "redis-cli ping | grep -q PONG"]')
    edit(compose, "    image: redis:8.0\n", "    image: redis:8.0.2\n")
    edit(compose, "      REDIS_URL: redis://redis:6379/0\n      QDRANT_URL", "      REDIS_URL: redis://redis:6379\n      QDRANT_URL")
    edit(compose, "      redis:\n        condition: service_healthy\n",
         "      redis:\n        condition: service_healthy\n        restart: true\n        required: true\n")
    edit(compose, "    image: iris-api:dev\n", "    image: iris-api:dev\n    labels:\n      version: \"1.0\"\n")
    edit(compose, "      - mlflow-artifacts:/mlflow/artifacts\n",
         "      - type: volume\n        source: mlflow-artifacts\n        target: /mlflow/artifacts\n")
    result = pipeline.grade(lab04, stack_folder)
    assert lost(result) == {"no-plaintext-secrets", "private-db-ports", "named-volumes", "persists-runs",
                            "ready-mlflow", "healthy-jupyter"}, \
        {c.id: c.message for c in result.criteria if c.status != "passed"}
    secrets = next(c for c in result.criteria if c.id == "no-plaintext-secrets")
    found = "\n".join(secrets.evidence["secrets"])
    assert "JUPYTER_TOKEN is written in the file (as the variable's default)" in found, found
    assert "POSTGRES_HOST_AUTH_METHOD turns password checks off" in found, found
    assert "services.mlflow.command" in found and "`ps`" in found, found
    assert secrets.hint
    volumes = next(c for c in result.criteria if c.id == "named-volumes")
    assert volumes.message.startswith("1 of 4 stateful services"), volumes.message  # the long syntax counted
    assert "declares VOLUME /var/lib/postgresql/data beneath it" in volumes.message, volumes.message
    ports = next(c for c in result.criteria if c.id == "private-db-ports")
    assert "redis publishes a random port→6379 on every interface" in ports.message and ports.hint
    gpu = next(c for c in result.criteria if c.id == "gpu-reservation")
    assert gpu.status == "passed" and "behind a profile" in gpu.message, gpu.message
    jupyter = next(c for c in result.criteria if c.id == "healthy-jupyter")
    assert "curl" in jupyter.message and jupyter.hint, jupyter.message
    # jupyter's failing healthcheck does not stop the probes that never go through it
    feedback = next(c for c in result.criteria if c.id == "persists-feedback")
    assert feedback.message == "written, then read back after down and up", feedback.message


@pytest.mark.parametrize("addition, refused", [
    ("    privileged: true\n", "services.api.privileged"),
    ("    network_mode: host\n", "services.api.network_mode"),
    ("    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n", "services.api.volumes[0]"),
    ("    cap_add: [NET_ADMIN]\n", "services.api.cap_add"),
    ("    cap_drop: [ALL]\n    cap_add: [CHOWN, SYS_ADMIN]\n", "services.api.cap_add"),
])
def test_policy_violations_are_refused_before_anything_starts(engine, lab04, stack_folder, addition, refused):
    events_since = int(time.time())
    edit(stack_folder / "compose.yaml", "    build: ./api\n", "    build: ./api\n" + addition)
    result = pipeline.grade(lab04, stack_folder)
    validate(result.to_dict())
    assert result.refusals and refused in result.refusals[0] and "service 'api'" in result.refusals[0]
    assert all(c.status == "failed" and c.message.startswith("not run:") for c in result.criteria)
    assert not result.passed and "build" not in result.timings and "up" not in result.timings
    created = engine.events(since=events_since, until=int(time.time()) + 1, decode=True,
                            filters={"type": "container", "event": "create"})
    assert list(created) == []


def test_interrupted_up_leaves_nothing(engine, stack_folder):
    process = subprocess.Popen([sys.executable, "-m", "graders", "check", "04-compose-stack", str(stack_folder)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not engine.containers.list(filters={"label": f"{MANAGED}=true"}, sparse=True):
        assert process.poll() is None and time.monotonic() < deadline, "no container appeared"
        time.sleep(0.5)
    time.sleep(2)  # in the middle of `up --wait`
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=180)
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err


def other_valid_forms_and_flaws(folder):
    """The reference written another way, with two flaws of its own.

    Valid forms: postgres's password from .env as a variable with `:?` (no secret file), its data in a
    PGDATA folder beneath the volume (the image's docs do this), a healthcheck in the string form,
    `expose:` without publishing, and a full version tag; redis published on loopback only; mlflow's
    command as one string, with .env given whole; depends_on in flow style; a variable named VERSION.
    Flaws: jupyter left out (its GPU moved to api in the override), and REDIS_URL naming localhost,
    which inside the api container is the api itself."""
    compose = folder / "compose.yaml"
    edit(compose, "      POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password\n    secrets: [postgres_password]\n",
         "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}\n"
         "      PGDATA: /var/lib/postgresql/data/pgdata\n    expose: [\"5432\"]\n")
    edit(compose, '      test: ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER} -d $${POSTGRES_DB}"]',
         "      test: pg_isready -U mlflow -d mlflow")
    edit(compose, "      - redis-data:/data\n", "      - redis-data:/data\n    ports:\n      - \"127.0.0.1:6379:6379\"\n")
    start = compose.read_text().index("    command:\n      - mlflow\n")
    end = compose.read_text().index("    volumes:\n      - mlflow-artifacts")
    text = compose.read_text()
    compose.write_text(text[:start] + "    command: >\n      mlflow server --host 0.0.0.0 --port 5000 --workers 1\n"
                       "      --backend-store-uri postgresql+psycopg2://mlflow@postgres:5432/mlflow\n"
                       "      --artifacts-destination /mlflow/artifacts\n"
                       "      --allowed-hosts mlflow,mlflow:5000,localhost,localhost:5000,127.0.0.1:5000\n" + text[end:])
    text = compose.read_text()
    start, end = text.index("  jupyter:\n"), text.index("\n# Made from the POSTGRES_PASSWORD")
    compose.write_text(text[:start].rstrip("\n") + "\n" + text[end:])
    edit(folder / "compose.gpu.yaml", "  jupyter:\n    build:\n      args:\n"
         "        # A CUDA build of PyTorch (the default wheels on Linux carry their CUDA libraries).\n"
         "        EXTRA_PACKAGES: torch==2.13.0\n", "  api:\n")
    edit(compose, "      REDIS_URL: redis://redis:6379/0\n      QDRANT_URL", "      REDIS_URL: redis://localhost:6379/0\n      QDRANT_URL")
    # more valid forms: the full version tag, .env handed to mlflow whole, depends_on in flow style, and
    # an environment variable named like the obsolete key
    edit(compose, "    image: postgres:15-bookworm\n", "    image: postgres:15.18-bookworm\n")
    edit(compose, "    secrets: [postgres_password]\n    command: >\n",
         "    secrets: [postgres_password]\n    env_file: .env\n    command: >\n")
    edit(compose, "    depends_on:\n      postgres:\n        condition: service_healthy\n",
         "    depends_on: {postgres: {condition: service_healthy}}\n")
    edit(compose, "      MLFLOW_TRACKING_URI: http://mlflow:5000\n    ports:\n      - \"127.0.0.1:8000:8000\"",
         "      MLFLOW_TRACKING_URI: http://mlflow:5000\n      VERSION: \"2\"\n    ports:\n      - \"127.0.0.1:8000:8000\"")


def seed_with_more_flaws(folder):
    """The course example's style, and mistakes people make in it: a healthcheck in exec form with the
    whole command as one word (redis, postgres: "redis-cli ping" is no program), and MLflow's store
    URL with the `postgres://` scheme many hosting services print, which SQLAlchemy 1.4 and newer
    refuse (MLflow exits). mlflow keeps having no healthcheck, so `healthchecks` is still lost."""
    compose = folder / "compose.yaml"
    shutil.copy(SEED, compose)
    (folder / "compose.gpu.yaml").unlink()
    edit(compose, "  redis:\n    image: redis:8.0\n",
         "  redis:\n    image: redis:8.0\n    healthcheck:\n      test: [\"CMD\", \"redis-cli ping\"]\n")
    edit(compose, "postgresql+psycopg2://mlflow:mlflow_password@postgres", "postgres://mlflow:mlflow_password@postgres")
    edit(compose, "  postgres:\n    image: postgres:15-bookworm\n",
         "  postgres:\n    image: postgres:15-bookworm\n    healthcheck:\n      test: [\"CMD\", \"pg_isready -U mlflow\"]\n")


SEED_LOST = {"no-version", "images-pinned", "no-plaintext-secrets", "named-volumes", "healthchecks", "depends-healthy",
             "gpu-reservation", "private-db-ports", "healthy-api", "persists-feedback", "persists-runs"}
"""What the course example's style costs, at least (ready-* are lost too: its api is never healthy)."""


def test_two_stacks_graded_side_by_side_in_a_batch(engine, tmp_path, qdrant_here, postgres_full_tag):
    """Two stacks at once (project names, volumes and networks must not collide): the reference written
    another way, with two flaws, and the course example's style."""
    submissions = tmp_path / "class"
    shutil.copytree(SOLUTION, submissions / "ada")
    other_valid_forms_and_flaws(submissions / "ada")
    shutil.copytree(SOLUTION, submissions / "bo")
    seed_with_more_flaws(submissions / "bo")
    out = tmp_path / "grades"
    done = subprocess.run([sys.executable, "-m", "graders", "grade", "04-compose-stack", str(submissions),
                           "--out", str(out), "-j", "2"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    ada = json.loads((out / "results" / "ada.json").read_text())
    bo = json.loads((out / "results" / "bo.json").read_text())
    assert "healthy-api" in (out / "grades.csv").read_text().splitlines()[0]

    def lost_in(document):
        return {c["id"] for c in document["criteria"] if c["status"] in ("failed", "partial")}

    def criterion(document, name):
        return next(c for c in document["criteria"] if c["id"] == name)

    assert lost_in(ada) == {"services", "healthy-jupyter", "ready-redis", "persists-feedback"}, \
        {c["id"]: c["message"] for c in ada["criteria"] if c["status"] != "passed"}
    assert "jupyter" in criterion(ada, "services")["message"]
    assert criterion(ada, "persists-runs")["message"] == "written, then read back after down and up"
    assert criterion(ada, "services")["status"] == "partial"  # five of the six services
    assert ada["score"] == pytest.approx((100 if qdrant_here else 91) - 5 / 6 - 3 - 4 - 3, abs=0.01) and ada["passed"]

    assert SEED_LOST | {"healthy-redis", "healthy-postgres", "healthy-mlflow"} <= lost_in(bo), lost_in(bo)
    assert not {"services", "healthy-jupyter"} & lost_in(bo)
    redis = criterion(bo, "healthy-redis")["message"]
    assert "redis-cli ping" in redis, redis
    assert bo["score"] < 70 and not bo["passed"]
    api = criterion(bo, "healthy-api")
    assert "unhealthy" in api["message"] and "curl" in api["message"] and "not found" in api["message"]
    assert api["hint"]  # every lost point comes with a hint
    secrets = criterion(bo, "no-plaintext-secrets")["evidence"]["secrets"]
    assert any("POSTGRES_PASSWORD" in line for line in secrets) and any("JUPYTER_TOKEN" in line for line in secrets)
    assert criterion(bo, "no-version")["message"].startswith("compose.yaml:4")
    gpu = criterion(bo, "gpu-reservation")
    assert gpu["status"] == "partial" and "without a profile" in gpu["message"]
