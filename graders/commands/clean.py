"""`dockerlab clean`: remove what a killed grading left behind (everything labelled by dockerlab)."""

from __future__ import annotations

from graders.engine import client
from graders.engine.session import MANAGED, remove_labelled


def main() -> int:
    problems: list[str] = []
    removed = remove_labelled(client.connect(), f"{MANAGED}=true", problems)
    print("removed " + ", ".join(f"{count} {kind}" for kind, count in removed.items()))
    for problem in problems:
        print(f"! {problem}")
    return 1 if problems else 0
