"""AccountReach: the accounts a person owns or sells to outside the districts they cover.

On PostgreSQL the table is filled here and kept in step by triggers (ADR 0009, addendum
"the rep's search"); other databases get the empty table, which they never read.

``accord_reach_refresh(user, account)`` decides one pair from the sources; the triggers call
it for each owner row and opportunity written, moved or deleted, and for each account whose
district changes (a name or search column change is copied). A change of a user's districts
or region, or of a district's region, rebuilds those users' rows
(``accord_reach_rebuild``). Transaction-scoped advisory locks make two transactions
deciding one pair (or rebuilding a user's rows) take turns, the second deciding on what the
first committed: without them, a pair's row could be deleted on the strength of a snapshot
that missed a source committed meanwhile.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

# Whether account ``a`` lies in a district user ``u`` covers (their districts, their region's).
_COVERED = """
    EXISTS (SELECT 1 FROM org_user_districts ud
            WHERE ud.user_id = {u} AND ud.district_id = {district})
    OR EXISTS (SELECT 1 FROM org_user uu JOIN org_district d ON d.region_id = uu.region_id
               WHERE uu.id = {u} AND d.id = {district})
"""

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION accord_reach_refresh(u uuid, a uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF u IS NULL OR a IS NULL THEN
        RETURN;
    END IF;
    -- One decision per pair at a time, and none while the user's rows are rebuilt: a write
    -- waits for the transaction deciding the same pair, then decides on what it committed.
    PERFORM pg_advisory_xact_lock_shared(hashtextextended(u::text, 0));
    PERFORM pg_advisory_xact_lock(hashtextextended(u::text || a::text, 0));
    IF (EXISTS (SELECT 1 FROM territories_accountowner o WHERE o.account_id = a AND o.owner_id = u)
        OR EXISTS (SELECT 1 FROM sales_opportunity p WHERE p.account_id = a AND p.owner_id = u))
       AND EXISTS (SELECT 1 FROM customers_account c WHERE c.id = a AND (
            c.district_id IS NULL OR NOT ({_COVERED.format(u="u", district="c.district_id")})))
    THEN
        INSERT INTO territories_accountreach (user_id, account_id, legal_name, search_text)
        SELECT u, c.id, c.legal_name, c.search_text FROM customers_account c WHERE c.id = a
        ON CONFLICT (user_id, account_id) DO UPDATE
            SET legal_name = EXCLUDED.legal_name, search_text = EXCLUDED.search_text;
    ELSE
        DELETE FROM territories_accountreach WHERE user_id = u AND account_id = a;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION accord_reach_rebuild(u uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(u::text, 0));
    DELETE FROM territories_accountreach WHERE user_id = u;
    INSERT INTO territories_accountreach (user_id, account_id, legal_name, search_text)
    SELECT u, c.id, c.legal_name, c.search_text
    FROM customers_account c
    WHERE c.id IN (SELECT account_id FROM territories_accountowner WHERE owner_id = u
                   UNION SELECT account_id FROM sales_opportunity WHERE owner_id = u)
      AND (c.district_id IS NULL OR NOT ({_COVERED.format(u="u", district="c.district_id")}));
END $$;

CREATE OR REPLACE FUNCTION accord_reach_rebuild_all() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- writes that would decide a pair wait until the rebuilt table is committed
    LOCK TABLE territories_accountreach IN EXCLUSIVE MODE;
    DELETE FROM territories_accountreach;
    INSERT INTO territories_accountreach (user_id, account_id, legal_name, search_text)
    SELECT s.u, c.id, c.legal_name, c.search_text
    FROM (SELECT owner_id AS u, account_id AS a FROM territories_accountowner
          UNION SELECT owner_id, account_id FROM sales_opportunity
          WHERE owner_id IS NOT NULL AND account_id IS NOT NULL) s
    JOIN customers_account c ON c.id = s.a
    WHERE c.district_id IS NULL OR NOT ({_COVERED.format(u="s.u", district="c.district_id")});
END $$;

CREATE OR REPLACE FUNCTION accord_reach_on_source() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM accord_reach_refresh(OLD.owner_id, OLD.account_id);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM accord_reach_refresh(NEW.owner_id, NEW.account_id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION accord_reach_on_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM territories_accountreach WHERE account_id = OLD.id;
    ELSIF NEW.district_id IS DISTINCT FROM OLD.district_id THEN
        PERFORM accord_reach_refresh(s.u, NEW.id) FROM (
            SELECT owner_id AS u FROM territories_accountowner WHERE account_id = NEW.id
            UNION SELECT owner_id FROM sales_opportunity WHERE account_id = NEW.id
            UNION SELECT user_id FROM territories_accountreach WHERE account_id = NEW.id) s;
    ELSE
        UPDATE territories_accountreach
        SET legal_name = NEW.legal_name, search_text = NEW.search_text
        WHERE account_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION accord_reach_on_user_districts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM accord_reach_rebuild(s.u) FROM (SELECT DISTINCT user_id AS u FROM new_rows) s;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM accord_reach_rebuild(s.u) FROM (SELECT DISTINCT user_id AS u FROM old_rows) s;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION accord_reach_on_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM territories_accountreach WHERE user_id = OLD.id;
    ELSE
        PERFORM accord_reach_rebuild(NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION accord_reach_on_district() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM accord_reach_rebuild(uu.id) FROM org_user uu
    WHERE uu.region_id IN (OLD.region_id, NEW.region_id);
    RETURN NULL;
END $$;
"""

