"""Database guard: posted entries and lines cannot be changed (nor, on PostgreSQL, deleted).

The services never update or delete these rows; the triggers make sure nothing else does either
(a stray UPDATE from a shell or another app fails loudly). Anyone able to drop the trigger can
still edit rows — that is what ``q2c ledger check`` finds.

On SQLite only UPDATE is refused: Django empties tables with DELETE there between transactional
tests, and deletions still show (entry numbers are gapless and closed periods are sealed by a
digest). PostgreSQL empties tables with TRUNCATE, which these row triggers do not see.
"""

from django.db import migrations

TABLES = ("ledger_entry", "ledger_line")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % rows are immutable once posted; post a reversal', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)  # no placeholders: % is plpgsql's own
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'ledger: {table} rows are immutable once posted; post a reversal'); END"
            )


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
