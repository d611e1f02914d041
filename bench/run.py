"""Benchmark of the account API at scale.

    python -m bench.run [--accounts N] [--skip-generate] [--repeat 200]

1. Sets up Django on the benchmark database (``DATABASE_URL``, default
   ``var/bench.sqlite3`` — never ``var/accord.sqlite3``) and migrates it.
2. Tops the database up to N accounts with the bulk generator (``bench/generate.py``).
3. Times API requests through the whole Django stack in-process (``django.test.Client``:
   middleware, token authentication, django-ninja, selectors, database), authenticated by a
   Bearer API token of an administrator, after a warm-up; prints p50/p95/mean per
   scenario and the SQL queries one request makes.

The network and a WSGI server are not part of the figures, and neither is opening a
database connection (the test client keeps it open between requests).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.env import database_label, migrate, setup_django
from bench.generate import add_generate_arguments, top_up

if TYPE_CHECKING:
    from django.test import Client

    from accord.org.models import User

TARGET_P95_MS = 50.0
PAGE = 50


@dataclass
class Part:
    """One request of a sample: a label (the row it is reported under) and a URL."""

    label: str
    url: str


@dataclass
class Scenario:
    name: str
    sample: Callable[[int], list[Part]]  # sample number -> the requests of that sample
    combined: str | None = None  # label for the per-sample sum of the parts, if several


@dataclass
class Result:
    label: str
    times_ms: list[float] = field(default_factory=list)
    queries: int | None = None
    query_ms: float | None = None
    items: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")

    def percentile(self, q: float) -> float:
        data = sorted(self.times_ms)
        if not data:
            return float("nan")
        k = (len(data) - 1) * q
        lo = int(k)
        hi = min(lo + 1, len(data) - 1)
        return data[lo] + (data[hi] - data[lo]) * (k - lo)

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": len(self.times_ms),
            "p50_ms": round(self.percentile(0.50), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "mean_ms": round(statistics.fmean(self.times_ms), 2) if self.times_ms else None,
            "max_ms": round(max(self.times_ms), 2) if self.times_ms else None,
            "queries": self.queries,
            "query_ms": self.query_ms,
            "items_mean": round(statistics.fmean(self.items), 1) if self.items else None,
            "errors": len(self.errors),
            "slowest_ms": round(self.slowest[0], 2),
            "slowest_url": self.slowest[1],
        }


# --- set-up -------------------------------------------------------------------------------


def benchmark_user() -> User:
    """An active administrator (sees every account), created if there is none."""
    from accord.org.models import Role, User

    user = (
        User.objects.filter(is_active=True, role=Role.ADMINISTRATOR).order_by("username").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("username").first()
    )
    if user is None:
        user = User(username="bench-admin", role=Role.ADMINISTRATOR, is_staff=True)
        user.set_unusable_password()
        user.save()
    return user


def sales_rep() -> User | None:
    """A sales rep covering some districts (to time the list under a territory filter)."""
    from accord.org.models import Role, User

    return (
        User.objects.filter(is_active=True, role=Role.SALES_REP, districts__isnull=False)
        .order_by("username")
        .distinct()
        .first()
    )


def deep_cursors(count: int, fractions: Sequence[float]) -> list[str]:
    """Cursors pointing ~90% of the way through the legal-name ordering."""
    from accord.core.pagination import encode_cursor
    from accord.customers.models import Account

    ordered = Account.objects.order_by("legal_name", "id").values_list("legal_name", "id")
    cursors = []
    for fraction in fractions:
        legal_name, pk = ordered[min(int(count * fraction), count - 1)]
        cursors.append(encode_cursor("legal_name", [legal_name, pk]))
    return cursors


def random_account_ids(n: int, rng: random.Random) -> list[str]:
    """``n`` random account ids, drawn through random customer codes (an indexed lookup
    per code instead of an OFFSET scan per id)."""
    from accord.customers.models import Account, CodeSequence
    from accord.customers.services import customer_code_format

    seq = CodeSequence.objects.filter(name="customer_code").first()
    top = seq.last_value if seq else 0
    found: list[str] = []
    for _attempt in range(20):
        if top < 1 or len(found) >= n:
            break
        codes = {customer_code_format(rng.randint(1, top)) for _ in range(2 * (n - len(found)))}
        found += [
            str(pk)
            for pk in Account.objects.filter(customer_code__in=sorted(codes)).values_list(
                "pk", flat=True
            )
        ]
    if len(found) < n:  # codes issued elsewhere or none at all: fall back to any ids
        found += [str(pk) for pk in Account.objects.values_list("pk", flat=True)[: n - len(found)]]
    rng.shuffle(found)
    return (found * (n // max(len(found), 1) + 1))[:n]


def search_fragments(n: int, rng: random.Random) -> list[str]:
    """Name fragments as people type them: English word pieces of 3-7 letters (any case)
    and Thai words, all from the generator's word lists."""
    from bench import words

    english = [w for w in words.search_words() if w.isascii() and len(w) >= 3]
    thai = [w for w in words.search_words() if not w.isascii() and len(w) >= 3]
    out = []
    for _ in range(n):
        if rng.random() < 0.4:
            out.append(rng.choice(thai))
            continue
        word = rng.choice(english)
        size = rng.randint(3, min(7, len(word)))
        start = rng.randint(0, len(word) - size)
        piece = word[start : start + size]
        out.append(piece if rng.random() < 0.5 else piece.lower())
    return out


