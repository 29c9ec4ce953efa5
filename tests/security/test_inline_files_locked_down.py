"""Files shown inline (images a batch's master record refers to) carry a sandboxing CSP and nosniff,
so an uploaded file can never run script in the application's origin."""

from __future__ import annotations


def test_batch_document_file_is_sandboxed(client, db):
    from galenic.accounts.models import User
    from galenic.core.demo import seed_all
    from galenic.execution.models import Batch

    list(seed_all())
    batch = Batch.objects.get(number="PCM-DEMO-001")
    client.force_login(User.objects.get(username="olivia"))
    for path in (
        f"/batches/{batch.number}/document/hsg_setup",
        f"/api/v1/batches/{batch.number}/document/hsg_setup",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer["Content-Type"] == "image/jpeg"
        assert answer["X-Content-Type-Options"] == "nosniff"
        policy = answer["Content-Security-Policy"]
        assert "sandbox" in policy
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
