"""The published JSON Schema is generated from the model and kept up to date."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from galenic.recipes.document.io import read_yaml
from galenic.recipes.document.schema import json_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "schema" / "mbr.schema.json"
DOCUMENTS = [
    Path(__file__).parent / "data" / "tiny.yaml",
    *sorted((ROOT / "src" / "galenic" / "recipes" / "demo").glob("*.yaml")),
]


def test_published_schema_is_up_to_date() -> None:
    assert PUBLISHED.read_text(encoding="utf-8") == schema_text(), (
        "regenerate: python -m galenic.recipes.document.schema > docs/schema/mbr.schema.json"
    )


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_documents_conform_to_the_published_schema(path: Path) -> None:
    jsonschema.Draft202012Validator(json_schema()).validate(read_yaml(path.read_text("utf-8")))


def test_schema_refuses_an_unknown_field() -> None:
    data = read_yaml(DOCUMENTS[0].read_text("utf-8"))
    data["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(data)