def specific_names(ids: Sequence[str], rng: random.Random) -> list[str]:
    """What someone looking for one company types: two adjacent words of a real account's
    English name, or the distinctive part of its Thai name (between the legal-form words)."""
    from accord.customers.models import Account

    names = dict(
        (str(pk), (en, th))
        for pk, en, th in Account.objects.filter(pk__in=list(ids)).values_list(
            "pk", "name_en", "name_th"
        )
    )
    out = []
    for pk in ids:
        en, th = names.get(pk, ("", ""))
        thai_parts = [p for p in th.split() if p not in THAI_FORM_WORDS]
        if thai_parts and rng.random() < 0.4:
            out.append(thai_parts[0])
            continue
        english = [w for w in en.split() if not w.startswith("(")][:4]
        if len(english) >= 2:
            start = rng.randint(0, min(len(english), 3) - 2)
            phrase = " ".join(english[start : start + 2])
            out.append(phrase if rng.random() < 0.5 else phrase.lower())
        elif en:
            out.append(en)
    return out or ["siam"]


THAI_FORM_WORDS = frozenset({"บริษัท", "จำกัด", "(มหาชน)", "ห้างหุ้นส่วนจำกัด", "ห้างหุ้นส่วนสามัญ"})


# --- measuring ----------------------------------------------------------------------------


class Recorder:
    """A ``connection.execute_wrapper`` keeping each query's SQL and parameters."""

    def __init__(self) -> None:
        self.executed: list[tuple[str, Any]] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.executed.append((sql, params))
        return execute(sql, params, many, context)


