"""The only code that talks to Docker, Compose, hadolint and dive.

Checks never import from here: they read the facts these functions return. Outside this package
nothing imports the Docker SDK or requests, or runs the docker or Compose CLIs
(tests/unit/test_engine_boundary.py); what the rest of the grader knows of a failure here is
machine_trouble().
"""

from __future__ import annotations

import sys

from graders.errors import EngineError


def machine_trouble(error: BaseException) -> bool:
    """Whether an error is the machine's, not the learner's: an EngineError, or one of the Docker
    SDK's or HTTP's (looked up only when loaded: a grading that never needed the engine never
    imports them)."""
    if isinstance(error, EngineError):
        return True
    kinds = [getattr(sys.modules.get(name), kind, None) for name, kind in
             (("docker.errors", "DockerException"), ("requests.exceptions", "RequestException"))]
    return any(kind is not None and isinstance(error, kind) for kind in kinds)
