"""The open opportunities the opportunity cells leave out (no expected close date, or not
in the default currency), in a small partial index: the pipeline board adds them to the
cells' figures (``sales.selectors._open_totals``).

Written in SQL because the predicate holds the default currency of the installation
(``ACCORD_DEFAULT_CURRENCY`` when migrated); a query names it the same way, so the planner
matches the two. Not part of the model state: nothing else reads it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

NAME = "opp_open_uncelled"


def create(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    currency = settings.ACCORD_DEFAULT_CURRENCY
    if not (len(currency) == 3 and currency.isalpha()):
        raise ValueError(f"ACCORD_DEFAULT_CURRENCY is not a currency code: {currency!r}")
    include = (
        " INCLUDE (amount, currency)" if schema_editor.connection.vendor == "postgresql" else ""
    )
    schema_editor.execute(
        f"CREATE INDEX {NAME} ON sales_opportunity (owner_id, stage_id){include} "
        f"WHERE expected_close_date IS NULL OR NOT (currency = '{currency}')"
    )


def drop(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(f"DROP INDEX {NAME}")


class Migration(migrations.Migration):
    dependencies = [("sales", "0008_report_covering_indexes")]
    operations = [migrations.RunPython(create, drop)]
