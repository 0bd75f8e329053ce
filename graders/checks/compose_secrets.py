from __future__ import annotations

import re
from typing import Any

from graders.checks._compose import at, first
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)
URI_PASSWORD = re.compile(r"://[^/\s:@]+:([^@\s]+)@")


DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]+)\}")
"""`${NAME:-value}` or `${NAME-value}`: a value written in the file, used whenever NAME is not set."""
NO_PASSWORD = {"POSTGRES_HOST_AUTH_METHOD": {"trust"}, "MYSQL_ALLOW_EMPTY_PASSWORD": {"1", "yes", "true"},
               "ALLOW_EMPTY_PASSWORD": {"1", "yes", "true"}}
"""Settings of the official database images that turn password checks off."""


def plaintext(value: str) -> bool:
    """A value written out in the file rather than taken from a variable (`${NAME}`) or a secret file;
    a variable's default (`${NAME:-value}`) is written out too."""
    if not value or value.startswith("/run/secrets/"):
        return False
    return "${" not in value or DEFAULT.search(value) is not None


class NoPlaintextSecrets(Check):
    """No password, token or key written in the Compose file itself: they come from `.env`
    (`${NAME}`) or from secrets files. Read on the model with interpolation off. A password taken from
    a variable but put on a command line (a database URL in `command:`) costs half: every user of
    the host sees process arguments."""

    needs = ("compose",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        compose = gathered(facts.compose)
        found, exposed = [], []
        for name, service in (compose.raw.get("services") or {}).items():
            for key, value in _mapping(service.get("environment")).items():
                text = "" if value is None else str(value)
                path = f"services.{name}.environment.{key}"
                if text.lower() in NO_PASSWORD.get(key, set()):
                    found.append(f"{at(compose, path)} turns password checks off: anyone who reaches it gets in")
                elif SECRET_NAME.search(key) and not key.endswith("_FILE") and plaintext(text):
                    found.append(f"{at(compose, path)} is written in the file"
                                 + (" (as the variable's default)" if "${" in text else ""))
                elif (match := URI_PASSWORD.search(text)) and plaintext(match.group(1)):
                    found.append(f"{at(compose, path)} holds a URL with a password in it")
            for key, value in _mapping((service.get("build") or {}).get("args")).items():
                if SECRET_NAME.search(key) and plaintext(str(value or "")):
                    found.append(f"{at(compose, f'services.{name}.build.args.{key}')} is written in the file (and stays in the image)")
            for key in ("command", "entrypoint"):
                words = service.get(key) or []
                words = [words] if isinstance(words, str) else words
                for word in words:
                    if not (match := URI_PASSWORD.search(str(word))):
                        continue
                    where = at(compose, f"services.{name}.{key}")
                    if plaintext(match.group(1)):
                        found.append(f"{where} holds a URL with a password in it")
                    else:
                        exposed.append(f"{where} puts {match.group(1)} on the command line, where `ps` on the host "
                                       "shows it to every user, and a / or @ in it breaks the URL")
                    break
        if not found and not exposed:
            return Outcome.passed("no secret is written in the file, or passed on a command line")
        if not found:
            return Outcome.partial(0.5, f"no secret is written in the file, but {first(exposed)}", secrets=exposed)
        return Outcome.failed(f"{len(found)} secret(s) written in the file: {first(found)}", secrets=found + exposed)


def _mapping(value: Any) -> dict[str, Any]:
    """`environment` and `args` as a mapping (the uninterpolated model may keep the list form)."""
    if isinstance(value, list):
        return {key: rest[0] if rest else None for key, *rest in (str(item).split("=", 1) for item in value)}
    return value or {}
