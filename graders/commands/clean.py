"""`dockerlab clean [--registry]`: remove what a killed grading left behind (everything labelled by
dockerlab); with --registry, the course registry too (a cache kept between gradings)."""

from __future__ import annotations

from graders.engine import client
from graders.engine import registry as registry_mod
from graders.engine.session import MANAGED, remove_labelled


def main(*, registry: bool = False) -> int:
    problems: list[str] = []
    engine = client.connect()
    removed = remove_labelled(engine, f"{MANAGED}=true", problems)
    print("removed " + ", ".join(f"{count} {kind}" for kind, count in removed.items()))
    if registry:
        print("removed the course registry and its volume" if registry_mod.remove(engine) else "no course registry was there")
    for problem in problems:
        print(f"! {problem}")
    return 1 if problems else 0
