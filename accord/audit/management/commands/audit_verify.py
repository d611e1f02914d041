from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.audit.verify import audit_chain_verify


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain; exit non-zero at the first bad event."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{report.first_bad_seq}: {report.problem} "
                f"({report.checked} events verified before it)."
            )
        self.stdout.write(f"Audit chain OK: {report.checked} events verified.")
