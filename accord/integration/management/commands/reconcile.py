"""``accord reconcile [--connector NAME] [--fix]``: compare Accord with the SQL ledger."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.core.context import Source, acting_as
from accord.integration.connectors import PermanentError, RetryableError
from accord.integration.models import Connector, ConnectorKind
from accord.integration.reconcile import EXTRA, MISMATCH, MISSING, reconcile


class Command(BaseCommand):
    help = (
        "Compare what Accord would have sent each SQL ledger with what the ledger holds: "
        "missing, mismatched and extra rows. --fix re-sends what is missing or different "
        "(the worker delivers it); extra ledger rows are only reported."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--connector", help="Only this connector (by name).")
        parser.add_argument("--fix", action="store_true", help="Re-send what differs.")
        parser.add_argument(
            "--limit", type=int, default=50, help="Differences listed per connector (default 50)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connectors = Connector.objects.filter(kind=ConnectorKind.SQL_LEDGER, enabled=True)
        if options["connector"]:
            connectors = connectors.filter(name=options["connector"])
        if not connectors.exists():
            raise CommandError("No enabled SQL ledger connector to reconcile.")
        for connector in connectors:
            try:
                with acting_as(None, Source.SYSTEM):
                    report = reconcile(connector, fix=options["fix"])
            except (PermanentError, RetryableError) as exc:
                raise CommandError(f"{connector.name}: {exc}") from exc
            except Exception as exc:  # the ledger's driver errors: unreachable, no table…
                raise CommandError(
                    f"{connector.name}: the ledger could not be read: {exc}"
                ) from exc
            checked = ", ".join(f"{n:,} {t}" for t, n in sorted(report.checked.items()))
            self.stdout.write(f"{connector.name}: compared {checked or 'nothing'}")
            for difference in report.differences[: options["limit"]]:
                self.stdout.write("  " + difference.describe())
            hidden = len(report.differences) - options["limit"]
            if hidden > 0:
                self.stdout.write(f"  … and {hidden:,} more")
            summary = (
                f"{report.count(MISSING)} missing, {report.count(MISMATCH)} mismatched, "
                f"{report.count(EXTRA)} extra"
            )
            if options["fix"]:
                summary += f"; {report.resent} re-sent"
            self.stdout.write(f"{connector.name}: {summary}")
