"""The bulk loader behind ``python -m bench.generate`` (import after ``django.setup()``).

Per account, on average: 2 contacts, 1.3 opportunities (about one line item each) and
5 activities, spread over the existing districts, sales reps, business units and
pipelines. Rows are produced in chunks (default 10,000 accounts, about 106,000 rows) and
each chunk is written in one transaction, so memory stays flat at any size.

**This is a bulk path that bypasses the services**: it writes no audit events, runs no
data-entry-template or territory checks and sends nothing to the outbox. It exists only to
fill a benchmark database quickly; never point it at a real one.

Writers: ``COPY … FROM STDIN`` (PostgreSQL, the default there), ``executemany`` of
``INSERT … VALUES`` with Django's own value adaptation (the default elsewhere) or
``bulk_create(batch_size=…)``. Customer codes are reserved through
``customer_codes_reserve`` so they never collide with codes issued later; Thai tax IDs carry
a valid check digit; ``search_text`` columns are filled as the services fill them.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from django.db import connection, connections, models, reset_queries, transaction
from django.utils import timezone

from accord.activities.models import Activity, ActivityKind
from accord.core.models import new_id
from accord.core.money import default_currency
from accord.core.thai import HEAD_OFFICE_BRANCH, tax_id_with_check_digit
from accord.customers.models import Account, AccountMatchKey, AccountStatus, Contact, Industry
from accord.customers.services import (
    account_search_text,
    contact_search_text,
    customer_code_format,
    customer_codes_reserve,
)
from accord.dataquality.matching import account_features, account_match_keys, dict_getter
from accord.dataquality.normalize import company_name_key
from accord.sales.models import Opportunity, OpportunityLineItem
from accord.territories.models import AccountOwner, OwnershipSource
from bench import words
from bench.generate import DEFAULT_BATCH, DEFAULT_CHUNK
from bench.org import OrgSnapshot, PipelineInfo, Rep, ensure_org

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

Method = Literal["auto", "bulk", "insert", "copy"]
Row = tuple[Any, ...]

TABLE_ORDER: tuple[type[models.Model], ...] = (
    Account,
    AccountOwner,
    Contact,
    Opportunity,
    OpportunityLineItem,
    Activity,
)
_MONEY = Decimal("0.01")
_HUNDRED = Decimal(100)


# --- writing ------------------------------------------------------------------------------


class TableSpec:
    """A model's concrete columns in declaration order, with the values Model() would give."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.columns = [str(f.column) for f in self.fields]
        self.defaults: dict[str, Any] = {f.attname: f.get_default() for f in self.fields}
        self.defaults[model._meta.pk.attname] = None  # always given explicitly
        self.pairs = list(self.defaults.items())

    @property
    def label(self) -> str:
        return self.model._meta.label

    def row(self, values: dict[str, Any]) -> Row:
        get = values.get
        return tuple([get(name, default) for name, default in self.pairs])

    def namespace(self, values: dict[str, Any]) -> SimpleNamespace:
        """An object with every attribute a fresh instance has (for the search-text helpers)."""
        return SimpleNamespace(**{**self.defaults, **values})


class Writer:
    """Writes the rows of one table for one chunk, inside the chunk's transaction."""

    name = "?"

    def write(self, spec: TableSpec, rows: Sequence[Row]) -> None:
        raise NotImplementedError


class BulkCreateWriter(Writer):
    """``bulk_create(batch_size=…)``: the ORM's own bulk path (Django compiles every value)."""

    name = "bulk_create"

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size

    def write(self, spec: TableSpec, rows: Sequence[Row]) -> None:
        model = spec.model
        # Positional construction maps onto concrete fields in order (and is the fast path).
        objs = [model(*row) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=self.batch_size)


Convert = Callable[[Any], Any]
_TRIVIAL_FIELDS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
)


def _utc_naive_str(value: Any) -> Any:
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _uuid_hex(value: Any) -> Any:
    return value.hex


def _same(a: list[Any], b: list[Any]) -> bool:
    """Equal values of identical types (so "1" does not pass for 1, nor str for bytes)."""
    return a == b and all(type(x) is type(y) for x, y in zip(a, b, strict=True))


