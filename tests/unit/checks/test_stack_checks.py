"""The checks that read a stack that ran (Lab 04), on outcomes written out."""

from pathlib import Path

from graders import checks
from graders.facts import Facts, HttpResponse, Persisted, ServiceState, Stack
from tests.unit.checks.helpers import grade


def stack(**changes) -> Facts:
    services = {
        "api": ServiceState("running", "healthy", None, [], ""),
        "redis": ServiceState("running", "unhealthy", None, ["/bin/sh: 1: curl: not found"], "ready\n"),
        "db": ServiceState("exited", None, 1, [], "FATAL: password missing\n"),
        "jupyter": ServiceState("missing", None, None, [], ""),
    }
    ready = HttpResponse(503, '{"ready": false, "dependencies": {"redis": {"ok": true}, "db": {"ok": false, "detail": "refused"}}}', 3)
    written = HttpResponse(200, '{"stored": true}', 2)
    result = Stack("p", {"qdrant": "no registry"}, False, "dependency failed to start", "", 30.0, services, "10.0.0.2:8000", ready,
                   {"feedback": Persisted(written, HttpResponse(200, '{"id": "tok"}', 2), "tok", True),
                    "runs": Persisted(written, HttpResponse(404, "{}", 2), "tok", True)},
                   {"vectors": ("qdrant not run here: no registry", False), "late": ("the stack did not come up healthy", True)})
    for key, value in changes.items():
        setattr(result, key, value)
    facts = Facts(submission=Path("."))
    facts.stack = result
    return facts



def test_service_health_outcomes():
    facts = stack()
    assert grade("service_healthy", facts, service="api").fraction == 1
    unhealthy = grade("service_healthy", facts, service="redis")
    assert unhealthy.fraction == 0 and "curl: not found" in unhealthy.message
    exited = grade("service_healthy", facts, service="db")
    assert exited.fraction == 0 and "exit code 1" in exited.message and "password missing" in exited.message
    assert "never started" in grade("service_healthy", facts, service="jupyter").message
    refused = stack(up_output='environment variable "PW" required by secret "p_pw" is not set',
                    services={"api": ServiceState("created", None, 0, [], "")})
    assert "never started (environment variable \"PW\"" in grade("service_healthy", refused, service="api").message
    assert grade("service_healthy", facts, service="qdrant").not_gradable


def test_ready_dependencies():
    facts = stack()
    assert grade("ready_dependency", facts, dependency="redis").fraction == 1
    assert "refused" in grade("ready_dependency", facts, dependency="db").message
    assert grade("ready_dependency", facts, dependency="qdrant").not_gradable
    assert grade("ready_dependency", stack(ready=None), dependency="redis").fraction == 0


def test_persistence_outcomes():
    facts = stack()
    assert grade("persists", facts, probe="feedback").fraction == 1
    assert "data is gone" in grade("persists", facts, probe="runs").message
    assert grade("persists", facts, probe="vectors").not_gradable
    late = grade("persists", facts, probe="late")
    assert late.fraction == 0 and not late.not_gradable


def test_a_persistence_criterion_must_name_a_probe_of_its_lab():
    from graders import course

    lab = course.load().lab("04-compose-stack")
    check = checks.get("persists")
    assert check.validate(check.Params(probe=lab.compose.persistence[0].id), lab) == []
    assert check.validate(check.Params(probe="nope"), lab) == [("probe", "no persistence probe 'nope' in this lab's compose")]

