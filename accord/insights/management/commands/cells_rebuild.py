"""``accord cells-rebuild [--check]``: recompute the opportunity, line-item and activity
cells (figures summed ahead) from the records, or only say whether they match."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.insights.activity_cells import activity_cells_check, activity_cells_rebuild
from accord.insights.cells import cells_check, cells_rebuild
from accord.insights.line_cells import line_cells_check, line_cells_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the opportunity, line-item and activity cells from the records "
        "(after bulk loads)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="only compare; exit 1 if any cell differs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["check"]:
            differences = cells_check() + line_cells_check() + activity_cells_check()
            for line in differences[:20]:
                self.stdout.write(line)
            if differences:
                raise CommandError(f"{len(differences)} cells differ from a recomputation.")
            self.stdout.write("The cells match the opportunities.")
            return
        written = cells_rebuild()
        lines = line_cells_rebuild()
        activities = activity_cells_rebuild()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Rebuilt {written:,} opportunity cells, {lines:,} line-item cells and "
            f"{activities:,} activity cells in {elapsed:.1f} s."
        )
