"""Lab 04's policy refusals and the stack the grader derives, on models Compose itself computes
(`docker compose config` needs no engine)."""

import json
from pathlib import Path

import pytest

from graders import compose_stages, stack
from graders.course import ComposeLab
from graders.facts import Facts, Missing

SPEC = ComposeLab()
BASE = """
services:
  api:
    image: python:3.11-slim
"""


def read(folder: Path, text: str, env: str | None = None) -> Facts:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(text)
    if env is not None:
        (folder / ".env").write_text(env)
    facts = Facts(submission=folder)
    compose_stages.read(facts, SPEC, folder, "unit")
    return facts


def refused(tmp_path: Path, text: str) -> list[str]:
    facts = read(tmp_path / "stack", text)
    assert not isinstance(facts.compose, Missing), facts.compose
    return [f"{r.key}: {r.reason}" for r in stack.refusals(facts.compose.model, tmp_path / "stack", facts.compose.source)]


@pytest.mark.parametrize("extra, key", [
    ("    privileged: true", "services.api.privileged"),
    ("    network_mode: host", "services.api.network_mode"),
    ("    pid: host", "services.api.pid"),
    ("    ipc: host", "services.api.ipc"),
    ("    cap_add: [SYS_ADMIN]", "services.api.cap_add"),
    ("    cap_drop: [ALL]\n    cap_add: [CHOWN, cap_sys_ptrace]", "services.api.cap_add"),
    ("    cap_add: [ALL]", "services.api.cap_add"),
    ("    devices: ['/dev/sda:/dev/sda']", "services.api.devices"),
    ("    security_opt: ['seccomp=unconfined']", "services.api.security_opt[0]"),
    ("    volumes: ['/var/run/docker.sock:/var/run/docker.sock']", "services.api.volumes[0]"),
    ("    volumes: ['/etc:/host-etc:ro']", "services.api.volumes[0]"),
    ("    volumes: ['../outside:/data']", "services.api.volumes[0]"),
    ("    build: {context: /}", "services.api.build.context"),
])
def test_each_policy_violation_is_refused_with_its_key(tmp_path, extra, key):
    found = refused(tmp_path, BASE + extra + "\n")
    assert [line.split(":")[0] for line in found] == [key], found


@pytest.mark.parametrize("extra, key", [
    ("    env_file: [/etc/hostname]", "services.api.env_file[0]"),
    ("    env_file: [/dev/zero]", "services.api.env_file[0]"),
    ("    extends: {file: /etc/passwd, service: x}", "services.api.extends.file"),
    ("    env_file: ['${HOME}/.bashrc']", "services.api.env_file[0]"),
])
def test_files_outside_the_folder_are_refused_before_compose_reads_them(tmp_path, extra, key):
    facts = read(tmp_path / "stack", BASE + extra + "\n")
    assert isinstance(facts.compose, Missing) and facts.compose.learner
    found = compose_stages.policy(facts, tmp_path / "stack")
    assert [r.key for r in found] == [key], found
    assert "outside the submission folder" in found[0].reason or "made from variables" in found[0].reason


def test_top_level_host_backed_and_external_resources_are_refused(tmp_path):
    found = refused(tmp_path, BASE + """    volumes: [disguised:/a, theirs:/b]
volumes:
  disguised:
    driver_opts: {type: none, o: bind, device: /root}
  theirs:
    external: true
""")
    assert {line.split(":")[0] for line in found} == {"volumes.disguised.driver_opts", "volumes.theirs.external"}


def test_a_link_that_leads_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "data").symlink_to("/etc")
    assert [line.split(":")[0] for line in refused(tmp_path, BASE + "    volumes: ['./data:/data']\n")] == ["services.api.volumes[0]"]


def test_what_a_development_stack_needs_is_not_refused(tmp_path):
    text = BASE + """    volumes: ['./notebooks:/work', 'cache:/cache']
    security_opt: ['no-new-privileges:true']
    deploy:
      resources:
        reservations:
          devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]
volumes:
  cache:
"""
    (tmp_path / "stack" / "notebooks").mkdir(parents=True)
    assert refused(tmp_path, text) == []


def test_the_solution_is_not_refused(tmp_path):
    import shutil

    folder = tmp_path / "solution"
    shutil.copytree(Path(__file__).resolve().parents[2] / "solutions" / "04-compose-stack", folder)
    facts = Facts(submission=folder)
    compose_stages.read(facts, SPEC, folder, "unit")
    assert stack.refusals(facts.compose.model, folder) == []
    assert ".env.example" in facts.compose.env_note  # no .env shipped: the example was used


