"""The checks that read a Compose file (Lab 04), on the models Compose computes from small files."""

from pathlib import Path

from graders.facts import Facts, Missing
from tests.unit.checks.helpers import grade
from tests.unit.test_stack import read

GOOD = """
services:
  api:
    build: .
    environment:
      REDIS_URL: redis://redis:6379/0
      DB_URL: postgresql+psycopg2://app:${DB_PASSWORD}@db:5432/app
    depends_on:
      redis: {condition: service_healthy}
      db: {condition: service_healthy}
    ports: ["127.0.0.1:8000:8000"]
  redis:
    image: redis:7.0-bookworm
    volumes: [redis-data:/data]
    healthcheck: {test: [CMD, redis-cli, ping]}
  db:
    image: postgres:15-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000
    environment: {POSTGRES_PASSWORD: "${DB_PASSWORD}"}
    volumes: [db-data:/var/lib/postgresql/data]
    healthcheck: {test: [CMD-SHELL, "pg_isready"]}
    profiles: [never]
volumes:
  redis-data:
  db-data:
"""


BAD = """
version: "3.8"
services:
  api:
    build: .
    environment:
      REDIS_URL: redis://redis:6379/0
      API_TOKEN: hunter2
      DB_URL: postgresql://app:hunter2@db:5432/app
    depends_on: [redis, db]
    healthcheck: {disable: true}
  redis:
    image: redis
    ports: ["6379:6379"]
  db:
    image: postgres:latest
    environment: [POSTGRES_PASSWORD=hunter2]
    volumes: [./pgdata:/var/lib/postgresql/data]
    ports: ["5432:5432"]
"""


def good(tmp_path: Path) -> Facts:
    (tmp_path / "good").mkdir(parents=True, exist_ok=True)
    (tmp_path / "good" / "Dockerfile").write_text("FROM scratch\n")
    facts = read(tmp_path / "good", GOOD.replace("    profiles: [never]\n", ""), env="DB_PASSWORD=s3cret\n")
    facts.compose.image_healthchecks = {"api": True, "redis": True, "db": True}
    return facts


def bad(tmp_path: Path) -> Facts:
    (tmp_path / "bad").mkdir(parents=True, exist_ok=True)
    (tmp_path / "bad" / "Dockerfile").write_text("FROM scratch\n")
    facts = read(tmp_path / "bad", BAD)
    facts.compose.image_healthchecks = {"api": True, "redis": False, "db": False}
    return facts



def test_services(tmp_path):
    assert grade("compose_services", good(tmp_path), services=["api", "redis", "db"]).fraction == 1
    outcome = grade("compose_services", good(tmp_path), services=["api", "redis", "db", "qdrant"])
    assert outcome.fraction == 0.75 and outcome.evidence["missing"] == ["qdrant"]


def test_version_key_is_found_with_its_line(tmp_path):
    assert grade("compose_version", good(tmp_path)).fraction == 1
    outcome = grade("compose_version", bad(tmp_path))
    assert outcome.fraction == 0 and outcome.message.startswith("compose.yaml:2")


def test_images_pinned(tmp_path):
    assert grade("compose_pinned", good(tmp_path)).fraction == 1  # a tag with a version, and a digest
    outcome = grade("compose_pinned", bad(tmp_path))
    assert outcome.fraction == 0
    assert any("redis (no tag" in line for line in outcome.evidence["unpinned"])
    assert any(":latest" in line for line in outcome.evidence["unpinned"])


def test_plaintext_secrets_in_env_urls_and_list_syntax(tmp_path):
    assert grade("compose_secrets", good(tmp_path)).fraction == 1  # ${VAR}, even inside a URL
    outcome = grade("compose_secrets", bad(tmp_path))
    found = "\n".join(outcome.evidence["secrets"])
    assert outcome.fraction == 0
    assert "services.api.environment.API_TOKEN" in found and "services.api.environment.DB_URL" in found
    assert "services.db.environment.POSTGRES_PASSWORD" in found


def test_a_default_written_in_the_file_and_password_checks_turned_off_are_secrets_given_away(tmp_path):
    from graders.checks.compose_secrets import plaintext

    assert plaintext("${DB_PASSWORD:-postgres}") and plaintext("${DB_PASSWORD-postgres}")
    assert plaintext("postgresql://app:${DB_PASSWORD:-changeme}@db/app")
    assert not plaintext("${DB_PASSWORD}") and not plaintext("${DB_PASSWORD:?set it in .env}")
    assert not plaintext("${DB_PASSWORD:-}") and not plaintext("/run/secrets/db_password")
    stack = GOOD.replace("    profiles: [never]\n", "")
    default = stack.replace('POSTGRES_PASSWORD: "${DB_PASSWORD}"', 'POSTGRES_PASSWORD: "${DB_PASSWORD:-postgres}"')
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "Dockerfile").write_text("FROM scratch\n")
    outcome = grade("compose_secrets", read(tmp_path / "default", default))
    assert outcome.fraction == 0 and "POSTGRES_PASSWORD is written in the file (as the variable's default)" in outcome.message
    trust = stack.replace('POSTGRES_PASSWORD: "${DB_PASSWORD}"', "POSTGRES_HOST_AUTH_METHOD: trust")
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "Dockerfile").write_text("FROM scratch\n")
    outcome = grade("compose_secrets", read(tmp_path / "trust", trust, env="DB_PASSWORD=s3cret\n"))
    assert outcome.fraction == 0 and "POSTGRES_HOST_AUTH_METHOD turns password checks off" in outcome.message


