"""The database refuses to change signatures and policy acknowledgements (21 CFR 11.70).

SQLite: BEFORE UPDATE triggers. Deleting is refused in code and *detected*: every signing is
also in the hash-chained audit trail, and ``galenic signatures verify`` names a signature that
the trail records but the table no longer holds. (A BEFORE DELETE trigger would break the test
runner's ``flush``, which the audit app's engine lifts for the audit table only.)
PostgreSQL: BEFORE UPDATE OR DELETE row triggers. TRUNCATE is not granted to the application role
(``galenic audit grant-app-role``), so only the table owner can empty the tables.

The SQL is written out here (not imported) so this migration never changes after release.
"""

from django.db import migrations

TABLES = ("signatures_signature", "signatures_policyacknowledgement")

SQLITE_FORWARD = [
    f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
    for table in TABLES
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {table}_no_update" for table in TABLES]

PG_FORWARD = [
    """CREATE OR REPLACE FUNCTION signatures_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    *[
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION signatures_refuse_change()"
        for table in TABLES
    ],
]
PG_BACKWARD = [
    *[f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}" for table in TABLES],
    "DROP FUNCTION IF EXISTS signatures_refuse_change()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"no append-only triggers for {schema_editor.connection.vendor}: "
                "Galenic supports SQLite and PostgreSQL"
            )
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
            elidable=False,
        ),
    ]
