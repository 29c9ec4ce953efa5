"""Import and export through the API round-trip exactly: YAML in → the same YAML out, JSON in →
the same JSON out, numbers exact (never through a float)."""

from __future__ import annotations

from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "src" / "galenic" / "recipes" / "demo"


def test_yaml_import_then_export_gives_the_same_bytes(api, personas, tiny_text):
    client = api(personas["engineer"])
    created = client.send(
        "post", "/api/v1/mbrs/?reason=first+import", tiny_text, "application/yaml"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["code"], body["version"], body["status"]) == ("MBR-TINY", 1, "draft")
    assert body["problems"] == []
    exported = client.get("/api/v1/mbrs/MBR-TINY/versions/1/export")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("application/yaml")
    assert 'filename="MBR-TINY-v1.yaml"' in exported["Content-Disposition"]
    assert exported.content.decode() == tiny_text


def test_json_import_then_export_gives_the_same_bytes(api, personas, tiny_doc):
    from galenic.recipes.document import dump_json

    text = dump_json(tiny_doc)
    client = api(personas["engineer"])
    created = client.send("post", "/api/v1/mbrs/?reason=json", text, "application/json")
    assert created.status_code == 201, created.content
    exported = client.get("/api/v1/mbrs/MBR-TINY/versions/1/export?format=json")
    assert exported.content.decode() == text


def test_version_document_keeps_exact_numbers(api, personas, tiny_text, tiny_doc):
    from galenic.recipes.document import content_hash, load_json

    client = api(personas["engineer"])
    client.send("post", "/api/v1/mbrs/?reason=x", tiny_text, "application/yaml")
    raw = client.get("/api/v1/mbrs/MBR-TINY/versions/1").content.decode()
    assert '"high_percent":100.5' in raw  # a number, not "100.5"
    document = raw[raw.index('"document":') + len('"document":') : -1]
    assert content_hash(load_json(document)) == content_hash(tiny_doc)


@pytest.mark.parametrize("name", ["paracetamol-500-tablets.yaml", "dextromethorphan-syrup.yaml"])
def test_demo_records_round_trip(api, personas, name):
    from galenic.recipes.document import dump_yaml, load_yaml

    text = (DEMO / name).read_text(encoding="utf-8")
    client = api(personas["engineer"])
    created = client.send("post", "/api/v1/mbrs/?reason=demo", text, "application/yaml").json()
    exported = client.get(f"/api/v1/mbrs/{created['code']}/versions/1/export").content.decode()
    assert exported == dump_yaml(load_yaml(text))
    assert load_yaml(exported) == load_yaml(text)


def test_unreadable_file_is_refused_with_the_line(api, personas):
    from galenic.recipes.models import MasterRecord

    client = api(personas["engineer"])
    answer = client.send("post", "/api/v1/mbrs/?reason=x", "code: A\ncode: B\n", "application/yaml")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert "duplicate key 'code'" in body["errors"][0]["message"]
    assert "line 2" in body["errors"][0]["message"]
    assert not MasterRecord.objects.exists()


def test_import_of_an_existing_code_makes_a_new_draft_version(api, mbr, tiny_doc):
    from galenic.recipes.document import dump_yaml

    v1 = mbr.to_effective()
    changed = tiny_doc.model_copy(update={"title": "Tiny oral solution 10 mg/mL"})
    client = api(mbr.p["engineer"])
    answer = client.send(
        "post", "/api/v1/mbrs/?reason=retitle", dump_yaml(changed), "application/yaml"
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["version"], body["status"], body["based_on"]) == (2, "draft", v1.version)
    again = client.send(
        "post", "/api/v1/mbrs/?reason=again", dump_yaml(changed), "application/yaml"
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "version"
