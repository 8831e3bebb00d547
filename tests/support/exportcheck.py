"""The archive export's lines checked against the published article schema
(``schemas/article.schema.json``), shared by the export, re-extraction and PostgreSQL
tests."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from tests.support.env import REPO

__all__ = ["SCHEMA", "validate"]

SCHEMA = json.loads((REPO / "schemas" / "article.schema.json").read_text(encoding="utf-8"))
jsonschema.Draft202012Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def validate(line: str) -> dict[str, Any]:
    """One JSON line of ``aggregator export``, valid against the schema; the record."""
    record: dict[str, Any] = json.loads(line)
    VALIDATOR.validate(record)
    return record
