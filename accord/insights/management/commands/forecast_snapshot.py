"""``accord forecast-snapshot``: store this week's forecast figures (run it weekly)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accord.core.context import Source, acting_as
from accord.insights.services import forecast_snapshot_take


class Command(BaseCommand):
    help = (
        "Store each person's and each roll-up node's forecast for this and next month and "
        "quarter, once per ISO week (running it again in the same week updates that week)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", type=dt.date.fromisoformat, help="Take it as of this day (YYYY-MM-DD)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_as(None, Source.SYSTEM):
            count = forecast_snapshot_take(today=options.get("date"))
        self.stdout.write(f"{count} forecast snapshot rows stored.")
