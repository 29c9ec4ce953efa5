"""Recompute the hash of every hashed record (run in a site's environment; prints JSON):
master record versions and the frozen document of every batch against their stored hashes."""

from __future__ import annotations

import json
import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    import django

    django.setup()
    from galenic.execution.models import Batch
    from galenic.recipes.document import io
    from galenic.recipes.models import MasterRecordVersion

    bad: list[str] = []
    versions = list(MasterRecordVersion.objects.all())
    for version in versions:
        if io.content_hash(io.load_json(version.document_json)) != version.content_hash:
            bad.append(f"MBR {version.master_id} v{version.version}")
    batches = list(Batch.objects.all())
    for batch in batches:
        if io.content_hash(io.load_json(batch.document_json)) != batch.document_hash:
            bad.append(f"batch {batch.number}")
    print(json.dumps({"versions": len(versions), "batches": len(batches), "bad": bad}))


if __name__ == "__main__":
    main()
