"""The lifecycle through the API: signed submit, check and approve (SignatureIn), make effective
with a reason, errors in the standard shape, the review diff the approver sees."""

from __future__ import annotations

from galenic.testing.support import PASSWORD

BASE = "/api/v1/mbrs/MBR-TINY/versions"


def _sign(client, path, user, **extra):
    version = client.get(path.rsplit("/", 1)[0]).json()
    return client.post(
        path,
        {
            "user_id": user.username,
            "password": PASSWORD,
            "content_sha256": version["signing_fingerprint"],
            "row_version": version["row_version"],
            **extra,
        },
    )


def test_lifecycle_through_the_api(api, signers, tiny_text):
    engineer, reviewer, approver = signers["engineer"], signers["reviewer"], signers["approver"]
    author = api(engineer)
    assert (
        author.send("post", "/api/v1/mbrs/?reason=new", tiny_text, "application/yaml").status_code
        == 201
    )

    answer = _sign(author, f"{BASE}/1/submit", engineer)
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "in_review"

    own_check = _sign(author, f"{BASE}/1/check", engineer)
    assert own_check.status_code == 403
    assert own_check.json()["code"] == "forbidden"

    answer = _sign(api(reviewer), f"{BASE}/1/check", reviewer)
    assert answer.status_code == 200, answer.content

    qa = api(approver)
    review = qa.get(f"{BASE}/1/review").json()
    assert review["compared_with"] is None  # a first version has nothing to compare with
    answer = _sign(qa, f"{BASE}/1/approve", approver, reason="fit for use")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "approved"
    assert [s["meaning"] for s in body["signatures"]] == ["authored", "checked", "approved"]
    assert all(s["status"] == "valid" for s in body["signatures"])
    assert body["signatures"][2]["reason"] == "fit for use"

    answer = qa.post(f"{BASE}/1/make-effective", {"reason": "training complete"})
    assert answer.status_code == 200
    assert answer.json()["status"] == "effective"
    listing = qa.get("/api/v1/mbrs/").json()
    assert listing[0]["effective_version"] == 1