def test_a_password_on_a_command_line_costs_half(tmp_path):
    on_command_line = GOOD.replace("    profiles: [never]\n", "").replace(
        "    image: redis:7.0-bookworm\n",
        "    image: redis:7.0-bookworm\n    command: [tool, '--db=postgresql://app:${DB_PASSWORD}@db:5432/app']\n")
    (tmp_path / "cmd").mkdir()
    facts = read(tmp_path / "cmd", on_command_line, env="DB_PASSWORD=s3cret\n")
    outcome = grade("compose_secrets", facts)
    assert outcome.fraction == 0.5 and "services.redis.command puts ${DB_PASSWORD} on the command line" in outcome.message


def test_named_volumes(tmp_path):
    paths = {"redis": "/data", "db": "/var/lib/postgresql/data"}
    assert grade("compose_volumes", good(tmp_path), paths=paths).fraction == 1
    # postgres 18's image asks for the volume one folder up: it holds the data folder too
    written = GOOD.replace("    profiles: [never]\n", "")
    (tmp_path / "pg18").mkdir()
    (tmp_path / "pg18" / "Dockerfile").write_text("FROM scratch\n")
    above = read(tmp_path / "pg18", written.replace("db-data:/var/lib/postgresql/data", "db-data:/var/lib/postgresql/"),
                 env="DB_PASSWORD=s3cret\n")
    outcome = grade("compose_volumes", above, paths=paths)
    assert outcome.fraction == 1 and "db: volume db-data at /var/lib/postgresql (holds /var/lib/postgresql/data)" in \
        outcome.evidence["volumes"]
    (tmp_path / "pgsib").mkdir()
    (tmp_path / "pgsib" / "Dockerfile").write_text("FROM scratch\n")
    above.compose.image_volumes["db"] = ["/var/lib/postgresql/data"]  # postgres 15's image: its own VOLUME takes the data
    outcome = grade("compose_volumes", above, paths=paths)
    assert outcome.fraction == 0.5 and "declares VOLUME /var/lib/postgresql/data beneath it" in outcome.message
    above.compose.image_volumes["db"] = ["/var/lib/postgresql"]  # postgres 18's
    assert grade("compose_volumes", above, paths=paths).fraction == 1
    elsewhere = read(tmp_path / "pgsib", written.replace("db-data:/var/lib/postgresql/data", "db-data:/var/lib/postgresql-old"),
                     env="DB_PASSWORD=s3cret\n")
    assert grade("compose_volumes", elsewhere, paths=paths).fraction == 0.5
    outcome = grade("compose_volumes", bad(tmp_path), paths=paths)
    assert outcome.fraction == 0
    assert any("nothing is mounted at /data" in p for p in outcome.evidence["problems"])
    assert any("bind-mounts" in p for p in outcome.evidence["problems"])


def test_healthchecks_count_the_images_own(tmp_path):
    assert grade("compose_healthchecks", good(tmp_path)).fraction == 1
    outcome = grade("compose_healthchecks", bad(tmp_path))
    assert outcome.fraction == 0  # api turns its image's check off; redis and db have none
    facts = bad(tmp_path / "again")
    facts.compose.image_healthchecks = {"api": True, "redis": None, "db": None}
    outcome = grade("compose_healthchecks", facts)
    assert outcome.fraction == 0 and "not judged" in outcome.message


def test_depends_on_must_wait_for_health(tmp_path):
    edges = {"api": ["redis", "db"]}
    assert grade("compose_depends", good(tmp_path), edges=edges).fraction == 1
    outcome = grade("compose_depends", bad(tmp_path), edges=edges)
    assert outcome.fraction == 0 and "service_started" in outcome.evidence["problems"][0]


def test_database_ports(tmp_path):
    assert grade("compose_ports", good(tmp_path), services=["redis", "db"]).fraction == 1
    outcome = grade("compose_ports", bad(tmp_path), services=["redis", "db"])
    assert outcome.fraction == 0 and len(outcome.evidence["exposed"]) == 2


def test_a_database_port_without_a_host_port_is_still_published_on_every_interface(tmp_path):
    stack = GOOD.replace("    profiles: [never]\n", "")
    cases = {'["6379"]': 0.5, '["127.0.0.1::6379"]': 1, '["127.0.0.1:6379:6379"]': 1, '["0.0.0.0:6379:6379"]': 0.5}
    for index, (ports, fraction) in enumerate(cases.items()):
        folder = tmp_path / str(index)
        folder.mkdir()
        (folder / "Dockerfile").write_text("FROM scratch\n")
        text = stack.replace("    volumes: [redis-data:/data]\n", f"    volumes: [redis-data:/data]\n    ports: {ports}\n")
        outcome = grade("compose_ports", read(folder, text, env="DB_PASSWORD=s3cret\n"), services=["redis", "db"])
        assert outcome.fraction == fraction, (ports, outcome.message)
    expose = stack.replace("    volumes: [redis-data:/data]\n", "    volumes: [redis-data:/data]\n    expose: ['6379']\n")
    (tmp_path / "expose").mkdir()
    (tmp_path / "expose" / "Dockerfile").write_text("FROM scratch\n")
    assert grade("compose_ports", read(tmp_path / "expose", expose, env="DB_PASSWORD=s3cret\n"), services=["redis"]).fraction == 1


