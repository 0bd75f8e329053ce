"""What a container's inspect document says, read one way for the single service (run.py) and for
a stack's services (stack_state.py): its address, its health log, a command's last line."""

from __future__ import annotations

from typing import Any


def last_line(output: str) -> str:
    """The last line that says something: a Python traceback's exception, a shell's error."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def address(attrs: dict[str, Any], port: int) -> str | None:
    """host:port of the container on the first network that gave it an address."""
    for network in (attrs.get("NetworkSettings", {}).get("Networks") or {}).values():
        if network.get("IPAddress"):
            return f"{network['IPAddress']}:{port}"
    return None


def health(state: dict[str, Any]) -> str | None:
    return (state.get("Health") or {}).get("Status")


def health_log(state: dict[str, Any]) -> list[str]:
    """The last line of each healthcheck the engine kept (it keeps the last five)."""
    return [last_line(entry.get("Output") or "") for entry in (state.get("Health") or {}).get("Log") or []]
