"""``accord demo-logins``: where Accord runs and who to sign in as."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accord.org import demo


class Command(BaseCommand):
    help = "Print the URL and the demo users (username, role, unit) with the shared password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where Accord is served."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = demo.demo_logins()
        self.stdout.write("")
        self.stdout.write(f"Accord: {options['url']}")
        if not rows:
            self.stdout.write("No demo users yet: run `accord demo-data` first.")
            return
        self.stdout.write("")
        headers = ("username", "name", "role", "business unit / region")
        table = [headers] + [(r.username, r.name, r.role, r.unit or "-") for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
        for n, row in enumerate(table):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(self.style.WARNING(f"Password for every demo user: {demo.DEMO_PASSWORD}"))
        self.stdout.write("")
