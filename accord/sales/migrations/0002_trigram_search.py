"""Trigram indexes for fragment search on PostgreSQL (see customers 0002)."""

from __future__ import annotations

from django.db import migrations

INDEXES = [
    ("sales_lead_search_trgm", "sales_lead"),
    ("sales_opportunity_search_trgm", "sales_opportunity"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        for name, table in INDEXES:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_text gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _table in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("customers", "0003_trigram_search")]
    operations = [migrations.RunPython(create, drop)]
