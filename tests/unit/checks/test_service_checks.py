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


def test_a_healthcheck_that_passes_where_the_service_is_not_running_tests_nothing():
    from graders.facts import IMAGE_HEALTHCHECK, Missing

    idle_fails = run("healthcheck", inside={IMAGE_HEALTHCHECK: (1, "Connection refused")})
    assert idle_fails.fraction == 1 and "failing where the service is not running" in idle_fails.message
    idle_passes = run("healthcheck", inside={IMAGE_HEALTHCHECK: (0, "")})
    assert idle_passes.fraction == 0 and "tests nothing" in idle_passes.message
    # an image the grader cannot look inside (no shell): judged on the service alone
    unseen = run("healthcheck", inside=Missing("could not look inside the container", learner=False))
    assert unseen.fraction == 1 and "failing" not in unseen.message


def test_the_image_s_health_command_is_asked_as_it_is_written_and_bounded():
    from graders.facts import IMAGE_HEALTHCHECK, Query
    from graders.stages import _resolved

    exec_form = _resolved(IMAGE_HEALTHCHECK, {"Test": ["CMD", "python", "-c", "import sys; sys.exit(1)"]})
    assert exec_form == Query("user_command", "if command -v timeout >/dev/null; then timeout 10 python -c 'import sys; sys.exit(1)'; "
                                         "else python -c 'import sys; sys.exit(1)'; fi")
    shell_form = _resolved(IMAGE_HEALTHCHECK, {"Test": ["CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"]})
    assert shell_form is not None and "timeout 10 sh -c 'curl -f http://localhost:8000/health || exit 1'" in shell_form.arg
    assert _resolved(IMAGE_HEALTHCHECK, None) is None and _resolved(IMAGE_HEALTHCHECK, {"Test": ["NONE"]}) is None
    other = Query("command", "id -u")
    assert _resolved(other, None) is other


def test_stops_on_signal():
    from graders.facts import Stopped

    stopped = run("stops_on_signal", stop=Stopped("SIGTERM", ["uvicorn", "app.main:app"], 0.4, True, 0, 5.0))
    assert stopped.fraction == 1 and "SIGTERM stopped it in 0.4 s" in stopped.message
    held = run("stops_on_signal", stop=Stopped("SIGTERM", ["/bin/sh", "-c", "uvicorn app.main:app"], 5.0, False, None, 5.0))
    assert held.fraction == 0 and "PID 1 is `/bin/sh -c 'uvicorn app.main:app'`" in held.message
    gone = run("stops_on_signal", stop=Stopped("SIGTERM", ["uvicorn"], 0.0, True, 1, 5.0))
    assert gone.fraction == 0 and "already exited" in gone.message

