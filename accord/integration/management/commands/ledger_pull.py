"""``accord ledger-pull [--connector NAME]``: pull invoice and payment status now."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.integration.connectors import PermanentError
from accord.integration.invoices import PULL_BATCH, PULL_MAPPING, invoices_pull
from accord.integration.models import Connector, ConnectorKind


class Command(BaseCommand):
    help = "Pull invoices changed since the last pull from each SQL ledger that maps them."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--connector", help="Only this connector (by name).")

    def handle(self, *args: Any, **options: Any) -> None:
        connectors = [
            c
            for c in Connector.objects.filter(kind=ConnectorKind.SQL_LEDGER, enabled=True)
            if PULL_MAPPING in c.field_mapping
            and (not options["connector"] or c.name == options["connector"])
        ]
        if not connectors:
            raise CommandError("No enabled SQL ledger connector maps invoices.pull.")
        for connector in connectors:
            created = updated = unchanged = rejected = 0
            while True:
                try:
                    report = invoices_pull(connector)
                except PermanentError as exc:
                    raise CommandError(f"{connector.name}: {exc}") from exc
                except Exception as exc:  # the ledger's driver: unreachable, no table…
                    raise CommandError(
                        f"{connector.name}: the ledger could not be read: {exc}"
                    ) from exc
                created += report.count("created")
                updated += report.count("updated")
                unchanged += report.count("unchanged")
                rejected += report.count("rejected")
                for row in report.rows:
                    if row.outcome == "rejected":
                        self.stderr.write(f"  invoice {row.invoice_number or '?'}: {row.errors}")
                if len(report.rows) < PULL_BATCH:
                    break
            self.stdout.write(
                f"{connector.name}: {created} new, {updated} updated, {unchanged} unchanged, "
                f"{rejected} rejected"
            )