class Runner:
    def __init__(self, client: Client, *, repeat: int, warmup: int, explain: bool) -> None:
        self.client = client
        self.repeat = repeat
        self.warmup = warmup
        self.explain = explain
        self.explained: list[str] = []

    def get(self, url: str) -> tuple[float, Any]:
        t0 = time.perf_counter()
        response = self.client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        return elapsed, response

    def run(self, scenario: Scenario) -> list[Result]:
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        results: dict[str, Result] = {}
        combined = Result(scenario.combined) if scenario.combined else None
        for i in range(self.warmup):
            for part in scenario.sample(i):
                self.get(part.url)
        # One request per part under CaptureQueriesContext, for the query count.
        for part in scenario.sample(self.warmup):
            result = results.setdefault(part.label, Result(part.label))
            recorder = Recorder()
            reset_queries()  # request_started resets the log; start from an empty one
            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(recorder):
                _elapsed, response = self.get(part.url)
            result.queries = len(ctx.captured_queries)
            result.query_ms = round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 2)
            if self.explain:
                times = [float(q["time"]) for q in ctx.captured_queries]
                self._explain(part, recorder.executed, times)
            if response.status_code != 200:
                result.errors.append(f"{response.status_code} {part.url}")
        for i in range(self.warmup + 1, self.warmup + 1 + self.repeat):
            total = 0.0
            for part in scenario.sample(i):
                result = results.setdefault(part.label, Result(part.label))
                elapsed, response = self.get(part.url)
                total += elapsed
                if response.status_code != 200:
                    result.errors.append(
                        f"{response.status_code} {part.url}: {response.content[:300]!r}"
                    )
                    continue
                result.times_ms.append(elapsed)
                result.slowest = max(result.slowest, (elapsed, part.url))
                if response.get("Content-Type", "").startswith("application/json"):
                    body = response.json()
                    if isinstance(body, dict) and isinstance(body.get("items"), list):
                        result.items.append(len(body["items"]))
            if combined is not None:
                combined.times_ms.append(total)
        out = list(results.values())
        if combined is not None:
            combined.queries = sum(r.queries or 0 for r in out)
            combined.query_ms = round(sum(r.query_ms or 0 for r in out), 2)
            out.append(combined)
        return out

    def _explain(self, part: Part, executed: list[tuple[str, Any]], times: list[float]) -> None:
        """Plans of the request's queries (with their real parameters), except token, user
        and session look-ups."""
        from django.db import connection

        skip = ('"org_apitoken"', '"org_user"', '"django_session"')
        pg = connection.vendor == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
        lines = [f"{part.label}  ({part.url[:90]})"]
        if len(times) != len(executed):
            times = [float("nan")] * len(executed)
        for (sql, params), seconds in zip(executed, times, strict=True):
            head = sql.split(" WHERE ")[0]
            if not sql.lstrip().upper().startswith("SELECT") or any(t in head for t in skip):
                continue
            try:
                with connection.cursor() as cursor:
                    cursor.execute(prefix + sql, params)
                    plan = [str(row[0] if pg else row[-1]) for row in cursor.fetchall()]
            except Exception as exc:  # diagnostics only
                plan = [f"(could not explain: {exc})"]
            lines.append(f"  {seconds * 1000:7.1f} ms  … FROM {sql.split(' FROM ', 1)[-1][:160]}")
            lines += [f"      {line}" for line in plan]
        self.explained.append("\n".join(lines))


# --- output -------------------------------------------------------------------------------


def table(results: list[Result], *, target_ms: float = TARGET_P95_MS) -> list[str]:
    head = (
        f"  {'scenario':<44}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'max ms':>9}"
        f"{'queries':>9}{'db ms':>8}{'items':>7}  p95<{target_ms:.0f}ms"
    )
    lines = [head, "  " + "-" * (len(head) - 2)]
    for r in results:
        s = r.summary()
        if not r.times_ms:
            lines.append(f"  {r.label:<44}  no successful samples ({len(r.errors)} errors)")
            continue
        ok = "ok" if s["p95_ms"] < target_ms else "SLOW"
        items = "" if s["items_mean"] is None else f"{s['items_mean']:.0f}"
        lines.append(
            f"  {r.label:<44}{s['n']:>5}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}"
            f"{s['mean_ms']:>9.1f}{s['max_ms']:>9.1f}{s['queries'] or 0:>9}"
            f"{s['query_ms'] or 0:>8.1f}{items:>7}  {ok}"
        )
    return lines


# --- main ---------------------------------------------------------------------------------


