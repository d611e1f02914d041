"""``accord import-records --kind account|contact --as USER FILE.csv``: import a spreadsheet."""

from __future__ import annotations

import csv
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.core.errors import DomainError
from accord.imports.services import REPORT_COLUMNS, Kind, import_csv, report_rows
from accord.org.models import User


class Command(BaseCommand):
    help = (
        "Create accounts or contacts from a CSV file whose header names Accord's fields, "
        "through the same checks as the UI and the API (permissions, compulsory fields, the "
        "duplicate check). Prints, or writes with --report, one line per row."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")
        parser.add_argument("--kind", choices=[k.value for k in Kind], required=True)
        parser.add_argument(
            "--as", dest="username", required=True, help="The user the records are created as."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check every row, save none.")
        parser.add_argument("--report", type=Path, help="Write the row-level report here (CSV).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            actor = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"No active user {options['username']!r}.") from exc
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open(newline="", encoding="utf-8-sig") as stream:
            try:
                report = import_csv(
                    actor=actor,
                    kind=Kind(options["kind"]),
                    stream=stream,
                    dry_run=options["dry_run"],
                )
            except DomainError as error:
                raise CommandError(error.detail) from error
            except UnicodeDecodeError as exc:
                raise CommandError("The file is not UTF-8 text.") from exc
        report_path = Path(options["report"]) if options["report"] else None
        out = report_path.open("w", newline="", encoding="utf-8") if report_path else None
        writer = csv.DictWriter(out or self.stdout, fieldnames=REPORT_COLUMNS)
        if out is not None or report.rejected:
            writer.writeheader()
            for line in report_rows(report):
                if out is not None or line["status"] != "created":
                    writer.writerow(line)
        if out is not None:
            out.close()
        if report.ignored_columns:
            self.stderr.write("Ignored columns: " + ", ".join(report.ignored_columns))
        verb = "would be created" if report.dry_run else "created"
        self.stderr.write(
            f"{len(report.rows)} rows: {report.created} {verb}, {report.rejected} rejected."
        )