class InsertWriter(Writer):
    """``INSERT … VALUES`` through the DB-API ``executemany``, batch by batch.

    Values are adapted exactly as Django adapts them (``field.get_db_prep_save``), but
    through a cheap equivalent per column where one exists: each shortcut is checked
    against Django's own conversion on the first values it sees, and dropped if they differ.
    Several times faster than ``bulk_create`` on SQLite, where Django's per-value SQL
    compilation is most of the cost.
    """

    name = "executemany"
    CANDIDATES: tuple[Convert, ...] = (_uuid_hex, _utc_naive_str, str)

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self._plans: dict[str, list[tuple[int, Convert]]] = {}

    def _plan(self, spec: TableSpec, rows: Sequence[Row]) -> list[tuple[int, Convert]]:
        plan: list[tuple[int, Convert]] = []
        for index, fld in enumerate(spec.fields):
            if isinstance(fld, _TRIVIAL_FIELDS) and not fld.is_relation:
                continue  # Django passes str/bool/int through unchanged

            def django(value: Any, fld: models.Field[Any, Any] = fld) -> Any:
                return fld.get_db_prep_save(value, connection)

            samples = [r[index] for r in rows[:200] if r[index] is not None][:5]
            convert: Convert = django
            if samples:
                wanted = [django(v) for v in samples]
                if wanted == samples and all(
                    type(w) is type(v) for w, v in zip(wanted, samples, strict=True)
                ):
                    continue  # identity
                for candidate in self.CANDIDATES:
                    try:
                        got = [candidate(v) for v in samples]
                    except (AttributeError, TypeError, ValueError):
                        continue
                    if got == wanted and all(
                        type(g) is type(w) for g, w in zip(got, wanted, strict=True)
                    ):
                        convert = candidate
                        break
            plan.append((index, convert))
        return plan

    def write(self, spec: TableSpec, rows: Sequence[Row]) -> None:
        plan = self._plans.get(spec.label)
        if plan is None:
            plan = self._plans[spec.label] = self._plan(spec, rows)
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(spec.model._meta.db_table)} "
            f"({', '.join(quote(c) for c in spec.columns)}) "
            f"VALUES ({', '.join(['%s'] * len(spec.columns))})"
        )
        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.batch_size):
                batch = []
                for row in rows[start : start + self.batch_size]:
                    values = list(row)
                    for index, convert in plan:
                        value = values[index]
                        if value is not None:
                            values[index] = convert(value)
                    batch.append(values)
                cursor.executemany(sql, batch)


