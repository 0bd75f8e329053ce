"""The checks that read the running service: its answers, its health, how it stops."""

from tests.unit.checks.helpers import run
from tests.unit.fakes import container, image, response


def test_http_cases_give_partial_credit():
    params = {"cases": [
        {"path": "/health", "status": 200, "within_ms": 100},
        {"method": "POST", "path": "/predict", "json": {"f": [1]}, "expect": {"class": "setosa"}},
    ]}
    good = {"GET /health": response(), 'POST /predict {"f": [1]}': response(body='{"class": "setosa"}')}
    assert run("http", params, http=good).fraction == 1
    wrong = dict(good, **{'POST /predict {"f": [1]}': response(body='{"class": "virginica"}')})
    outcome = run("http", params, http=wrong)
    assert outcome.fraction == 0.5 and "virginica" in outcome.message
    slow = dict(good, **{"GET /health": response(ms=900)})
    assert "over the 100 ms budget" in run("http", params, http=slow).message


def test_healthcheck():
    assert run("healthcheck").fraction == 1
    assert "no HEALTHCHECK" in run("healthcheck", image=image(healthcheck=None)).message
    curl = run("healthcheck", container=container(health="unhealthy", health_log=["/bin/sh: 1: curl: not found"]))
    assert curl.fraction == 0 and "curl" in curl.message
    never = run("healthcheck", container=container(health="starting", health_log=["refused"]))
    assert never.fraction == 0 and "never became healthy" in never.message


def test_stops_on_signal():
    from graders.facts import Stopped

    stopped = run("stops_on_signal", stop=Stopped("SIGTERM", ["uvicorn", "app.main:app"], 0.4, True, 0, 5.0))
    assert stopped.fraction == 1 and "SIGTERM stopped it in 0.4 s" in stopped.message
    held = run("stops_on_signal", stop=Stopped("SIGTERM", ["/bin/sh", "-c", "uvicorn app.main:app"], 5.0, False, None, 5.0))
    assert held.fraction == 0 and "PID 1 is `/bin/sh -c 'uvicorn app.main:app'`" in held.message
    gone = run("stops_on_signal", stop=Stopped("SIGTERM", ["uvicorn"], 0.0, True, 1, 5.0))
    assert gone.fraction == 0 and "already exited" in gone.message

