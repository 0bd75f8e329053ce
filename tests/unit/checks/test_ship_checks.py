"""Lab 05's checks: OCI labels from build args, a build secret left nowhere, liveness apart from
readiness, and the course's frozen advisories."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders import course
from graders.checks.advisories import DISTRIBUTIONS
from graders.facts import HttpRequest, HttpResponse, Provided
from tests.unit.checks.helpers import run
from tests.unit.fakes import image

LAB05 = {criterion.id: criterion.params for criterion in course.load().lab("05-ship-it").rubric}
ARGS = {"VERSION": "1.2.3", "REVISION": "0f" * 20, "CREATED": "2026-12-04T05:00:00Z"}
PROVIDED = Provided(ARGS, {"index_token": Path("/nowhere/secret")})
LABELS = {
    "org.opencontainers.image.version": "1.2.3",
    "org.opencontainers.image.revision": "0f" * 20,
    "org.opencontainers.image.created": "2026-12-04T05:00:00Z",
    "org.opencontainers.image.source": "https://git.example.org/ml/iris",
}


def test_labels_taken_from_the_build_args_pass():
    assert run("oci_labels", LAB05["labels"], image=image(labels=LABELS), provided=PROVIDED).fraction == 1


def test_a_label_written_by_hand_or_missing_loses_its_share():
    written = {**LABELS, "org.opencontainers.image.revision": "main"}
    outcome = run("oci_labels", LAB05["labels"], image=image(labels=written), provided=PROVIDED)
    assert outcome.fraction == 0.75 and "revision" in outcome.message and "build arg REVISION" in outcome.message
    no_source = {k: v for k, v in LABELS.items() if not k.endswith("source")}
    outcome = run("oci_labels", LAB05["labels"], image=image(labels=no_source), provided=PROVIDED)
    assert outcome.fraction == 0.75 and "source not set" in outcome.message
    assert run("oci_labels", LAB05["labels"], image=image(labels={}), provided=PROVIDED).fraction == 0


def test_an_empty_label_is_not_set():
    blank = {**LABELS, "org.opencontainers.image.source": " "}
    assert run("oci_labels", LAB05["labels"], image=image(labels=blank), provided=PROVIDED).fraction == 0.75


SECRET_MOUNT = """\
FROM python:3.11-slim
RUN --mount=type=secret,id=index_token python tools/install_private.py
"""


@pytest.mark.parametrize("flag", [
    "--mount=type=secret,id=index_token",
    "--mount=type=secret,id=index_token,required=true",
    "--mount=type=secret,target=/run/secrets/index_token",
    "--mount=type=secret,id=index_token,env=INDEX_TOKEN",  # BuildKit 0.14's env= form
])
def test_the_secret_mounted_in_any_written_form_and_left_nowhere_passes(flag):
    text = f"FROM python:3.11-slim\nRUN {flag} python tools/install_private.py\n"
    assert run("build_secret", LAB05["secret"], dockerfile_text=text, leaks=[]).fraction == 1


def test_a_secret_found_in_the_image_fails_and_says_where():
    outcome = run("build_secret", LAB05["secret"], dockerfile_text=SECRET_MOUNT,
                  leaks=["layer 3f2a: /app/token.txt"])
    assert outcome.fraction == 0 and "/app/token.txt" in outcome.message


def test_a_build_arg_that_leaks_nothing_is_still_not_a_secret_mount():
    text = "FROM python:3.11-slim\nARG INDEX_TOKEN\nRUN python tools/install_private.py\n"
    outcome = run("build_secret", LAB05["secret"], dockerfile_text=text, leaks=[])
    assert outcome.fraction == 0 and "--mount=type=secret,id=index_token" in outcome.message


def test_a_secret_mounted_under_another_id_is_not_this_one():
    text = "FROM python:3.11-slim\nRUN --mount=type=secret,id=token python x.py\n"
    assert run("build_secret", LAB05["secret"], dockerfile_text=text, leaks=[]).fraction == 0


def _answers(live_bare: int, ready_bare: int, ready: int = 200) -> dict:
    def answer(status: int) -> HttpResponse:
        return HttpResponse(status, "{}", 3.0)
    live, ready_key = HttpRequest("GET", "/live").key, HttpRequest("GET", "/ready").key
    return {"http": {live: answer(200), ready_key: answer(ready)},
            "unmounted": {live: answer(live_bare), ready_key: answer(ready_bare)}}


def test_alive_without_the_model_and_ready_only_with_it_passes():
    assert run("live_ready", LAB05["live-ready"], **_answers(200, 503)).fraction == 1


@pytest.mark.parametrize("live_bare, ready_bare, ready, fraction, words", [
    (200, 200, 200, 0.75, "/ready without the model: status 200, expected 503"),  # the model baked in
    (503, 503, 200, 0.75, "/live without the model"),  # liveness that waits on the model
    (200, 500, 200, 0.75, "expected 503"),  # an error is not a readiness answer
    (200, 503, 503, 0.75, "/ready with the model"),
])
def test_each_wrong_answer_costs_a_quarter(live_bare, ready_bare, ready, fraction, words):
    outcome = run("live_ready", LAB05["live-ready"], **_answers(live_bare, ready_bare, ready))
    assert outcome.fraction == fraction and words in outcome.message


def test_the_check_asks_the_same_questions_with_and_without_the_model():
    from graders import checks

    check = checks.get("live_ready")
    params = check.Params.model_validate(LAB05["live-ready"])
    assert check.requests(params) == check.other_requests(params, "unmounted")
    assert check.other_requests(params, "hardened") == []


def _listing(**packages: str) -> dict:
    import json

    return {"inside": {DISTRIBUTIONS: (0, json.dumps(packages) + "\n")}}


def test_no_advised_package_passes():
    outcome = run("advisories_clear", LAB05["advisories"], **_listing(fastapi="0.165.0", starlette="1.10.0"))
    assert outcome.fraction == 1


@pytest.mark.parametrize("packages, fraction, words", [
    ({"requests": "2.31.0"}, 2 / 3, "CVE-2024-35195"),
    ({"Requests": "2.31.0", "urllib3": "2.2.1"}, 1 / 3, "CVE-2024-35195"),  # names compared as PyPI does
    ({"urllib3": "1.26.18"}, 2 / 3, "CVE-2024-37891"),  # the older line has its own fixed release
    ({"urllib3": "1.26.19"}, 1, ""),
    ({"urllib3": "2.2.2", "requests": "2.32.0"}, 1, ""),
])
def test_each_advised_package_costs_its_share(packages, fraction, words):
    outcome = run("advisories_clear", LAB05["advisories"], **_listing(**packages))
    assert outcome.fraction == pytest.approx(fraction) and words in outcome.message


def test_an_image_whose_python_cannot_list_its_packages_fails_with_the_reason():
    outcome = run("advisories_clear", LAB05["advisories"], inside={DISTRIBUTIONS: (127, "python: not found\n")})
    assert outcome.fraction == 0 and "not found" in outcome.message


def test_a_range_that_is_not_a_specifier_is_named_in_course_yml():
    from graders import checks

    check = checks.get("advisories_clear")
    params = check.Params.model_validate({"advisories": [
        {"id": "X", "package": "p", "affected": ["< 1 or > 2"], "fixed": "3", "summary": "s"}]})
    assert check.validate(params, None) == [("advisories.0.affected", "'< 1 or > 2' is not a version specifier (PEP 440)")]



SERVICE = {
    "image": "registry.example.org/ml/iris-classifier:1.2.3", "read_only": True, "tmpfs": ["/tmp:size=16m"],
    "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"], "user": "10001:10001",
    "mem_limit": "536870912", "pids_limit": 128, "restart": "unless-stopped",
    "healthcheck": {"test": ["CMD", "python", "-c", "0"]},
}
STATUS = "Name:\tuvicorn\nUid:\t10001\t10001\t10001\t10001\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"
ROOT_RO = "1234 1200 0:55 / / ro,relatime master:1 - overlay overlay ro,lowerdir=..."


def _compose(**changes):
    from graders.facts import ComposeFile

    service = {key: value for key, value in {**SERVICE, **changes}.items() if value is not None}
    return ComposeFile("compose.prod.yaml", {"services": {"api": service}}, {}, {}, {})


def _hardened(status: str = STATUS, root: str = ROOT_RO, running: bool = True, logs: str = "", http=None):
    from graders.facts import Hardened
    from tests.unit.fakes import container

    return Hardened({"read_only": True}, container(running=running, exit_code=None if running else 3, logs=logs),
                    status, root, http or {})


def test_a_hardened_service_in_force_passes():
    outcome = run("production_hardened", LAB05["hardened"], compose=_compose(), hardened=_hardened())
    assert outcome.fraction == 1 and "CapEff 0000000000000000" in outcome.message


@pytest.mark.parametrize("changes, words", [
    ({"read_only": None}, "no read_only: true"),
    ({"cap_drop": ["NET_RAW"]}, "not [ALL]"),
    ({"security_opt": None}, "no-new-privileges"),
    ({"security_opt": ["no-new-privileges:false"]}, "no-new-privileges"),
    ({"user": "app"}, "numeric uid"),
    ({"user": "0:0"}, "numeric uid"),
    ({"mem_limit": None}, "no memory limit"),
    ({"pids_limit": None}, "no process limit"),
    ({"restart": "no"}, "no restart policy"),
    ({"privileged": True}, "privileged: true"),
    ({"cap_add": ["NET_ADMIN"]}, "cap_add: ['NET_ADMIN']"),
    ({"volumes": [{"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock"}]}, "socket"),
    ({"network_mode": "host"}, "network_mode: host"),
])
def test_each_missing_setting_costs_one_ninth(changes, words):
    outcome = run("production_hardened", LAB05["hardened"], compose=_compose(**changes), hardened=_hardened())
    assert outcome.fraction == pytest.approx(8 / 9) and words in outcome.message, outcome.message


@pytest.mark.parametrize("changes", [
    {"mem_limit": None, "pids_limit": None, "deploy": {"resources": {"limits": {"memory": "536870912", "pids": 128}}}},
    {"restart": None, "deploy": {"restart_policy": {"condition": "on-failure"}}},
    {"security_opt": ["no-new-privileges"]},
    {"security_opt": ["no-new-privileges=true"]},
    {"cap_drop": ["all"]},
    {"cap_drop": ["CAP_ALL", "NET_RAW"]},
    {"healthcheck": None},  # the image's own HEALTHCHECK counts
    {"user": "10001"},
])
def test_the_forms_people_write_keep_the_criterion(changes):
    assert run("production_hardened", LAB05["hardened"], compose=_compose(**changes), hardened=_hardened()).fraction == 1


def test_a_disabled_healthcheck_counts_as_none():
    outcome = run("production_hardened", LAB05["hardened"], compose=_compose(healthcheck={"disable": True}),
                  hardened=_hardened())
    assert outcome.fraction == pytest.approx(8 / 9) and "healthcheck disabled" in outcome.message


def test_a_setting_asked_but_not_in_force_loses_its_share():
    writable = ROOT_RO.replace(" / / ro,", " / / rw,")
    outcome = run("production_hardened", LAB05["hardened"], compose=_compose(), hardened=_hardened(root=writable))
    assert outcome.fraction == pytest.approx(8 / 9) and "read_only was asked but is not in force" in outcome.message


def test_without_a_running_container_the_file_alone_is_judged():
    from graders.facts import Missing

    gone = Missing("the container could not start", learner=True)
    assert run("production_hardened", LAB05["hardened"], compose=_compose(), hardened=gone).fraction == 1
    outcome = run("production_hardened", LAB05["hardened"], compose=_compose(), hardened=_hardened(running=False, status=""))
    assert outcome.fraction == 1 and outcome.evidence["proved_in_the_container"] != True  # noqa: E712


def test_the_hardened_service_answers_right():
    params = LAB05["hardened-serves"]
    from graders.checks.http import HttpParams, request_for

    cases = HttpParams.model_validate(params).cases
    good = {request_for(case).key: HttpResponse(200, '{"ready": true, "class": "setosa"}', 3.0) for case in cases}
    assert run("production_serves", params, hardened=_hardened(http=good)).fraction == 1
    bad = {**good, request_for(cases[1]).key: HttpResponse(503, '{"detail": "not loaded"}', 3.0)}
    assert run("production_serves", params, hardened=_hardened(http=bad)).fraction == 0.5


def test_a_hardened_service_that_dies_names_the_exception_not_uvicorns_farewell():
    logs = ("Traceback (most recent call last):\n  File \"/app/app/main.py\", line 30\n"
            "OSError: [Errno 30] Read-only file system: '/tmp/iris'\n\nERROR:    Application startup failed. Exiting.\n")
    outcome = run("production_serves", LAB05["hardened-serves"], hardened=_hardened(running=False, logs=logs))
    assert outcome.fraction == 0 and "OSError: [Errno 30] Read-only file system" in outcome.message


def test_the_hardened_requests_go_to_the_hardened_run_only():
    from graders import checks

    check = checks.get("production_serves")
    params = check.Params.model_validate(LAB05["hardened-serves"])
    assert check.requests(params) == [] and len(check.other_requests(params, "hardened")) == 2
    assert check.other_requests(params, "unmounted") == []


def _bom(pypi: dict[str, str], deb: dict[str, str], nested: bool = False) -> dict:
    items = [{"type": "library", "name": n, "version": v, "purl": f"pkg:pypi/{n.lower()}@{v}"} for n, v in pypi.items()]
    items += [{"type": "library", "name": n, "version": v, "purl": f"pkg:deb/debian/{n}@{v.replace('+', '%2B')}?arch=amd64"}
              for n, v in deb.items() if v is not None]
    items.append({"type": "operating-system", "name": "debian", "version": "12"})
    if nested:
        return {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "application", "name": "image",
                                                                                   "components": items}]}
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": items}


PYPI = {"fastapi": "0.165.0", "pydantic_core": "2.50.5", "iris-private": "1.0.0", "pip": "23.0.1"}
DEB = {"bash": "5.2.15-2+b13", "bsdutils": "1:2.38.1-5+deb12u3", "libsystemd0": "252.39-1~deb12u2"}


def _image_listing(pypi=PYPI, deb=DEB) -> dict:
    import json

    from graders.checks.sbom_true import DPKG

    dpkg = "".join(f"ii \t{n}\t{v}\t{n}\t{v}\n" for n, v in deb.items()) + "rc \tremoved-one\t1.0\tremoved-one\t1.0\n"
    dpkg += "ii \tlibsystemd0\t252.39-1~deb12u2\tsystemd\t252.39-1~deb12u2\n"
    return {"inside": {DISTRIBUTIONS: (0, json.dumps(pypi) + "\n"), DPKG: (0, dpkg)}}


def _sbom(document: dict):
    from graders.facts import Sbom

    return Sbom("sbom.cdx.json", document)


def test_an_sbom_of_exactly_what_the_image_holds_passes():
    outcome = run("sbom_true", {}, sbom=_sbom(_bom(PYPI, DEB)), **_image_listing())
    assert outcome.fraction == 1 and "7 packages" in outcome.message
    nested = run("sbom_true", {}, sbom=_sbom(_bom(PYPI, DEB, nested=True)), **_image_listing())
    assert nested.fraction == 1  # components inside components, as some tools write them


@pytest.mark.parametrize("pypi, deb, words", [
    ({k: v for k, v in PYPI.items() if k != "iris-private"}, DEB, "pypi iris-private 1.0.0 is not listed"),
    ({**PYPI, "fastapi": "0.110.0"}, DEB, "pypi fastapi is listed at 0.110.0, the image holds 0.165.0"),
    ({**PYPI, "requests": "2.32.3"}, DEB, "pypi requests 2.32.3 is listed, the image does not hold it"),
    (PYPI, {**DEB, "bsdutils": None}, "deb bsdutils 1:2.38.1-5+deb12u3 is not listed"),
    (PYPI, {**DEB, "systemd": "253-1"}, "deb systemd 253-1 is listed, the image does not hold it"),
])
def test_each_package_listed_wrong_costs_a_tenth(pypi, deb, words):
    outcome = run("sbom_true", {}, sbom=_sbom(_bom(pypi, deb)), **_image_listing())
    assert outcome.fraction == pytest.approx(0.9) and words in outcome.message, outcome.message


def test_a_source_package_named_at_its_binaries_version_is_true():
    # syft's ELF note cataloger: libsystemd.so names the source package it was built from
    bom = _bom(PYPI, DEB)
    bom["components"].append({"type": "library", "name": "systemd", "version": "252.39-1~deb12u2",
                              "purl": "pkg:deb/systemd@252.39-1~deb12u2"})
    assert run("sbom_true", {}, sbom=_sbom(bom), **_image_listing()).fraction == 1


def test_a_package_listed_at_two_versions_is_listed_wrong():
    bom = _bom(PYPI, DEB)  # a requirements file read beside the installed metadata, at another pin
    bom["components"].append({"type": "library", "name": "fastapi", "version": "0.110.0", "purl": "pkg:pypi/fastapi@0.110.0"})
    outcome = run("sbom_true", {}, sbom=_sbom(bom), **_image_listing())
    assert outcome.fraction == pytest.approx(0.9)
    assert "pypi fastapi is listed at 0.110.0 and 0.165.0, the image holds 0.165.0" in outcome.message


def test_names_are_compared_as_the_package_index_compares_them():
    spelled = {"FastAPI": "0.165.0", "pydantic-core": "2.50.5", "iris_private": "1.0.0", "pip": "23.0.1"}
    assert run("sbom_true", {}, sbom=_sbom(_bom(spelled, DEB)), **_image_listing()).fraction == 1


def test_a_document_that_is_not_cyclonedx_fails():
    outcome = run("sbom_true", {}, sbom=_sbom({"spdxVersion": "SPDX-2.3", "packages": []}), **_image_listing())
    assert outcome.fraction == 0 and "CycloneDX" in outcome.message


def test_an_sbom_of_requirements_only_loses_most_of_the_criterion():
    asked = {"fastapi": "0.165.0", "pydantic_core": "2.50.5"}
    outcome = run("sbom_true", {}, sbom=_sbom(_bom(asked, {})), **_image_listing())
    assert outcome.fraction == pytest.approx(0.5)  # pip, iris-private and the three Debian packages missing
