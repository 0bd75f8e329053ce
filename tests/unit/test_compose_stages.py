"""Which persistence probes run when the stack came up with a service unhealthy: a probe is tried when
the services it goes through serve, whatever an unrelated one does (and the real engine confirms it
in tests/integration/test_lab04.py, where jupyter's healthcheck fails)."""

from __future__ import annotations

from graders.compose_stages import _not_serving, _runnable
from graders.facts import ServiceState, Stack


def state(status: str = "running", health: str | None = "healthy") -> ServiceState:
    return ServiceState(status, health, None, [], "")


def stack(up_ok: bool, **services: ServiceState) -> Stack:
    return Stack("p", {}, up_ok, "", "", 1.0, dict(services), "127.0.0.1:1")


def test_an_unhealthy_service_outside_a_probe_does_not_stop_it(course):
    spec = course.lab("04-compose-stack").compose
    result = stack(False, api=state(), redis=state(health=None), mlflow=state(), postgres=state(),
                   qdrant=state(), jupyter=state(health="unhealthy"))
    assert [p.id for p in _runnable(spec, {}, result)] == ["feedback", "runs", "flowers"]
    assert result.not_tried == {}


def test_a_probe_whose_store_or_entry_is_down_is_the_learners_loss(course):
    spec = course.lab("04-compose-stack").compose
    result = stack(False, api=state(), redis=state(status="exited", health=None), mlflow=state(health="starting"),
                   postgres=state(), qdrant=state())
    assert [p.id for p in _runnable(spec, {}, result)] == ["flowers"]
    assert result.not_tried["feedback"] == ("redis did not come up healthy, so nothing was written", True)
    assert result.not_tried["runs"] == ("mlflow did not come up healthy, so nothing was written", True)
    down = stack(False, api=state(health="unhealthy"), redis=state(), mlflow=state(), postgres=state(), qdrant=state())
    assert _runnable(spec, {}, down) == [] and set(down.not_tried) == {"feedback", "runs", "flowers"}


def test_not_serving_names_the_first_service_down():
    states = {"a": state(), "b": state(health=None), "c": state(status="restarting", health=None)}
    assert _not_serving(states, ["a", "b"]) == ""
    assert _not_serving(states, ["a", "c", "missing"]) == "c"
    assert _not_serving(states, ["missing"]) == "missing"
