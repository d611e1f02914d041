"""Fill the matching keys of existing accounts and contacts; trigram-index the name keys.

On PostgreSQL the accounts' ``n:`` (name) match keys get a partial pg_trgm GIN index, for
fuzzy candidate retrieval on every name (legal, Thai, English) at once. Where the
database's ``LC_CTYPE`` is ``C`` pg_trgm extracts no trigrams from Thai text; the
``accord.W001`` system check reports that (ADR 0005).
"""

from __future__ import annotations

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)

BATCH = 2000


def fill(apps, schema_editor):
    from accord.dataquality.matching import (
        account_features,
        account_match_keys,
        contact_features,
        contact_match_keys,
        object_getter,
    )
    from accord.dataquality.normalize import company_name_key

    Account = apps.get_model("customers", "Account")
    Contact = apps.get_model("customers", "Contact")
    AccountMatchKey = apps.get_model("customers", "AccountMatchKey")
    ContactMatchKey = apps.get_model("customers", "ContactMatchKey")
    keys = []
    for account in Account.objects.order_by("pk").iterator(chunk_size=BATCH):
        account.name_key = company_name_key(account.legal_name)[:255]
        account.save(update_fields=["name_key"])
        for key in account_match_keys(account_features(object_getter(account))):
            keys.append(AccountMatchKey(account_id=account.pk, key=key))
        if len(keys) >= BATCH:
            AccountMatchKey.objects.bulk_create(keys, ignore_conflicts=True)
            keys = []
    AccountMatchKey.objects.bulk_create(keys, ignore_conflicts=True)
    keys = []
    for contact in Contact.objects.order_by("pk").iterator(chunk_size=BATCH):
        for key in contact_match_keys(contact_features(object_getter(contact))):
            keys.append(ContactMatchKey(contact_id=contact.pk, key=key))
        if len(keys) >= BATCH:
            ContactMatchKey.objects.bulk_create(keys, ignore_conflicts=True)
            keys = []
    ContactMatchKey.objects.bulk_create(keys, ignore_conflicts=True)


def trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - any refusal: carry on without the index
        logger.warning("pg_trgm unavailable (%s); fuzzy matching uses blocking keys only.", exc)
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS customers_accountmatchkey_name_trgm "
            "ON customers_accountmatchkey USING gin (key gin_trgm_ops) WHERE key LIKE 'n:%%'"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS customers_accountmatchkey_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_match_keys"), ("dataquality", "0004_seed_match_rules")]
    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(trigram_index, drop_trigram_index),
    ]
