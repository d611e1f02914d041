"""``accord disputes-escalate``: hand undecided disputes past their deadline to the regional
manager (the worker also does it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accord.core.context import Source, acting_as
from accord.territories.disputes import disputes_escalate_overdue


class Command(BaseCommand):
    help = (
        "Escalate ownership disputes not decided by their deadline to the regional manager "
        "of the account's region (running it again escalates nothing twice)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_as(None, Source.SYSTEM):
            count = disputes_escalate_overdue()
        self.stdout.write(f"{count} disputes escalated.")
