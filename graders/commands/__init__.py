"""One module per `dockerlab` subcommand, each with a keyword-only main()."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from graders import course as course_mod
from graders.errors import UsageError

if TYPE_CHECKING:
    from distributed.security import Security


def load_course(course_path: Path | None) -> course_mod.Course:
    return course_mod.load(course_path or course_mod.default_path())


def course_root(course_path: Path | None) -> Path:
    return (course_path or course_mod.default_path()).resolve().parent


def security(address: str | None, tls: tuple[Path | None, Path | None, Path | None]) -> Security | None:
    """Dask's TLS settings for a tls:// address: the course CA, and this machine's certificate and key."""
    ca, cert, key = tls
    if not (address or "").startswith("tls://"):
        if any(tls):
            raise UsageError("--tls-ca, --tls-cert and --tls-key go with a tls:// address")
        return None
    if not all(tls):
        raise UsageError("a tls:// address needs --tls-ca, --tls-cert and --tls-key (see README, "
                         "\"Grading on several machines\")")
    for path in tls:
        if path is None or not path.is_file():
            raise UsageError(f"{path}: no such file")
    from distributed.security import Security

    return Security(tls_ca_file=str(ca), tls_client_cert=str(cert), tls_client_key=str(key),
                    tls_worker_cert=str(cert), tls_worker_key=str(key), require_encryption=True)
