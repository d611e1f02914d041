"""``accord reach-rebuild``: rebuild the derived ``AccountReach`` table from its sources.

    accord reach-rebuild

PostgreSQL's triggers keep the table in step with every write (ADR 0009); this rebuilds it
whole, in one transaction, for a database restored from elsewhere or after the search has
logged "AccountReach out of step". Other databases do not keep the table: nothing to do.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accord.territories.models import AccountReach
from accord.territories.visibility import reach_is_kept


class Command(BaseCommand):
    help = "Rebuild the derived AccountReach table (PostgreSQL) from owners and opportunities."

    def handle(self, *args: Any, **options: Any) -> None:
        if not reach_is_kept():
            self.stdout.write("This database does not keep AccountReach: nothing to rebuild.")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT accord_reach_rebuild_all()")
        rows = AccountReach.objects.count()
        people = AccountReach.objects.values("user_id").distinct().count()
        self.stdout.write(f"AccountReach rebuilt: {rows:,} rows for {people:,} people.")