def test_compose_errors_name_the_file_and_say_what_compose_said(tmp_path):
    facts = read(tmp_path / "stack", "services:\n  api:\n    image: python:3.11-slim\n    ports: 8000\n")
    assert isinstance(facts.compose, Missing) and facts.compose.learner
    assert facts.compose.reason.startswith("compose.yaml:4: Compose refuses it:")  # the line of services.api.ports
    assert str(tmp_path) not in facts.compose.reason  # the grader's private path is not shown


def test_bad_yaml_names_the_line(tmp_path):
    facts = read(tmp_path / "stack", "services:\n  api:\n    image: [unclosed\n")
    assert isinstance(facts.compose, Missing) and facts.compose.reason.startswith("compose.yaml:")


def test_the_graders_environment_never_reaches_the_stack(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "from-the-grader")
    facts = read(tmp_path / "stack", BASE + "    environment:\n      LEAK: ${GRADER_SECRET:-none}\n")
    assert facts.compose.model["services"]["api"]["environment"]["LEAK"] == "none"


def test_derive_isolates_limits_labels_and_leaves_out(tmp_path):
    facts = read(tmp_path / "stack", """
services:
  api:
    build: .
    ports: ["8000:8000"]
    container_name: fixed
    environment: {PASSWORD: "pa$$word"}
    depends_on:
      db: {condition: service_healthy}
      vectors: {condition: service_healthy}
  db:
    image: postgres:15-bookworm
    volumes: [data:/var/lib/postgresql/data]
  vectors:
    image: qdrant/qdrant:v1.15.1
volumes:
  data:
    name: shared-by-everyone
""")
    (tmp_path / "stack" / "Dockerfile").write_text("FROM scratch\n")
    model = stack.derive(facts.compose.model, project="dockerlab-x", labels={"org.dockerlab.run": "x"},
                         images={"api": "sha256:abc"}, left_out={"vectors"}, limits=stack.ContainerLimits(512, 0.5, 64))
    api = model["services"]["api"]
    assert set(model["services"]) == {"api", "db"}
    assert api["image"] == "sha256:abc" and "build" not in api and "ports" not in api and "container_name" not in api
    assert api["depends_on"] == {"db": {"condition": "service_healthy", "required": True}}
    assert "vectors:127.0.0.1" in api["extra_hosts"]
    assert (api["mem_limit"], api["cpus"], api["pids_limit"]) == (str(512 * 2**20), 0.5, 64)
    assert api["security_opt"] == ["no-new-privileges:true"] and api["pull_policy"] == "never"
    assert api["environment"]["PASSWORD"] == "pa$$word"  # still escaped: Compose reads it back as pa$word
    assert model["volumes"]["data"]["name"] == "dockerlab-x_data"
    assert model["volumes"]["data"]["labels"]["org.dockerlab.run"] == "x"
    assert model["networks"]["default"]["internal"] is True
    json.dumps(model)  # what is written for Compose to read


def test_derive_keeps_the_learners_tighter_limits(tmp_path):
    facts = read(tmp_path / "stack", BASE + "    mem_limit: 256m\n    cpus: 0.25\n    pids_limit: 32\n    cap_drop: [ALL]\n")
    model = stack.derive(facts.compose.model, project="p", labels={}, images={}, left_out=set(),
                         limits=stack.ContainerLimits(1024, 1.0, 512))
    api = model["services"]["api"]
    assert (api["mem_limit"], api["cpus"], api["pids_limit"]) == (str(256 * 2**20), 0.25, 32)
    assert "ALL" in api["cap_drop"] and "NET_RAW" in api["cap_drop"]


def test_dropping_all_and_adding_back_a_default_capability_is_hardening_not_refused(tmp_path):
    """postgres's image with `cap_drop: [ALL]` needs CHOWN, DAC_OVERRIDE, FOWNER, SETGID and SETUID back:
    stricter than the defaults, so it runs; an add of what the grader drops for every stack stays dropped."""
    text = BASE + "    cap_drop: [ALL]\n    cap_add: [CHOWN, DAC_OVERRIDE, CAP_FOWNER, setgid, SETUID, NET_RAW]\n"
    assert refused(tmp_path, text) == []
    facts = read(tmp_path / "derived", text)
    model = stack.derive(facts.compose.model, project="p", labels={}, images={}, left_out=set(),
                         limits=stack.ContainerLimits(1024, 1.0, 512))
    api = model["services"]["api"]
    assert "NET_RAW" in api["cap_drop"] and "NET_RAW" not in api["cap_add"]
    assert [stack._cap(c) for c in api["cap_add"]] == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