class CopyWriter(Writer):
    """PostgreSQL ``COPY … FROM STDIN`` through psycopg 3 (which adapts the Python values)."""

    name = "COPY"

    def write(self, spec: TableSpec, rows: Sequence[Row]) -> None:
        quote = connection.ops.quote_name
        table = quote(spec.model._meta.db_table)
        columns = ", ".join(quote(c) for c in spec.columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def resolve_method(method: Method) -> Method:
    if method == "auto":
        return "copy" if connection.vendor == "postgresql" else "insert"
    if method == "copy" and connection.vendor != "postgresql":
        raise SystemExit("--method copy needs PostgreSQL.")
    return method


def make_writer(method: Method, batch_size: int) -> Writer:
    method = resolve_method(method)
    if method == "copy":
        return CopyWriter()
    if method == "insert":
        return InsertWriter(batch_size)
    return BulkCreateWriter(batch_size)


def prepare_connection() -> None:
    """Per-connection settings for a bulk load (nothing persistent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # The default 2 MB page cache thrashes on the activity table's 12 indexes.
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MB


# --- statistics ---------------------------------------------------------------------------


@dataclass
class TableStats:
    rows: int = 0
    generate_s: float = 0.0
    write_s: float = 0.0

    def add(self, other: TableStats) -> None:
        self.rows += other.rows
        self.generate_s += other.generate_s
        self.write_s += other.write_s


@dataclass
class ChunkStats:
    tables: dict[str, TableStats]
    commit_s: float = 0.0  # on PostgreSQL mostly the deferred foreign-key checks
    other_s: float = 0.0  # reserving codes, checking tax IDs

    @classmethod
    def empty(cls) -> ChunkStats:
        return cls({model._meta.label: TableStats() for model in TABLE_ORDER})

    def add(self, other: ChunkStats) -> None:
        for label, table in other.tables.items():
            self.tables[label].add(table)
        self.commit_s += other.commit_s
        self.other_s += other.other_s

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def busy_s(self) -> float:
        tables = sum(t.generate_s + t.write_s for t in self.tables.values())
        return tables + self.commit_s + self.other_s


@dataclass
class GenerationReport:
    accounts_requested: int
    accounts_before: int
    method: str = ""
    workers: int = 1
    chunk_size: int = DEFAULT_CHUNK
    stats: ChunkStats = field(default_factory=ChunkStats.empty)
    wall_s: float = 0.0
    analyze_s: float = 0.0
    org_notes: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return self.stats.rows

    @property
    def rows_per_s(self) -> float:
        return self.total_rows / self.wall_s if self.wall_s else 0.0

    def table_rows_per_s(self) -> dict[str, float]:
        """Rows per second of wall clock, each table charged its share of the busy time
        (generating + writing, plus commit and set-up time spread by row count)."""
        stats = self.stats
        shared = stats.commit_s + stats.other_s
        scale = self.wall_s / stats.busy_s if stats.busy_s else 0.0
        out: dict[str, float] = {}
        for label, t in stats.tables.items():
            own = t.generate_s + t.write_s + shared * t.rows / max(stats.rows, 1)
            out[label] = t.rows / (own * scale) if own and scale else 0.0
        return out

    def lines(self) -> list[str]:
        workers = f", {self.workers} workers" if self.workers > 1 else ""
        out = [
            f"Generator: {self.accounts_requested:,} accounts added to {self.accounts_before:,} "
            f"with {self.method}, chunks of {self.chunk_size:,} accounts{workers}",
            f"  {'table':<28}{'rows':>12}{'generate s':>12}{'write s':>10}{'rows/s':>12}",
        ]
        rates = self.table_rows_per_s()
        for label, t in self.stats.tables.items():
            out.append(
                f"  {label:<28}{t.rows:>12,}{t.generate_s:>12.1f}{t.write_s:>10.1f}"
                f"{rates[label]:>12,.0f}"
            )
        out.append(f"  {'commit':<28}{'':>12}{'':>12}{self.stats.commit_s:>10.1f}")
        out.append(
            f"  {'overall (wall clock)':<28}{self.total_rows:>12,}{'':>12}{self.wall_s:>10.1f}"
            f"{self.rows_per_s:>12,.0f}"
        )
        if self.workers > 1:
            out.append("  (generate/write/commit seconds are summed over the workers)")
        if self.analyze_s:
            out.append(f"  ANALYZE afterwards: {self.analyze_s:.1f} s")
        return out


# --- generation ---------------------------------------------------------------------------


class CompanyName(NamedTuple):
    en: str
    th: str
    short_en: str  # without legal form or year, for opportunity names
    short_th: str
    domain: str
    form: str  # English legal form


@dataclass
class AccountCtx:
    """What the dependent rows of one account need to know about it."""

    id: uuid.UUID
    district_id: uuid.UUID | None
    rep: Rep
    domain: str
    short_en: str
    short_th: str
    contact_ids: list[uuid.UUID] = field(default_factory=list)
    opportunities: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # id, owner


def _weighted(values: Sequence[Any], weights: Sequence[float]) -> Callable[[random.Random], Any]:
    cum: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)

    def pick(rng: random.Random) -> Any:
        return rng.choices(values, cum_weights=cum, k=1)[0]

    return pick


CONTACTS_PER_ACCOUNT = _weighted((1, 2, 3), (1, 1, 1))  # mean 2
OPPS_PER_ACCOUNT = _weighted((0, 1, 2, 3), (20, 40, 30, 10))  # mean 1.3
LINES_PER_OPP = _weighted((0, 1, 2), (10, 80, 10))  # mean 1.0
ACTIVITY_KIND = _weighted(
    (
        ActivityKind.VISIT,
        ActivityKind.CALL,
        ActivityKind.MEETING,
        ActivityKind.EMAIL,
        ActivityKind.TASK,
        ActivityKind.NOTE,
    ),
    (25, 30, 10, 15, 12, 8),
)
LEGAL_FORM = _weighted(words.LEGAL_FORMS, [f[3] for f in words.LEGAL_FORMS])
INDUSTRY = _weighted([c.value for c in Industry], [3] * (len(Industry) - 1) + [1])
TAX_TYPE_DIGIT = {"Co., Ltd.": "5", "Public Company Limited": "7"}
ACTIVITIES_MAX = 10  # uniform 0..10, mean 5


class FastRandom(random.Random):
    """``choice``/``randint``/``randrange`` from one float draw: about twice as fast."""

    def choice[T](self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


class Generator:
    def __init__(
        self,
        org: OrgSnapshot,
        writer: Writer,
        *,
        seed: int = 1,
        now: dt.datetime | None = None,
    ) -> None:
        self.org = org
        self.writer = writer
        self.seed = seed
        self.now = now or timezone.now()
        self.specs = {model: TableSpec(model) for model in TABLE_ORDER}
        self.stats = ChunkStats.empty()
        self.currency = default_currency()
        self._pairs_by_district = self._rep_pipeline_pairs()
        self._tax_offset = 0
        self._match_keys: list[tuple[uuid.UUID, str]] = []

    # -- org lookups

    def _rep_pipeline_pairs(self) -> dict[uuid.UUID | None, list[tuple[Rep, PipelineInfo]]]:
        org = self.org
        everyone = [
            (rep, org.pipelines_by_unit[rep.business_unit_id])
            for rep in org.reps
            if rep.business_unit_id in org.pipelines_by_unit
        ] or [(rep, org.pipelines[0]) for rep in org.reps]
        pairs: dict[uuid.UUID | None, list[tuple[Rep, PipelineInfo]]] = {None: everyone}
        for district_id, reps in org.reps_by_district.items():
            covered = [
                (rep, org.pipelines_by_unit[rep.business_unit_id])
                for rep in reps
                if rep.business_unit_id in org.pipelines_by_unit
            ]
            pairs[district_id] = covered or everyone
        return pairs

    # -- one chunk

    def chunk(self, count: int) -> ChunkStats:
        """Generate ``count`` accounts with their rows, then write them in one transaction.

        Rows are generated before the transaction opens, so with several workers one
        generates while another writes (and SQLite's write lock is held only for writing).
        """
        self.stats = ChunkStats.empty()
        t0 = time.perf_counter()
        codes = customer_codes_reserve(count)
        rng = FastRandom(f"{self.seed}-{codes.start}")
        self.stats.other_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        account_rows, accounts = self._accounts(rng, codes)
        self._generated(Account, t0)
        t0 = time.perf_counter()
        owner_rows = self._owners(rng, accounts)
        self._generated(AccountOwner, t0)
        t0 = time.perf_counter()
        contact_rows = self._contacts(rng, accounts)
        self._generated(Contact, t0)
        opp_rows, line_rows = self._opportunities(rng, accounts)  # times itself
        t0 = time.perf_counter()
        activity_rows = self._activities(rng, accounts)
        self._generated(Activity, t0)
        del accounts
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            self._write(Account, account_rows)
            match_keys_write(self._match_keys, self.stats)
            self._match_keys = []
            self._write(AccountOwner, owner_rows)
            self._write(Contact, contact_rows)
            self._write(Opportunity, opp_rows)
            self._write(OpportunityLineItem, line_rows)
            self._write(Activity, activity_rows)
            t0 = time.perf_counter()
        self.stats.commit_s += time.perf_counter() - t0
        reset_queries()  # in case DEBUG is on: the query log would hold every insert
        return self.stats

    def _generated(self, model: type[models.Model], since: float) -> None:
        self.stats.tables[model._meta.label].generate_s += time.perf_counter() - since

    def _write(self, model: type[models.Model], rows: list[Row]) -> None:
        table = self.stats.tables[model._meta.label]
        t0 = time.perf_counter()
        if rows:
            self.writer.write(self.specs[model], rows)
        table.write_s += time.perf_counter() - t0
        table.rows += len(rows)

    # -- accounts

    def _company_name(self, rng: random.Random) -> CompanyName:
        p1 = rng.choice(words.PREFIXES)
        core = rng.choice(words.CORES)
        shape = rng.random()
        parts = [p1]
        if shape >= 0.70:  # two prefixes: "Siam Charoen Steel"
            p2 = rng.choice(words.PREFIXES)
            if p2 != p1:
                parts.append(p2)
        parts.append(core)
        suffix = rng.choice(words.SUFFIXES) if shape < 0.45 or shape >= 0.85 else None
        en = " ".join(p[0] for p in parts)
        th = "".join(p[1] for p in parts)
        if suffix:
            en += " " + suffix[0]
            th += " " + suffix[1]
        short_en, short_th = en, th
        if rng.random() < 0.12:
            year = f" ({rng.randint(1975, 2023)})"
            en += year
            th += year
        form_en, th_before, th_after, _weight = LEGAL_FORM(rng)
        domain = "".join(ch for ch in short_en.lower() if ch.isalnum())[:40] + ".co.th"
        return CompanyName(
            en=f"{en} {form_en}",
            th=f"{th_before}{th}{th_after}",
            short_en=short_en,
            short_th=short_th,
            domain=domain,
            form=form_en,
        )

    def _tax_id(self, number: int, form: str, rng: random.Random) -> str:
        offices = words.TAX_OFFICES
        office = offices[(rng.randrange(len(offices)) + self._tax_offset) % len(offices)]
        kind = TAX_TYPE_DIGIT.get(form, "3")
        return tax_id_with_check_digit(f"0{office}{kind}{number % 10_000_000:07d}")

    def _accounts(self, rng: random.Random, codes: range) -> tuple[list[Row], list[AccountCtx]]:
        spec = self.specs[Account]
        org = self.org
        now = self.now
        values: list[dict[str, Any]] = []
        ctxs: list[AccountCtx] = []
        branches: dict[int, int] = {}
        for number in codes:
            district_id = rng.choice(org.district_ids) if rng.random() < 0.98 else None
            pairs = self._pairs_by_district[district_id]
            rep = rng.choice(pairs)[0]
            if values and rng.random() < 0.04:  # a branch of a company already in the chunk
                head = rng.randrange(len(values))
                while values[head]["branch_code"] != HEAD_OFFICE_BRANCH:
                    head -= 1
                branches[head] = branches.get(head, 0) + 1
                base = values[head]
                row = {
                    "legal_name": base["legal_name"],
                    "name_th": base["name_th"],
                    "name_en": base["name_en"],
                    "tax_id": base["tax_id"],
                    "branch_code": f"{branches[head]:05d}",
                }
                ctx = ctxs[head]
                short_en, short_th, domain = ctx.short_en, ctx.short_th, ctx.domain
            else:
                name = self._company_name(rng)
                short_en, short_th, domain = name.short_en, name.short_th, name.domain
                name_th = name.th if rng.random() < 0.95 else ""
                row = {
                    # The registered (Thai) name is usually the legal name.
                    "legal_name": name_th if name_th and rng.random() < 0.6 else name.en,
                    "name_th": name_th,
                    "name_en": name.en,
                    "tax_id": self._tax_id(number, name.form, rng) if rng.random() < 0.97 else "",
                    "branch_code": HEAD_OFFICE_BRANCH,
                }
            province, city, subdistrict, postal = rng.choice(words.PLACES)
            address = f"{rng.randint(1, 999)}/{rng.randint(1, 99)} {rng.choice(words.STREETS)}"
            row.update(
                id=new_id(),
                created_at=now,
                updated_at=now,
                customer_code=customer_code_format(number),
                industry=INDUSTRY(rng),
                district_id=district_id,
                phone=f"02-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                email=f"info@{domain}",
                website=f"https://www.{domain}",
                address_line1=address,
                subdistrict=subdistrict,
                city=city,
                province=province,
                postal_code=postal,
                shipping_address=(
                    f"{address}, {subdistrict}, {city}, {province} {postal}"
                    if rng.random() < 0.2
                    else ""
                ),
                status=AccountStatus.ACTIVE if rng.random() < 0.92 else AccountStatus.DORMANT,
            )
            values.append(row)
            ctxs.append(AccountCtx(row["id"], district_id, rep, domain, short_en, short_th))
        t0 = time.perf_counter()
        self._avoid_tax_id_collisions(values, rng)
        self.stats.other_s += time.perf_counter() - t0
        rows = []
        for row in values:
            row["search_text"] = account_search_text(cast(Account, spec.namespace(row)))
            # What the account services store for the duplicate check (name key, match keys).
            row["name_key"] = company_name_key(row["legal_name"])[:255]
            self._match_keys += [(row["id"], key) for key in account_keys(row)]
            rows.append(spec.row(row))
        return rows, ctxs

    def _owners(self, rng: random.Random, accounts: list[AccountCtx]) -> list[Row]:
        """~90% of accounts are owned in the unit of the rep drawn for them; ~25% also by a
        rep of another unit covering the district (a cross-unit customer)."""
        spec = self.specs[AccountOwner]
        rows: list[Row] = []
        now = self.now
        for ctx in accounts:
            owners: dict[uuid.UUID, uuid.UUID] = {}
            if ctx.rep.business_unit_id is not None and rng.random() < 0.9:
                owners[ctx.rep.business_unit_id] = ctx.rep.id
            if ctx.district_id is not None and rng.random() < 0.25:
                other = rng.choice(self._pairs_by_district[ctx.district_id])[0]
                if other.business_unit_id is not None:
                    owners.setdefault(other.business_unit_id, other.id)
            for unit_id, owner_id in owners.items():
                rows.append(
                    spec.row(
                        {
                            "id": new_id(),
                            "created_at": now,
                            "updated_at": now,
                            "account_id": ctx.id,
                            "business_unit_id": unit_id,
                            "product_line_id": None,
                            "owner_id": owner_id,
                            "source": OwnershipSource.RULE,
                            "rule_id": None,
                        }
                    )
                )
        return rows

    def _avoid_tax_id_collisions(self, values: list[dict[str, Any]], rng: random.Random) -> None:
        """Tax IDs derive from the customer-code number, so they are unique among generated
        rows; re-draw any that an account created elsewhere (e.g. demo data) already uses."""
        for _attempt in range(10):
            wanted = {v["tax_id"] for v in values if v["tax_id"]}
            taken: set[str] = set()
            pieces = sorted(wanted)
            for i in range(0, len(pieces), 5000):
                taken.update(
                    Account.objects.filter(tax_id__in=pieces[i : i + 5000]).values_list(
                        "tax_id", flat=True
                    )
                )
            if not taken:
                return
            self._tax_offset += 1
            remap: dict[str, str] = {}
            for v in values:
                old = v["tax_id"]
                if old in taken:
                    if old not in remap:
                        number = int(v["customer_code"][1:-1])
                        remap[old] = self._tax_id(number, "", rng)
                    v["tax_id"] = remap[old]
        raise RuntimeError("Could not find free tax IDs; is the database full of bench data?")

    # -- contacts

    def _contacts(self, rng: random.Random, accounts: list[AccountCtx]) -> list[Row]:
        spec = self.specs[Contact]
        now = self.now
        rows: list[Row] = []
        for acc in accounts:
            for _ in range(CONTACTS_PER_ACCOUNT(rng)):
                first, first_th = rng.choice(words.FIRST_NAMES)
                last, last_th = rng.choice(words.LAST_NAMES)
                title, department = rng.choice(words.JOB_TITLES)
                row: dict[str, Any] = {
                    "id": new_id(),
                    "created_at": now,
                    "updated_at": now,
                    "account_id": acc.id,
                    "salutation": rng.choice(words.SALUTATIONS),
                    "first_name": first,
                    "last_name": last,
                    "first_name_th": first_th,
                    "last_name_th": last_th,
                    "nickname": rng.choice(words.NICKNAMES) if rng.random() < 0.5 else "",
                    "job_title": title,
                    "department": department,
                    "email": f"{first.lower()}.{last[0].lower()}@{acc.domain}",
                    "phone": f"02-{rng.randint(100, 999)}-{rng.randint(1000, 9999)} "
                    f"ext. {rng.randint(100, 999)}",
                    "mobile": f"08{rng.randint(1, 9)}-{rng.randint(100, 999)}-"
                    f"{rng.randint(1000, 9999)}",
                    "line_id": f"{first.lower()}{rng.randint(1, 99)}" if rng.random() < 0.4 else "",
                    "preferred_language": "th" if rng.random() < 0.7 else "en",
                    "is_active": rng.random() < 0.95,
                }
                row["search_text"] = contact_search_text(cast(Contact, spec.namespace(row)))
                rows.append(spec.row(row))
                acc.contact_ids.append(row["id"])
        return rows

    # -- opportunities and line items

    def _opportunities(
        self, rng: random.Random, accounts: list[AccountCtx]
    ) -> tuple[list[Row], list[Row]]:
        t0 = time.perf_counter()
        opp_spec = self.specs[Opportunity]
        line_spec = self.specs[OpportunityLineItem]
        products = self.org.products
        now = self.now
        today = now.date()
        opp_rows: list[Row] = []
        line_rows: list[Row] = []
        line_time = 0.0
        for acc in accounts:
            for _ in range(OPPS_PER_ACCOUNT(rng)):
                rep, pipeline = rng.choice(self._pairs_by_district[acc.district_id])
                roll = rng.random()
                if roll < 0.25 and pipeline.won_stages:
                    stage = rng.choice(pipeline.won_stages)
                elif roll < 0.40 and pipeline.lost_stages:
                    stage = rng.choice(pipeline.lost_stages)
                else:
                    stage = rng.choice(pipeline.open_stages)
                opp_id = new_id()
                tl = time.perf_counter()
                amount = Decimal(0)
                for position in range(LINES_PER_OPP(rng)):
                    product = rng.choice(products)
                    quantity = Decimal(rng.choice((1, 1, 2, 3, 5, 10, 20, 50)))
                    discount = Decimal(rng.choice((0, 0, 0, 5, 10, 15)))
                    total = (
                        quantity * product.list_price * (_HUNDRED - discount) / _HUNDRED
                    ).quantize(_MONEY)
                    amount += total
                    line_rows.append(
                        line_spec.row(
                            {
                                "id": new_id(),
                                "created_at": now,
                                "updated_at": now,
                                "opportunity_id": opp_id,
                                "product_id": product.id,
                                "quantity": quantity,
                                "unit_price": product.list_price,
                                "discount_percent": discount,
                                "total": total,
                                "position": position,
                            }
                        )
                    )
                line_time += time.perf_counter() - tl
                if not amount:
                    amount = Decimal(rng.randrange(20, 5000) * 1000)
                topic = rng.choice(words.OPPORTUNITY_TOPICS)
                short = acc.short_th if topic[0] > "~" and acc.short_th else acc.short_en
                name = f"{topic} — {short}"
                is_open = stage.outcome == "open"
                closed_at = None if is_open else now - dt.timedelta(days=rng.randint(1, 900))
                next_step = rng.choice(words.NEXT_STEPS) if is_open else ""
                row = {
                    "id": opp_id,
                    "created_at": now,
                    "updated_at": now,
                    "name": name,
                    "account_id": acc.id,
                    "contact_id": (
                        rng.choice(acc.contact_ids)
                        if acc.contact_ids and rng.random() < 0.7
                        else None
                    ),
                    "business_unit_id": pipeline.business_unit_id,
                    "owner_id": rep.id,
                    "pipeline_id": pipeline.id,
                    "stage_id": stage.id,
                    "amount": amount,
                    "currency": self.currency,
                    "expected_close_date": (
                        today + dt.timedelta(days=rng.randint(7, 180))
                        if closed_at is None
                        else closed_at.date()
                    ),
                    "closed_at": closed_at,
                    "lost_reason": rng.choice(words.LOST_REASONS)
                    if stage.outcome == "lost"
                    else "",
                    "next_step": next_step,
                    # as sales.services._opportunity_save fills it
                    "search_text": " ".join(p for p in (name, next_step) if p).casefold(),
                }
                opp_rows.append(opp_spec.row(row))
                acc.opportunities.append((opp_id, rep.id))
        elapsed = time.perf_counter() - t0
        self.stats.tables[Opportunity._meta.label].generate_s += elapsed - line_time
        self.stats.tables[OpportunityLineItem._meta.label].generate_s += line_time
        return opp_rows, line_rows

    # -- activities

    def _activities(self, rng: random.Random, accounts: list[AccountCtx]) -> list[Row]:
        spec = self.specs[Activity]
        now = self.now
        reps = self.org.reps
        rows: list[Row] = []
        span = 3 * 365 * 86400
        ahead = 30 * 86400
        for acc in accounts:
            for _ in range(rng.randint(0, ACTIVITIES_MAX)):
                kind = ACTIVITY_KIND(rng)
                occurred_at = now + dt.timedelta(seconds=rng.randint(-span, ahead))
                future = occurred_at > now
                if future and kind in (ActivityKind.NOTE, ActivityKind.EMAIL):
                    occurred_at = now - (occurred_at - now)
                    future = False
                performer = acc.rep.id if rng.random() < 0.8 else rng.choice(reps).id
                opportunity_id = None
                if acc.opportunities and rng.random() < 0.4:
                    opportunity_id, performer = rng.choice(acc.opportunities)
                row: dict[str, Any] = {
                    "id": new_id(),
                    "created_at": now,
                    "updated_at": now,
                    "kind": kind,
                    "subject": rng.choice(words.ACTIVITY_SUBJECTS[kind]),
                    "performed_by_id": performer,
                    "account_id": acc.id,
                    "contact_id": (
                        rng.choice(acc.contact_ids)
                        if acc.contact_ids and rng.random() < 0.6
                        else None
                    ),
                    "opportunity_id": opportunity_id,
                    "occurred_at": occurred_at,
                    "is_done": not future,
                }
                if rng.random() < 0.5:
                    row["body"] = rng.choice(words.ACTIVITY_OUTCOMES)
                if not future:
                    row["done_at"] = occurred_at
                    if kind in (ActivityKind.VISIT, ActivityKind.CALL, ActivityKind.MEETING):
                        row["outcome"] = rng.choice(words.ACTIVITY_OUTCOMES)
                if kind == ActivityKind.TASK:
                    row["due_date"] = occurred_at.date()
                elif kind in (ActivityKind.VISIT, ActivityKind.MEETING, ActivityKind.CALL):
                    row["start_at"] = occurred_at
                    row["end_at"] = occurred_at + dt.timedelta(minutes=rng.choice((15, 30, 60, 90)))
                if kind == ActivityKind.VISIT:
                    row["latitude"] = Decimal(f"{13.55 + rng.random() * 0.4:.6f}")
                    row["longitude"] = Decimal(f"{100.35 + rng.random() * 0.5:.6f}")
                    row["location"] = f"{acc.short_en} office"
                rows.append(spec.row(row))
        return rows


# --- match keys ---------------------------------------------------------------------------


def account_keys(row: dict[str, Any]) -> list[str]:
    """The blocking keys the account services store for an account (``AccountMatchKey``)."""
    return account_match_keys(account_features(dict_getter(row)))


def match_keys_write(
    rows: Sequence[tuple[uuid.UUID, str]], stats: ChunkStats | None = None
) -> None:
    """Write ``(account_id, key)`` rows to ``AccountMatchKey`` (COPY on PostgreSQL, else
    ``executemany``), inside the caller's transaction."""
    if not rows:
        return
    t0 = time.perf_counter()
    table = AccountMatchKey._meta.db_table
    account = AccountMatchKey._meta.get_field("account")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} (account_id, key) FROM STDIN") as copy:
                for account_id, key in rows:
                    copy.write_row((account_id, key))
        else:
            cursor.executemany(
                f"INSERT INTO {table} (account_id, key) VALUES (%s, %s)",
                [(account.get_db_prep_save(a, connection), k) for a, k in rows],
            )
    if stats is not None:  # charged to the accounts (the rows are not counted)
        stats.tables[Account._meta.label].write_s += time.perf_counter() - t0


# --- entry points -------------------------------------------------------------------------


def analyze() -> float:
    """Refresh planner statistics after a bulk load, and on PostgreSQL the visibility map
    too (VACUUM ANALYZE), as autovacuum eventually would: without it, index-only scans
    visit the heap for every row and the first measurements describe a freshly loaded
    table no running system has."""
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - t0


_worker_generator: Generator | None = None


def _worker_init() -> None:
    prepare_connection()


def _worker_chunk(count: int) -> ChunkStats:
    assert _worker_generator is not None
    return _worker_generator.chunk(count)


def generate(
    accounts: int,
    *,
    method: Method = "auto",
    chunk_size: int = DEFAULT_CHUNK,
    batch_size: int = DEFAULT_BATCH,
    workers: int = 1,
    seed: int = 1,
    run_analyze: bool = True,
    progress: Callable[[str], None] | None = print,
) -> GenerationReport:
    """Add ``accounts`` accounts (and their contacts, opportunities, activities).

    With ``workers`` > 1 the chunks are spread over forked processes, each with its own
    database connection: worth it on PostgreSQL, where the server's index maintenance and
    the Python generator then use both cores.
    """
    global _worker_generator
    before = Account.objects.count()
    org = ensure_org(verbose=progress is not None)
    writer = make_writer(method, batch_size)
    report = GenerationReport(
        accounts_requested=accounts,
        accounts_before=before,
        method=writer.name,
        workers=workers,
        chunk_size=chunk_size,
        org_notes=org.created,
    )
    gen = Generator(org, writer, seed=seed)
    sizes = [min(chunk_size, accounts - start) for start in range(0, accounts, chunk_size)]
    t0 = time.perf_counter()
    last_note = t0
    done = 0

    def record(count: int, stats: ChunkStats) -> None:
        nonlocal done, last_note
        report.stats.add(stats)
        done += count
        now = time.perf_counter()
        if progress is not None and (now - last_note > 10 or done == accounts):
            last_note = now
            rate = report.stats.rows / (now - t0)
            eta = (accounts - done) / (done / (now - t0))
            progress(
                f"  {done:>10,}/{accounts:,} accounts · {report.stats.rows:,} rows · "
                f"{rate:,.0f} rows/s" + (f" · ~{_duration(eta)} left" if done < accounts else "")
            )

    if workers <= 1:
        prepare_connection()
        for count in sizes:
            record(count, gen.chunk(count))
    else:
        connections.close_all()  # each forked worker opens its own connection
        _worker_generator = gen
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(workers, initializer=_worker_init) as pool:
                for count, stats in zip(sizes, pool.imap(_worker_chunk, sizes), strict=True):
                    record(count, stats)
        finally:
            _worker_generator = None
    report.wall_s = time.perf_counter() - t0
    if run_analyze and accounts:
        report.analyze_s = analyze()
    return report


def _duration(seconds: float) -> str:
    seconds = math.ceil(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in TABLE_ORDER}
