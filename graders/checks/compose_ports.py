from __future__ import annotations

from graders.checks._compose import at, first, services
from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class PortsParams(Params):
    services: list[str]
    """The data stores: published, if at all, on the loopback interface only."""


class PrivatePorts(Check):
    """Databases are not published on every interface of the host (`5432:5432` is reachable from the
    network, and so is `"5432"`, on a port the engine picks). `expose:` publishes nothing."""

    Params = PortsParams
    needs = ("compose",)

    def grade(self, params: PortsParams, facts: Facts) -> Outcome:
        present = services(gathered(facts.compose))
        judged = [name for name in params.services if name in present]
        exposed, bad = [], set()
        for name in judged:
            for index, port in enumerate(present[name].get("ports") or []):
                if (port.get("host_ip") or "0.0.0.0") not in LOOPBACK:  # no host port: a random one, still public
                    bad.add(name)
                    host_port = port.get("published") or "a random port"
                    exposed.append(f"{at(gathered(facts.compose), f'services.{name}.ports[{index}]')}: {name} publishes "
                                   f"{host_port}→{port.get('target')} on every interface")
        if not judged:
            return Outcome.failed(f"none of {', '.join(params.services)} is defined")
        if not exposed:
            return Outcome.passed(f"{', '.join(judged)}: not published, or on 127.0.0.1 only")
        return Outcome.partial(1 - len(bad) / len(judged),
                               f"{len(bad)} data store(s) published on all interfaces: {first(exposed)}", exposed=exposed)
