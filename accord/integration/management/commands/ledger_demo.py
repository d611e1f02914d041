"""``accord ledger-demo DATABASE_URL``: create the demo ledger tables and a connector to them."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, snapshot
from accord.core.context import Source, acting_as
from accord.integration.connectors.sql_ledger import _connect
from accord.integration.ledger import DEMO_LEDGER_MAPPING, demo_schema_statements
from accord.integration.models import Connector, ConnectorKind, EventType
from accord.integration.validation import masked_settings


class Command(BaseCommand):
    help = (
        "Create the demo ledger schema in DATABASE_URL (mysql://… or sqlite:///…) and a "
        "'demo-ledger' connector that writes approved accounts and won opportunities to it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("database_url")
        parser.add_argument(
            "--no-schema", action="store_true", help="The tables exist; only add the connector."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["database_url"]
        if not options["no_schema"]:
            try:
                _, conn = _connect(url)
            except Exception as exc:
                raise CommandError(f"Cannot open the ledger database: {exc}") from exc
            try:
                cursor = conn.cursor()
                for statement in demo_schema_statements():
                    cursor.execute(statement)
                conn.commit()
            except Exception as exc:
                raise CommandError(f"Cannot create the demo schema: {exc}") from exc
            finally:
                conn.close()
            self.stdout.write("Created ledger_customers, ledger_sales_orders, …_lines.")
        with acting_as(None, Source.SYSTEM), transaction.atomic():
            connector, created = Connector.objects.update_or_create(
                name="demo-ledger",
                defaults={
                    "kind": ConnectorKind.SQL_LEDGER,
                    # Every event the demo mapping handles (merges become customer aliases).
                    "event_types": [e.value for e in EventType if e.value in DEMO_LEDGER_MAPPING],
                    "field_mapping": DEMO_LEDGER_MAPPING,
                    "settings": {"database_url": url},
                },
            )
            after = snapshot(connector)
            after["settings"] = masked_settings(after["settings"])
            audit_record_change(
                action=AuditAction.CREATE if created else AuditAction.UPDATE,
                instance=connector,
                after=after,
            )
        self.stdout.write(f"Connector 'demo-ledger' {'created' if created else 'updated'}.")
