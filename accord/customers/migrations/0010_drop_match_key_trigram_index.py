"""Drop the pg_trgm index on account name keys: the duplicate check no longer uses it.

It was created with ``LIKE 'n:%%'`` through a cursor without parameters, so its condition
held a literal ``%%`` and no query could use it; and with a working index the trigram step
still cost ~100 ms a check at a million accounts while the tiered key lookup caught the
same variants (``dataquality.matching.account_candidate_ids``). Undoing this migration
recreates a working index.
"""

from django.db import migrations


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customers_accountmatchkey_name_trgm")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # execute() passes params=(), so %% reaches the database as one %.
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customers_accountmatchkey_name_trgm "
            "ON customers_accountmatchkey USING gin (key gin_trgm_ops) WHERE key LIKE 'n:%%'"
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_account_request")]

    operations = [migrations.RunPython(drop, create, elidable=True)]
