"""Give the benchmark database a sales force of realistic size.

    python -m bench.salesforce [--reps-per-slot 8]

The demo organisation has a handful of reps, so at a million accounts each of them owns a
seventh of the customers — no company works like that, and visibility measured that way
measures an artefact. This adds ``N`` reps per (district, business unit) that has a rep
already (same unit, manager and district as that rep: the "slot") and spreads the
account owners and the opportunities of each slot evenly over the slot's reps, in SQL
(a few minutes at a million accounts). With 8 per slot the demo's 39 slots hold ~300
reps, as in the design brief's 2,000-person company, and a rep owns a few thousand
accounts. Idempotent: reps are created once, and the spread is a pure function of ids.

Benchmark set-up, not a service: it writes no audit events.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from bench.env import database_label, migrate, setup_django


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.salesforce", description=__doc__)
    parser.add_argument("--reps-per-slot", type=int, default=8)
    args = parser.parse_args(argv)
    setup_django()
    migrate()

    from django.db import connection, transaction

    from accord.org.models import Role, User

    print(f"Database: {database_label()}")
    if connection.vendor != "postgresql":
        print("The spread is written for PostgreSQL.")
        return 1
    t0 = time.perf_counter()
    base = list(
        User.objects.filter(role=Role.SALES_REP, is_active=True)
        .exclude(username__startswith="bench-")
        .prefetch_related("districts")
    )
    created = 0
    with transaction.atomic():
        for rep in base:
            for district in rep.districts.all():
                for i in range(args.reps_per_slot):
                    username = f"bench-{district.code}-{rep.business_unit_id}-{i}"[:150]
                    user, made = User.objects.get_or_create(
                        username=username,
                        defaults={
                            "role": Role.SALES_REP,
                            "business_unit_id": rep.business_unit_id,
                            "manager_id": rep.manager_id,
                            "team_id": rep.team_id,
                            "first_name": f"{rep.first_name} {i + 1}",
                            "last_name": district.name,
                        },
                    )
                    if made:
                        user.set_unusable_password()
                        user.save(update_fields=["password"])
                        user.districts.add(district)
                        created += 1
    print(f"Reps: {created} created, {User.objects.filter(role=Role.SALES_REP).count()} in all")

    slot_reps = """
        CREATE TEMP TABLE slot_rep AS
        SELECT d.district_id, u.business_unit_id,
               row_number() OVER (PARTITION BY d.district_id, u.business_unit_id
                                  ORDER BY u.id) - 1 AS idx,
               count(*) OVER (PARTITION BY d.district_id, u.business_unit_id) AS n,
               u.id AS user_id
        FROM org_user u JOIN org_user_districts d ON d.user_id = u.id
        WHERE u.role = 'sales_rep' AND u.is_active AND u.business_unit_id IS NOT NULL;
        CREATE INDEX ON slot_rep (district_id, business_unit_id, idx);
        ANALYZE slot_rep;
    """
    spread_owners = """
        UPDATE territories_accountowner o SET owner_id = s.user_id
        FROM customers_account a, slot_rep s
        WHERE a.id = o.account_id AND s.district_id = a.district_id
          AND s.business_unit_id = o.business_unit_id
          AND s.idx = abs(hashtext(o.account_id::text)) % s.n
          AND o.owner_id <> s.user_id
    """
    # An opportunity goes to the rep who owns its account in its unit, when there is one,
    # else to a rep of its slot, so reps sell mostly to their own accounts.
    spread_opportunities = """
        UPDATE sales_opportunity p SET owner_id = coalesce(
            (SELECT o.owner_id FROM territories_accountowner o
             WHERE o.account_id = p.account_id AND o.business_unit_id = p.business_unit_id
               AND o.product_line_id IS NULL),
            s.user_id)
        FROM customers_account a, slot_rep s
        WHERE a.id = p.account_id AND s.district_id = a.district_id
          AND s.business_unit_id = p.business_unit_id
          AND s.idx = abs(hashtext(p.id::text)) % s.n
    """
    with connection.cursor() as cursor:
        cursor.execute(slot_reps)
        for label, sql in (
            ("account owners", spread_owners),
            ("opportunities", spread_opportunities),
        ):
            t = time.perf_counter()
            cursor.execute(sql)
            print(f"Spread {label}: {cursor.rowcount:,} rows in {time.perf_counter() - t:.0f} s")
        cursor.execute("DROP TABLE slot_rep")
        cursor.execute("VACUUM ANALYZE territories_accountowner")
        cursor.execute("VACUUM ANALYZE sales_opportunity")
    from bench.generate import rebuild_cells

    rebuild_cells()  # the opportunities changed owner behind the cells' handlers
    print(f"Done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