_SOURCE = "territories_accountowner", "sales_opportunity"
_MOVED = "OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.account_id IS DISTINCT FROM NEW.account_id"
TRIGGERS = (
    [
        f"""CREATE TRIGGER accord_reach_written AFTER INSERT OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION accord_reach_on_source()"""
        for table in _SOURCE
    ]
    + [
        f"""CREATE TRIGGER accord_reach_moved AFTER UPDATE OF owner_id, account_id ON {table}
            FOR EACH ROW WHEN ({_MOVED}) EXECUTE FUNCTION accord_reach_on_source()"""
        for table in _SOURCE
    ]
    + [
        """CREATE TRIGGER accord_reach_account AFTER UPDATE OF legal_name, search_text,
           district_id ON customers_account FOR EACH ROW
           WHEN (OLD.legal_name IS DISTINCT FROM NEW.legal_name
                 OR OLD.search_text IS DISTINCT FROM NEW.search_text
                 OR OLD.district_id IS DISTINCT FROM NEW.district_id)
           EXECUTE FUNCTION accord_reach_on_account()""",
        """CREATE TRIGGER accord_reach_account_gone AFTER DELETE ON customers_account
           FOR EACH ROW EXECUTE FUNCTION accord_reach_on_account()""",
        """CREATE TRIGGER accord_reach_districts_added AFTER INSERT ON org_user_districts
           REFERENCING NEW TABLE AS new_rows
           FOR EACH STATEMENT EXECUTE FUNCTION accord_reach_on_user_districts()""",
        """CREATE TRIGGER accord_reach_districts_removed AFTER DELETE ON org_user_districts
           REFERENCING OLD TABLE AS old_rows
           FOR EACH STATEMENT EXECUTE FUNCTION accord_reach_on_user_districts()""",
        """CREATE TRIGGER accord_reach_districts_changed AFTER UPDATE ON org_user_districts
           REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
           FOR EACH STATEMENT EXECUTE FUNCTION accord_reach_on_user_districts()""",
        """CREATE TRIGGER accord_reach_user_region AFTER UPDATE OF region_id ON org_user
           FOR EACH ROW WHEN (OLD.region_id IS DISTINCT FROM NEW.region_id)
           EXECUTE FUNCTION accord_reach_on_user()""",
        """CREATE TRIGGER accord_reach_user_gone AFTER DELETE ON org_user
           FOR EACH ROW EXECUTE FUNCTION accord_reach_on_user()""",
        """CREATE TRIGGER accord_reach_district_region AFTER UPDATE OF region_id ON org_district
           FOR EACH ROW WHEN (OLD.region_id IS DISTINCT FROM NEW.region_id)
           EXECUTE FUNCTION accord_reach_on_district()""",
    ]
)

_TRIGGERS_ON = [
    ("accord_reach_written", "territories_accountowner"),
    ("accord_reach_written", "sales_opportunity"),
    ("accord_reach_moved", "territories_accountowner"),
    ("accord_reach_moved", "sales_opportunity"),
    ("accord_reach_account", "customers_account"),
    ("accord_reach_account_gone", "customers_account"),
    ("accord_reach_districts_added", "org_user_districts"),
    ("accord_reach_districts_removed", "org_user_districts"),
    ("accord_reach_districts_changed", "org_user_districts"),
    ("accord_reach_user_region", "org_user"),
    ("accord_reach_user_gone", "org_user"),
    ("accord_reach_district_region", "org_district"),
]
_FUNCTIONS = [
    "accord_reach_refresh(uuid, uuid)",
    "accord_reach_rebuild(uuid)",
    "accord_reach_rebuild_all()",
    "accord_reach_on_source()",
    "accord_reach_on_account()",
    "accord_reach_on_user_districts()",
    "accord_reach_on_user()",
    "accord_reach_on_district()",
]


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)
        for statement in TRIGGERS:
            cursor.execute(statement)
        cursor.execute("SELECT accord_reach_rebuild_all()")


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, table in _TRIGGERS_ON:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in _FUNCTIONS:
            cursor.execute(f"DROP FUNCTION IF EXISTS {function}")


class Migration(migrations.Migration):
    dependencies = [
        ("territories", "0002_account_owner_probe_index"),
        ("customers", "0011_district_name_index_search_text"),
        ("sales", "0009_open_uncelled_index"),
        ("org", "0002_notification"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountReach",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("user_id", models.UUIDField()),
                ("account_id", models.UUIDField()),
                ("legal_name", models.CharField(max_length=255)),
                ("search_text", models.TextField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["user_id", "legal_name", "account_id"],
                        include=("search_text",),
                        name="account_reach_walk",
                    ),
                    models.Index(fields=["account_id"], name="account_reach_account"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user_id", "account_id"), name="account_reach_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
