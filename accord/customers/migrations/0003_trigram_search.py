"""Trigram indexes for fragment search on PostgreSQL (no-op elsewhere).

``search_text LIKE '%fragment%'`` can use a pg_trgm GIN index; without one every search
is a full scan. Creating the extension needs a privileged role: where that is refused the
migration continues without the indexes and says so (create the extension, then re-run
``accord migrate customers 0001`` and ``accord migrate``).
"""

from __future__ import annotations

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)

INDEXES = [
    ("customers_account_search_trgm", "customers_account"),
    ("customers_contact_search_trgm", "customers_contact"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - any refusal: carry on without the indexes
        logger.warning("pg_trgm unavailable (%s); fragment search will scan.", exc)
        return
    with schema_editor.connection.cursor() as cursor:
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
    dependencies = [("customers", "0002_initial")]
    operations = [migrations.RunPython(create, drop)]
