"""``accord weekly-digest``: e-mail each manager their team's forecast for this week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accord.core.context import Source, acting_as
from accord.insights.digest import weekly_digests_send


class Command(BaseCommand):
    help = (
        "Send the weekly forecast e-mail to every active manager with an e-mail address who "
        "has not had this ISO week's yet (running it again in the same week sends nothing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", type=dt.date.fromisoformat, help="Send as of this day (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Render every mail but send and record nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_as(None, Source.SYSTEM):
            result = weekly_digests_send(today=options.get("date"), dry_run=options["dry_run"])
        verb = "would be sent" if result.dry_run else "sent"
        self.stdout.write(
            f"{result.sent} weekly forecast e-mails {verb}, {result.already_sent} already sent "
            f"this week, {result.skipped} people skipped (no reports or no e-mail address), "
            f"{result.failed} failed."
        )
        if result.failed:
            self.stderr.write("Some e-mails could not be sent; see the log. Run again to retry.")
