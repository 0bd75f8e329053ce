"""The only code that talks to Docker, Compose, hadolint and dive.

Checks never import from here: they read the facts these functions return. Outside this package
nothing imports the Docker SDK or requests, or runs the docker or Compose CLIs, and every error
that leaves it is an EngineError: each function that reaches the engine is a `boundary`
(tests/unit/test_engine_boundary.py enforces both). The pipelines' stages reach it only through the
Engine protocol (graders.engine.api); docker_engine.DockerEngine is the real one.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from graders.errors import EngineError

P = ParamSpec("P")
R = TypeVar("R")


def boundary(function: Callable[P, R]) -> Callable[P, R]:
    """`function`, with every failure of the machine turned into an EngineError: the Docker SDK's and
    HTTP's errors, the operating system's (a CLI that cannot start, a socket, a full disk) and a
    command past its time limit. A bug (KeyError, TypeError, …) stays a bug."""

    @functools.wraps(function)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except EngineError:
            raise
        except Exception as error:
            if not sdk_error(error):
                raise
            raise EngineError(f"the Docker engine failed: {str(error)[:500]}") from error

    return guarded


def sdk_error(error: BaseException) -> bool:
    """One of the machine's errors: the Docker SDK's or HTTP's (looked up only when loaded: a grading
    that never needed the engine never imports them), the OS's, or a command's time-out."""
    kinds = [getattr(sys.modules.get(name), kind, None) for name, kind in
             (("docker.errors", "DockerException"), ("requests.exceptions", "RequestException"),
              ("subprocess", "TimeoutExpired"))]
    return isinstance(error, OSError) or any(kind is not None and isinstance(error, kind) for kind in kinds)


def machine_trouble(error: BaseException) -> bool:
    """Whether an error is the machine's, not the learner's: what leaves this package is an EngineError."""
    return isinstance(error, EngineError)
