"""Questions asked inside a running container, answered through pytest-testinfra."""

from __future__ import annotations

from typing import Any

import testinfra

from graders.errors import EngineError
from graders.facts import Query


def answer(container_id: str, queries: list[Query]) -> dict[Query, Any]:
    if not queries:
        return {}
    as_root = testinfra.get_host(f"docker://root@{container_id}")
    as_image_user = testinfra.get_host(f"docker://{container_id}")
    answers: dict[Query, Any] = {}
    for query in dict.fromkeys(queries):
        try:
            answers[query] = _ask(query, as_root, as_image_user)
        except Exception as error:  # testinfra raises plain exceptions for failed docker exec
            raise EngineError(f"could not look inside the container ({query.kind}): {str(error)[:200]}") from error
    return answers


def _ask(query: Query, as_root: Any, as_image_user: Any) -> Any:  # testinfra hosts
    if query.kind == "process_uid":
        status = as_root.file("/proc/1/status").content_string
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
    if query.kind == "exec_uid":
        return as_image_user.user().uid
    if query.kind == "command":
        result = as_root.run(query.arg)
        return result.rc, result.stdout
    if query.kind == "pip_packages":
        return {name: info["version"] for name, info in as_root.pip.get_packages().items()}
    raise ValueError(f"unknown query kind {query.kind!r}")