def test_wrong_password_is_a_field_error(api, signers, tiny_text):
    author = api(signers["engineer"])
    author.send("post", "/api/v1/mbrs/?reason=new", tiny_text, "application/yaml")
    answer = author.post(
        f"{BASE}/1/submit", {"user_id": signers["engineer"].username, "password": "wrong"}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "password"
    assert author.get(f"{BASE}/1").json()["status"] == "draft"


def test_invalid_record_cannot_be_submitted_problems_listed(api, signers, tiny_text):
    text = tiny_text.replace(
        "precautions:\n- Wear gloves and safety glasses when handling the active ingredient.\n", ""
    )
    assert text != tiny_text
    author = api(signers["engineer"])
    author.send("post", "/api/v1/mbrs/?reason=new", text, "application/yaml")
    answer = _sign(author, f"{BASE}/1/submit", signers["engineer"])
    assert answer.status_code == 400
    assert {
        "field": "precautions",
        "message": "special notations and precautions is required (21 CFR 211.186(b)(9))",
    } in answer.json()["errors"]


def test_stale_row_version_is_409(api, signers, tiny_text):
    author = api(signers["engineer"])
    author.send("post", "/api/v1/mbrs/?reason=new", tiny_text, "application/yaml")
    edit = {"op": "set", "path": "", "values": {"title": "Tiny 2"}}
    first = author.patch(f"{BASE}/1/document", {"row_version": 1, "reason": "title", "ops": [edit]})
    assert first.status_code == 200, first.content
    assert first.json()["row_version"] == 2
    stale = author.patch(f"{BASE}/1/document", {"row_version": 1, "reason": "title", "ops": [edit]})
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "row_version"


def test_patch_keeps_decimal_numbers_exact(api, signers, tiny_text):
    author = api(signers["engineer"])
    author.send("post", "/api/v1/mbrs/?reason=new", tiny_text, "application/yaml")
    path = "unit_procedures[0].operations[1].steps[0].parameters[0]"
    answer = author.patch(
        f"{BASE}/1/document",
        {"reason": "r", "ops": [{"op": "set", "path": path, "values": {"action_high": 30.10}}]},
    )
    assert answer.status_code == 200
    assert '"action_high":30.1' in answer.content.decode()


def test_diff_between_versions(api, mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services
    from galenic.recipes.editing import EditOp

    v1 = mbr.to_effective()
    with action_context("test"):
        v2 = services.new_version(actor=mbr.p["engineer"], version=v1, reason="tighter pH")
        services.edit_document(
            actor=mbr.p["engineer"],
            version=v2,
            ops=[
                EditOp(
                    "set",
                    "unit_procedures[0].operations[3].steps[0].parameters[0]",
                    values={"action_high": "5.4"},
                )
            ],
            expected_row_version=v2.row_version,
        )
    client = api(mbr.p["approver"])
    diff = client.get("/api/v1/mbrs/MBR-TINY/diff", {"from": 1, "to": 2}).json()
    assert diff["count"] == 1
    change = diff["changes"][0]
    assert (change["area"], change["key"], change["field"]) == (
        "limits",
        "dissolve.ph",
        "action_high",
    )
    assert (change["old"], change["new"]) == ("5.5", "5.4")
    assert "dissolve.ph action_high: 5.5 → 5.4" in diff["text"]
    review = client.get(f"{BASE}/2/review").json()
    assert review["compared_with"]["version"] == 1
    assert review["diff"]["count"] == 1


def test_validate_schema_and_dry_run(api, personas, tiny_text):
    client = api(personas["engineer"])
    ok = client.send("post", "/api/v1/mbrs/validate", tiny_text, "application/yaml").json()
    assert ok == {"valid": True, "problems": []}
    bad = client.send(
        "post", "/api/v1/mbrs/validate", "code: X\nbogus: 1\n", "application/yaml"
    ).json()
    assert bad["valid"] is False
    assert any(p["path"] == "bogus" for p in bad["problems"])
    schema = client.get("/api/v1/mbrs/schema").json()
    assert schema["title"].startswith("Galenic master batch record")
    client.send("post", "/api/v1/mbrs/?reason=new", tiny_text, "application/yaml")
    run = client.post(
        f"{BASE}/1/dry-run",
        {"values": {"dissolve.ph": "6.0 pH", "adjust_ph.ph_adjusted": ["5.9 pH", "5.0 pH"]}},
    ).json()
    steps = [(e["step"], e["status"], e["run"]) for e in run["path"]]
    assert ("adjust_ph", "completed", 2) in steps
    assert any(f["parameter"] == "ph" for f in run["firing"])
    assert "Limits that would fire" in run["text"]


def test_unauthenticated_is_401_and_operator_cannot_import(api, personas, tiny_text):
    assert api().get("/api/v1/mbrs/").status_code == 401
    answer = api(personas["operator"]).send(
        "post", "/api/v1/mbrs/?reason=x", tiny_text, "application/yaml"
    )
    assert answer.status_code == 403


def test_openapi_documents_the_mbr_api(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/mbrs/",
        "/api/v1/mbrs/schema",
        "/api/v1/mbrs/validate",
        "/api/v1/mbrs/{code}/versions/{number}",
        "/api/v1/mbrs/{code}/versions/{number}/document",
        "/api/v1/mbrs/{code}/versions/{number}/approve",
        "/api/v1/mbrs/{code}/diff",
        "/api/v1/mbrs/{code}/versions/{number}/dry-run",
    ):
        assert path in paths, path
    body = paths["/api/v1/mbrs/"]["post"]["requestBody"]["content"]
    assert {"application/yaml", "application/json"} <= set(body)
    approve = paths["/api/v1/mbrs/{code}/versions/{number}/approve"]["post"]
    ref = approve["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"user_id", "password", "reason", "content_sha256", "row_version"} <= set(
        schema["properties"]
    )
