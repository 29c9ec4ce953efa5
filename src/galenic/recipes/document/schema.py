"""The published JSON Schema of the master record format, generated from the model.

The committed copy lives at docs/schema/mbr.schema.json; a test fails when it is out of date.
Regenerate with ``python -m galenic.recipes.document.schema > docs/schema/mbr.schema.json``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from galenic.recipes.document.model import FORMAT, MasterBatchRecord

SCHEMA_ID = "https://galenic.example/schema/mbr-1.schema.json"


def json_schema() -> dict[str, Any]:
    schema = MasterBatchRecord.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"Galenic master batch record ({FORMAT})",
        "description": (
            "A master batch record (21 CFR 211.186) in ISA-88 form: procedure -> unit procedures "
            "-> operations -> steps. See docs/mbr-format.md."
        ),
        **{k: v for k, v in schema.items() if k not in {"title", "description"}},
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    sys.stdout.write(schema_text())


if __name__ == "__main__":
    main()
