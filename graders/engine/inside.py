"""Questions asked inside a running container: through pytest-testinfra where the image has a
shell, and with the grader's own tools (graders.engine.toolbox) where it has none."""

from __future__ import annotations

from typing import Any

import testinfra
from docker.models.containers import Container as EngineContainer

from graders.engine import boundary, toolbox
from graders.engine.session import Session
from graders.errors import EngineError
from graders.facts import Query

NO_SUCH_PROGRAM = (126, 127)
"""What `docker exec` reports for a program the image lacks (not found, or not executable)."""


@boundary
def answer(session: Session, container_id: str, queries: list[Query]) -> dict[Query, Any]:
    if not queries:
        return {}
    container = session.client.containers.get(container_id)
    asked = [query for query in queries if query.kind == "process_uid"]
    uid = _process_uid(container) if asked else None
    answers: dict[Query, Any] = dict.fromkeys(asked, uid) if uid is not None else {}
    queries = [query for query in queries if query not in answers]
    if not queries:  # the running service's questions are often only this one: no shell, no testinfra
        return answers
    if not _has_shell(container):
        return {**answers, **_without_shell(container, queries)}
    as_root = testinfra.get_host(f"docker://root@{container_id}")
    as_image_user = testinfra.get_host(f"docker://{container_id}")
    for query in dict.fromkeys(queries):
        try:
            answers[query] = _ask(query, as_root, as_image_user)
        except Exception as error:  # testinfra raises plain exceptions for failed docker exec
            raise EngineError(f"could not look inside the container ({query.kind}): {str(error)[:200]}") from error
    return answers


def _process_uid(container: EngineContainer) -> int | None:
    """The uid of the container's main process, read from /proc/1/status by one exec through the API
    (a fifth of testinfra's first command, which starts the docker CLI); None when the image has no `cat`."""
    code, output = container.exec_run(["cat", "/proc/1/status"], user="root")
    text = output.decode(errors="replace") if isinstance(output, bytes) else ""
    uid = next((line.split()[1] for line in text.splitlines() if line.startswith("Uid:")), "")
    return int(uid) if code == 0 and uid.isdigit() else None


def _has_shell(container: EngineContainer) -> bool:
    code, _output = container.exec_run(["/bin/sh", "-c", "true"], user="root")
    return code not in NO_SUCH_PROGRAM


def _ask(query: Query, as_root: Any, as_image_user: Any) -> Any:  # testinfra hosts
    if query.kind == "process_uid":
        status = as_root.file("/proc/1/status").content_string
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
    if query.kind == "exec_uid":
        return as_image_user.user().uid
    if query.kind in ("command", "user_command"):
        result = (as_root if query.kind == "command" else as_image_user).run(query.arg)
        return result.rc, result.stdout
    if query.kind == "pip_packages":
        return {name: info["version"] for name, info in as_root.pip.get_packages().items()}
    raise ValueError(f"unknown query kind {query.kind!r}")


def _without_shell(container: EngineContainer, queries: list[Query]) -> dict[Query, Any]:
    """The same questions, asked with busybox copied into the container (its PATH after the image's)."""
    toolbox.put(container)
    image_path = next((e.split("=", 1)[1] for e in container.attrs["Config"].get("Env") or [] if e.startswith("PATH=")), "")
    env = {"PATH": toolbox.path(image_path)}

    def run(command: str, user: str = "root") -> tuple[int, str]:
        code, output = container.exec_run([toolbox.SHELL, "-c", command], user=user, environment=env, demux=True)
        stdout = (output[0] or b"").decode(errors="replace") if isinstance(output, tuple) else ""
        return (code if code is not None else -1), stdout

    answers: dict[Query, Any] = {}
    for query in dict.fromkeys(queries):
        if query.kind == "process_uid":
            _code, status = run("cat /proc/1/status")
            answers[query] = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
        elif query.kind == "exec_uid":
            _code, uid = run("id -u", user="")
            answers[query] = int(uid.strip())
        elif query.kind in ("command", "user_command"):
            answers[query] = run(query.arg, user="root" if query.kind == "command" else "")
        elif query.kind == "pip_packages":
            raise EngineError("the image has no shell, and its packages are listed only with pip, which it lacks")
        else:
            raise ValueError(f"unknown query kind {query.kind!r}")
    return answers
