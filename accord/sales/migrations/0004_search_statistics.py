"""Finer statistics for ``search_text`` on PostgreSQL (see customers 0005)."""

from __future__ import annotations

from django.db import migrations

TABLES = ["sales_lead", "sales_opportunity"]
TARGET = 2000


def set_target(target):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(
                    f"ALTER TABLE {table} ALTER COLUMN search_text SET STATISTICS {target}"
                )

    return run


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_index_tuning")]
    operations = [migrations.RunPython(set_target(TARGET), set_target(-1))]
