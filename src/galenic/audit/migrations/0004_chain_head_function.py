"""PostgreSQL: one function that takes the chain-head lock and then reads the head.

The append used to send three statements for this (check the transaction's deferred foreign
keys, take the advisory lock, read the head), each parsed and planned by the server every time.
A PL/pgSQL function plans its statements once per session, and being VOLATILE each of its
statements takes a fresh snapshot under READ COMMITTED: the head is read after the lock is
granted, so it includes the event of whoever held the lock before. SQLite needs nothing here.

The SQL is written out here (not imported) so this migration never changes after release.
"""

from django.db import migrations

PG_FORWARD = [
    """CREATE OR REPLACE FUNCTION audit_lock_chain_head(lock_key bigint)
    RETURNS TABLE (head_seq bigint, head_hash varchar)
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        -- Deferred foreign keys are checked first, before the lock: a check that waits for a
        -- row lock while holding the chain head would deadlock against that row's holder.
        SET CONSTRAINTS ALL IMMEDIATE;
        PERFORM pg_advisory_xact_lock(lock_key);
        RETURN QUERY SELECT e.seq, e.hash FROM audit_auditevent e ORDER BY e.seq DESC LIMIT 1;
    END
    $$""",
    # The same, for a writer that expects a head it already knows (the event it appended last):
    # refuses (SQLSTATE GA001) unless the head is that one. The writer sends this, its INSERT and
    # the COMMIT in one message, after a SAVEPOINT it rolls back to when refused.
    """CREATE OR REPLACE FUNCTION audit_lock_chain_head_at(
        lock_key bigint, expected_seq bigint, expected_hash varchar
    ) RETURNS void
    LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
        found_seq bigint;
        found_hash varchar;
    BEGIN
        SET CONSTRAINTS ALL IMMEDIATE;
        PERFORM pg_advisory_xact_lock(lock_key);
        SELECT e.seq, e.hash INTO found_seq, found_hash
            FROM audit_auditevent e ORDER BY e.seq DESC LIMIT 1;
        IF found_seq IS DISTINCT FROM expected_seq OR found_hash IS DISTINCT FROM expected_hash
        THEN
            RAISE EXCEPTION 'the audit chain head is no longer event %', expected_seq
                USING ERRCODE = 'GA001';
        END IF;
    END
    $$""",
]
PG_BACKWARD = [
    "DROP FUNCTION IF EXISTS audit_lock_chain_head_at(bigint, bigint, varchar)",
    "DROP FUNCTION IF EXISTS audit_lock_chain_head(bigint)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_append_only_triggers"),
    ]

    operations = [
        migrations.RunPython(_run(PG_FORWARD), _run(PG_BACKWARD), elidable=False),
    ]
