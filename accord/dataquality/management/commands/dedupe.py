"""``accord dedupe``: find duplicate clusters in the database or in any CSV file.

    accord dedupe --db [--kind account|contact]
    accord dedupe INPUT.csv --kind account --id-column id --out OUT.csv [--pairs PAIRS.csv]
                  [--map name="Company name" --map tax_id=TIN …]

``--db`` clusters the accounts (not merged ones) and contacts in the database and puts the
clusters in the steward review queue. With a CSV file the database is not touched (its
duplicate rules are read if it is there): one output row per input row, ``record_id,
cluster_id`` (a record in no cluster is its own cluster), and with ``--pairs`` every pair
that joined a cluster with its score and reasons.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from accord.dataquality import batch

# CSV columns (Accord's field names, as the issue lists them) → the model fields they feed.
ACCOUNT_COLUMNS: dict[str, str] = {
    "name": "legal_name",
    "name_th": "name_th",
    "name_en": "name_en",
    "customer_code": "customer_code",
    "tax_id": "tax_id",
    "branch": "branch_code",
    "address": "address_line1",
    "city": "city",
    "province": "province",
    "postcode": "postal_code",
    "phone": "phone",
    "email": "email",
    "website": "website",
}
CONTACT_COLUMNS: dict[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile",
    "account": "account",
    "address": "address",
    "city": "city",
    "province": "province",
    "postcode": "postcode",
    "birth_date": "birth_date",
}
COLUMNS = {batch.ACCOUNT: ACCOUNT_COLUMNS, batch.CONTACT: CONTACT_COLUMNS}
DB_CHUNK = 5_000


class ProgressBar:
    """A one-line progress bar, redrawn in place (only ever used on a terminal)."""

    def __init__(self, out: OutputWrapper, width: int = 30) -> None:
        self.out = out
        self.width = width
        self.stage = ""
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.last < 0.1:
            return
        if stage != self.stage and self.stage:
            self.out.write("")
        self.stage, self.last = stage, now
        share = done / total if total else 1.0
        filled = int(share * self.width)
        bar = "█" * filled + "·" * (self.width - filled)
        self.out.write(f"\r{stage:<9} {bar} {share:4.0%} {done:,}/{total:,}", ending="")
        if done >= total:
            self.out.write("")
            self.stage = ""
        self.out.flush()


class Command(BaseCommand):
    help = "Find duplicate accounts or contacts: in the database (--db) or in a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", nargs="?", help="CSV file to cluster (header row first)")
        parser.add_argument(
            "--db",
            action="store_true",
            help="cluster the database's accounts and contacts into the steward queue",
        )
        parser.add_argument(
            "--kind", choices=batch.RECORD_TYPES, help="account or contact (--db: both)"
        )
        parser.add_argument("--id-column", help="CSV: the column that names each record")
        parser.add_argument("--out", help="CSV: where to write record_id,cluster_id")
        parser.add_argument("--pairs", help="CSV: also write left_id,right_id,score,reasons")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="CSV: read FIELD from COLUMN (repeatable), e.g. --map name='Company name'",
        )
        parser.add_argument("--delimiter", default=",", help="CSV delimiter (default ,)")
        parser.add_argument(
            "--workers", type=int, default=0, help="processes (default: all cores on big inputs)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bar = ProgressBar(self.stdout) if self.stdout.isatty() else None
        self.progress = bar
        if options["db"]:
            if options["input"]:
                raise CommandError("Give either --db or a CSV file, not both.")
            self._database(options)
        elif options["input"]:
            self._csv(options)
        else:
            raise CommandError("Give a CSV file to cluster, or --db.")

    # -- CSV

    def _csv(self, options: dict[str, Any]) -> None:
        kind = options["kind"]
        if not kind:
            raise CommandError("--kind is required with a CSV file (account or contact).")
        if not options["id_column"] or not options["out"]:
            raise CommandError("--id-column and --out are required with a CSV file.")
        path = Path(options["input"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        mapping = self._mapping(kind, options["map"])
        t0 = time.perf_counter()
        ids, rows = self._read(path, options["id_column"], mapping, options["delimiter"])
        read_s = time.perf_counter() - t0
        rules, where = batch.rules_or_defaults(kind)
        result = batch.cluster_records(
            kind, ids, rows, rules=rules, workers=options["workers"] or None, progress=self.progress
        )
        t1 = time.perf_counter()
        with open(options["out"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id", "cluster_id"])
            writer.writerows(zip(ids, result.cluster_ids(), strict=True))
        if options["pairs"]:
            with open(options["pairs"], "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["left_id", "right_id", "score", "reasons"])
                for left, right, score, reasons in result.pairs:
                    writer.writerow([left, right, f"{score:.3f}", "; ".join(reasons)])
        write_s = time.perf_counter() - t1
        stats = result.stats
        self.stdout.write(
            f"{stats.records:,} {kind} records: {stats.clusters:,} clusters of "
            f"{stats.clustered_records:,} records, {stats.matched_pairs:,} pairs "
            f"(rules from the {where}). Wrote {options['out']}"
            + (f" and {options['pairs']}" if options["pairs"] else "")
            + "."
        )
        self.stderr.write(
            f"read {read_s:.1f}s, clustering: {stats.summary()}, write {write_s:.1f}s",
            style_func=lambda s: s,
        )

    def _mapping(self, kind: str, pairs: list[str]) -> dict[str, str]:
        """CSV column → model field."""
        columns = COLUMNS[kind]
        renamed: dict[str, str] = {}
        for item in pairs:
            fld, sep, column = item.partition("=")
            fld = fld.strip()
            if not sep or not column:
                raise CommandError(f"--map {item!r}: write it as FIELD=COLUMN.")
            if fld not in columns:
                raise CommandError(
                    f"--map {item!r}: unknown {kind} field {fld!r}; "
                    f"one of: {', '.join(sorted(columns))}."
                )
            renamed[fld] = column
        mapping: dict[str, str] = {}
        for fld, target in columns.items():
            mapping[renamed.get(fld, fld)] = target
        return mapping

    def _read(
        self, path: Path, id_column: str, mapping: Mapping[str, str], delimiter: str
    ) -> tuple[list[str], list[dict[str, str]]]:
        ids: list[str] = []
        rows: list[dict[str, str]] = []
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            try:
                header = next(reader)
            except StopIteration:
                raise CommandError(f"{path} is empty.") from None
            if id_column not in header:
                raise CommandError(
                    f"{path} has no column {id_column!r} (it has: {', '.join(header)})."
                )
            id_at = header.index(id_column)
            used = [(i, mapping[c]) for i, c in enumerate(header) if c in mapping]
            width = len(header)
            seen: set[str] = set()
            for line, record in enumerate(reader, start=2):
                if not record:
                    continue
                if len(record) < width:
                    record += [""] * (width - len(record))
                record_id = record[id_at].strip()
                if not record_id:
                    raise CommandError(f"{path}, line {line}: the {id_column} column is empty.")
                if record_id in seen:
                    raise CommandError(f"{path}, line {line}: {id_column} {record_id!r} repeats.")
                seen.add(record_id)
                ids.append(record_id)
                rows.append({fld: record[i] for i, fld in used})
        return ids, rows

    # -- database

    def _database(self, options: dict[str, Any]) -> None:
        from accord.core.context import Source, acting_as
        from accord.dataquality.review import duplicate_clusters_enqueue

        kinds = [options["kind"]] if options["kind"] else list(batch.RECORD_TYPES)
        for kind in kinds:
            ids, rows = self._db_rows(kind)
            rules, _where = batch.rules_or_defaults(kind)
            result = batch.cluster_records(
                kind,
                ids,
                rows,
                rules=rules,
                workers=options["workers"] or None,
                progress=self.progress,
            )
            clusters = result.clusters()
            with acting_as(None, Source.SYSTEM):
                queued = duplicate_clusters_enqueue(
                    record_type=kind, clusters=clusters, source="batch"
                )
            self.stdout.write(
                f"{kind}s: {len(ids):,} checked, {len(clusters):,} duplicate clusters found, "
                f"{queued:,} queued for review."
            )

    def _db_rows(self, kind: str) -> tuple[list[str], list[dict[str, Any]]]:
        """The records' matching fields, read in chunks (only those columns)."""
        from accord.customers.models import Account, AccountStatus, Contact
        from accord.dataquality.matching import ACCOUNT_MATCH_FIELDS, CONTACT_MATCH_FIELDS

        ids: list[str] = []
        rows: list[dict[str, Any]] = []
        values: Iterator[dict[str, Any]]
        if kind == batch.ACCOUNT:
            fields = sorted(ACCOUNT_MATCH_FIELDS)
            values = (
                Account.objects.exclude(status=AccountStatus.MERGED)
                .order_by("pk")
                .values("pk", "customer_code", *fields)
                .iterator(chunk_size=DB_CHUNK)
            )
        else:
            fields = sorted(CONTACT_MATCH_FIELDS - {"account"})
            values = (
                Contact.objects.exclude(account__status=AccountStatus.MERGED)
                .order_by("pk")
                .values("pk", "account_id", *fields)
                .iterator(chunk_size=DB_CHUNK)
            )
        for row in values:
            ids.append(str(row.pop("pk")))
            if "account_id" in row:
                row["account"] = str(row.pop("account_id"))
            rows.append(row)
        return ids, rows