def test_gpu_reservation_forms_and_places(tmp_path):
    device = "    deploy: {resources: {reservations: {devices: [%s]}}}\n"
    base = "services:\n  api:\n    image: python:3.11-slim\n"
    cases = {
        "{driver: nvidia, count: 1, capabilities: [gpu]}": 0.5,  # well-formed, but in the main file
        "{driver: nvidia, count: 1, device_ids: ['0'], capabilities: [gpu]}": 0,
        "{count: 1, capabilities: [gpu]}": 0.5,  # no driver: the engine picks NVIDIA's, as --gpus does
        "{capabilities: [gpu]}": 0.5,  # no count: every GPU (Compose's docs)
        "{driver: cdi, device_ids: [nvidia.com/gpu=all], capabilities: [gpu]}": 0.5,  # CDI, Docker 28.2's default path
        "{driver: cdi, device_ids: [vendor.com/fpga=0], capabilities: [gpu]}": 0,
        "{driver: rocm, capabilities: [gpu]}": 0,
        "{driver: nvidia, count: 1, capabilities: [utility]}": 0,
    }
    for index, (entry, expected) in enumerate(cases.items()):
        facts = read(tmp_path / str(index), base + device % entry)
        if "count" in entry and "device_ids" in entry:
            # Compose itself refuses count with device_ids: the learner sees its message, with the line
            assert isinstance(facts.compose, Missing) and facts.compose.learner
            assert "compose.yaml:4" in facts.compose.reason and '"count" and "device_ids"' in facts.compose.reason
            continue
        assert grade("compose_gpu", facts, services=["api"]).fraction == expected, entry
    profiled = read(tmp_path / "profiled", base + "    profiles: [gpu]\n" + device % "{driver: nvidia, count: all, capabilities: [gpu]}")
    assert grade("compose_gpu", profiled, services=["api"]).fraction == 1
    folder = tmp_path / "override"
    folder.mkdir()
    (folder / "compose.gpu.yaml").write_text("services:\n  api:\n" + device % "{driver: nvidia, count: 1, capabilities: [gpu]}")
    from graders import compose_stages
    from graders.course import ComposeLab

    (folder / "compose.yaml").write_text(base)
    facts = Facts(submission=folder)
    compose_stages.read(facts, ComposeLab(gpu_file="compose.gpu.yaml"), folder, "unit")
    assert grade("compose_gpu", facts, services=["api"]).fraction == 1
    assert grade("compose_gpu", read(tmp_path / "none", base), services=["api"]).fraction == 0
    # the service's own `gpus:` (recent Compose releases), behind a profile or in the override
    for index, gpus in enumerate(["all", "[{driver: nvidia, count: 1}]"]):
        profiled = read(tmp_path / f"gpus-{index}", base + f"    profiles: [gpu]\n    gpus: {gpus}\n")
        outcome = grade("compose_gpu", profiled, services=["api"])
        assert outcome.fraction == 1, (gpus, outcome.message)
    unsafe = read(tmp_path / "gpus-main", base + "    gpus: all\n")
    assert grade("compose_gpu", unsafe, services=["api"]).fraction == 0.5



def test_gpu_reservation_on_any_service_that_uses_it_and_never_passed_by_the_override_alone(tmp_path):
    """A GPU service of its own behind a profile (a trainer next to a CPU-only API) is a good place;
    a request in the main file is still judged as the main file's when an override exists."""
    from graders import compose_stages
    from graders.course import ComposeLab

    base = "services:\n  api:\n    image: python:3.11-slim\n"
    trainer = base + "  trainer:\n    image: python:3.11-slim\n    profiles: [gpu]\n    gpus: all\n"
    outcome = grade("compose_gpu", read(tmp_path / "trainer", trainer))
    assert outcome.fraction == 1 and "trainer reserves a GPU in compose.yaml:4, behind a profile" in outcome.message
    assert grade("compose_gpu", read(tmp_path / "api-only", trainer), services=["api"]).fraction == 0
    folder = tmp_path / "main-and-override"
    folder.mkdir()
    (folder / "compose.yaml").write_text(base + "    gpus: all\n")
    (folder / "compose.gpu.yaml").write_text("services:\n  api:\n    environment: {TORCH_DEVICE: cuda}\n")
    facts = Facts(submission=folder)
    compose_stages.read(facts, ComposeLab(gpu_file="compose.gpu.yaml"), folder, "unit")
    assert grade("compose_gpu", facts).fraction == 0.5
