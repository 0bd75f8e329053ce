"""The JSON result document: a faithful dump of GradingResult, checked against its schema."""

from __future__ import annotations

import json as _json
from functools import cache
from pathlib import Path
from typing import Any

from graders.results import GradingResult

SCHEMA_PATH = Path(__file__).with_name("result.schema.json")


def dumps(result: GradingResult) -> str:
    return _json.dumps(result.to_dict(), indent=2, sort_keys=False)


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = _json.loads(SCHEMA_PATH.read_text())
    return loaded


def validate(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `document` does not follow the schema."""
    import jsonschema

    jsonschema.validate(document, schema())
