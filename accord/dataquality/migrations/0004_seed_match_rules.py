"""Default duplicate rules and thresholds (administrators change them in the admin)."""

from __future__ import annotations

from django.db import migrations

# One source with the batch engine (accord.dataquality.rule_defaults); the data is what
# this migration has always seeded.
from accord.dataquality.rule_defaults import (
    ACCOUNT_RULES,
    CONTACT_RULES,
    DEFAULT_BLOCK,
    DEFAULT_WARN,
)


def seed(apps, schema_editor):
    MatchRule = apps.get_model("dataquality", "MatchRule")
    MatchThreshold = apps.get_model("dataquality", "MatchThreshold")
    for record_type, rules in (("account", ACCOUNT_RULES), ("contact", CONTACT_RULES)):
        for name, description, conditions in rules:
            MatchRule.objects.get_or_create(
                record_type=record_type,
                name=name,
                defaults={"description": description, "conditions": conditions},
            )
        MatchThreshold.objects.get_or_create(
            record_type=record_type, defaults={"block": DEFAULT_BLOCK, "warn": DEFAULT_WARN}
        )


def unseed(apps, schema_editor):
    apps.get_model("dataquality", "MatchRule").objects.all().delete()
    apps.get_model("dataquality", "MatchThreshold").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("dataquality", "0003_match_rules")]
    operations = [migrations.RunPython(seed, unseed)]
