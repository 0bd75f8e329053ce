"""The final stage carries the installed packages from an earlier stage, and they import there."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, Query, gathered


class CarriedFromBuilderParams(Params):
    modules: list[str]
    """Modules that must import in the final image (the compiled one first)."""


def query(params: CarriedFromBuilderParams) -> Query:
    # as the image's user, who runs the service: packages installed with `pip install --user` import for it
    return Query("user_command", f"python -c 'import {', '.join(params.modules)}' 2>&1 | tail -n 1")


class CarriedFromBuilder(Check):
    Params = CarriedFromBuilderParams
    needs = ("dockerfile", "inside")

    def queries(self, params: CarriedFromBuilderParams) -> list[Query]:
        return [query(params)]

    def grade(self, params: CarriedFromBuilderParams, facts: Facts) -> Outcome:
        copies = [copy for copy, _source in gathered(facts.dockerfile).copies_from_stages()]
        code, output = gathered(facts.inside)[query(params)]
        imports = code == 0 and not output.strip()
        evidence = {"copies": [f"line {i.line}: {i.text()}" for i in copies], "import_output": output.strip()[-200:]}
        problems = []
        if not copies:
            problems.append("the final stage copies nothing from an earlier stage")
        if not imports:
            problems.append(f"python cannot import {', '.join(params.modules)} in the final image: {output.strip()[-160:]}")
        if not problems:
            return Outcome.passed(f"{copies[0].text()} (line {copies[0].line}); {', '.join(params.modules)} import", **evidence)
        return Outcome.partial(0.5 * (2 - len(problems)), "; ".join(problems), **evidence)