def build_scenarios(
    *, count: int, rng: random.Random, samples: int, rep_client: bool
) -> list[Scenario]:
    cursors = deep_cursors(count, (0.88, 0.89, 0.90, 0.91, 0.92))
    fragments = search_fragments(samples, rng)
    ids = random_account_ids(samples, rng)
    names = specific_names(random_account_ids(samples, rng), rng)
    base = "/api/v1/accounts"

    def first_page(_i: int) -> list[Part]:
        return [Part("list accounts, first page", f"{base}?limit={PAGE}")]

    def deep_page(i: int) -> list[Part]:
        cursor = cursors[i % len(cursors)]
        return [
            Part(
                "list accounts, deep page (~90%)",
                f"{base}?limit={PAGE}&ordering=legal_name&cursor={cursor}",
            )
        ]

    def search(i: int) -> list[Part]:
        from urllib.parse import quote

        return [
            Part(
                "search accounts by name fragment",
                f"{base}?search={quote(fragments[i % len(fragments)])}&limit={PAGE}",
            )
        ]

    def search_name(i: int) -> list[Part]:
        from urllib.parse import quote

        return [
            Part(
                "search accounts by a specific name",
                f"{base}?search={quote(names[i % len(names)])}&limit={PAGE}",
            )
        ]

    def detail(i: int) -> list[Part]:
        pk = ids[i % len(ids)]
        return [
            Part("account detail", f"{base}/{pk}"),
            Part("account timeline", f"{base}/{pk}/timeline?limit={PAGE}"),
        ]

    scenarios = [
        Scenario("first page", first_page),
        Scenario("deep page", deep_page),
        Scenario("search", search),
        Scenario("search name", search_name),
        Scenario("detail", detail, combined="account detail with timeline"),
    ]
    if rep_client:
        scenarios.append(
            Scenario(
                "rep first page",
                lambda _i: [Part("list accounts, first page (sales rep)", f"{base}?limit={PAGE}")],
            )
        )
    return scenarios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Generate benchmark data if needed, then time the account API.",
    )
    add_generate_arguments(parser)
    parser.add_argument("--skip-generate", action="store_true", help="measure the data as is")
    parser.add_argument("--repeat", type=int, default=200, help="timed samples per scenario")
    parser.add_argument("--warmup", type=int, default=10, help="untimed samples per scenario")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN each slowest query")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    setup_django()
    migrate()

    from django.test import Client

    from accord.org.services import api_token_create, api_token_revoke
    from bench.loader import row_counts

    print(f"Database: {database_label()}")
    print(
        f"Machine:  {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform(terse=True)}"
    )
    report = None
    if not args.skip_generate:
        report = top_up(args)
        if report is not None:
            print("\n".join(report.lines()))
    counts = row_counts()
    print("Rows:     " + " · ".join(f"{label} {n:,}" for label, n in counts.items()))
    accounts = counts["customers.Account"]
    if accounts == 0:
        print("No accounts to benchmark (run without --skip-generate).", file=sys.stderr)
        return 1

    rng = random.Random(args.seed)
    admin = benchmark_user()
    issued = api_token_create(user=admin, name="bench")
    rep = sales_rep()
    rep_token = api_token_create(user=rep, name="bench") if rep is not None else None
    clients = {"admin": Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")}
    if rep_token is not None:
        clients["rep"] = Client(HTTP_AUTHORIZATION=f"Bearer {rep_token.secret}")

    results: list[Result] = []
    explained: list[str] = []
    try:
        probe = clients["admin"].get("/api/v1/accounts?limit=1")
        if probe.status_code != 200:
            print(
                f"\nThe account API is not available: GET /api/v1/accounts answered "
                f"{probe.status_code} {probe.content[:200]!r}.\nOnly the generator was run.",
                file=sys.stderr,
            )
            return 2
        samples = args.warmup + args.repeat + 1
        scenarios = build_scenarios(
            count=accounts, rng=rng, samples=samples, rep_client=rep_token is not None
        )
        print(
            f"\nTiming {len(scenarios)} scenarios: {args.warmup} warm-up + {args.repeat} timed "
            f"samples each, as {admin.username} (administrator)"
            + (f"; rep scenario as {rep.username}" if rep is not None else "")
        )
        for scenario in scenarios:
            client = clients["rep" if scenario.name.startswith("rep") else "admin"]
            runner = Runner(client, repeat=args.repeat, warmup=args.warmup, explain=args.explain)
            results += runner.run(scenario)
            explained += runner.explained
    finally:
        api_token_revoke(token=issued.token)
        if rep_token is not None:
            api_token_revoke(token=rep_token.token)

    print()
    print("\n".join(table(results)))
    print("\n  slowest samples:")
    for r in results:
        if r.slowest[1]:
            print(f"    {r.slowest[0]:8.1f} ms  {r.slowest[1][:110]}")
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"\n  {r.label}: {len(r.errors)} failed requests, e.g. {r.errors[0][:300]}")
    if explained:
        print("\nQuery plans (one request per scenario; auth look-ups left out):")
        print("\n".join(explained))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "database": database_label(),
                    "rows": counts,
                    "generator": None
                    if report is None
                    else {
                        "method": report.method,
                        "workers": report.workers,
                        "wall_s": round(report.wall_s, 1),
                        "rows": report.total_rows,
                        "rows_per_s": round(report.rows_per_s),
                        "tables": {
                            label: {**asdict(t), "rows_per_s": round(rate)}
                            for (label, t), rate in zip(
                                report.stats.tables.items(),
                                report.table_rows_per_s().values(),
                                strict=True,
                            )
                        },
                    },
                    "scenarios": [r.summary() for r in results],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        print(f"\nFigures written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
