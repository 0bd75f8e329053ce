"""The service port is declared with EXPOSE."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered


class ExposedPortParams(Params):
    port: int = 8000


class ExposedPort(Check):
    Params = ExposedPortParams
    needs = ("image",)

    def grade(self, params: ExposedPortParams, facts: Facts) -> Outcome:
        ports = gathered(facts.image).exposed_ports
        if f"{params.port}/tcp" in ports:
            return Outcome.passed(f"port {params.port}/tcp is exposed", exposed=ports)
        seen = ", ".join(ports) if ports else "none"
        return Outcome.failed(f"port {params.port}/tcp is not exposed (exposed: {seen})", exposed=ports)
