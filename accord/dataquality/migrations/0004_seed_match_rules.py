"""Default duplicate rules and thresholds (administrators change them in the admin)."""

from __future__ import annotations

from django.db import migrations

BRANCH = {"field": "branch", "comparison": "exact", "weight": 0}

ACCOUNT_RULES = [
    (
        "Same tax ID and branch",
        "One tax ID and branch number is one customer.",
        [{"field": "tax_id", "comparison": "tax_id_branch", "weight": 1.0}],
    ),
    (
        "Similar name, same branch",
        "Names alike after removing legal forms, branch wording, case, spaces and "
        "punctuation; the score is the similarity (one changed character scores 0.92).",
        [{"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.8, "weight": 1.0}, BRANCH],
    ),
    (
        "Similar name and same phone",
        "",
        [
            {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.6, "weight": 0.6},
            {"field": "phone", "comparison": "phone", "weight": 0.4},
            BRANCH,
        ],
    ),
    (
        "Similar name and same website",
        "",
        [
            {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.6, "weight": 0.6},
            {"field": "website", "comparison": "website_domain", "weight": 0.4},
            BRANCH,
        ],
    ),
    (
        "Similar name and same email domain",
        "",
        [
            {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.6, "weight": 0.6},
            {"field": "email", "comparison": "email_domain", "weight": 0.4},
            BRANCH,
        ],
    ),
    (
        "Same phone",
        "Sister companies may share a switchboard: a warning only.",
        [{"field": "phone", "comparison": "phone", "weight": 0.8}, BRANCH],
    ),
    (
        "Same website",
        "A group's companies may share a website: a warning only.",
        [{"field": "website", "comparison": "website_domain", "weight": 0.8}, BRANCH],
    ),
    (
        "Same email domain",
        "Free-mail domains (gmail.com, hotmail.com, …) never match.",
        [{"field": "email", "comparison": "email_domain", "weight": 0.75}, BRANCH],
    ),
]

CONTACT_RULES = [
    (
        "Same email address",
        "",
        [{"field": "email", "comparison": "email", "weight": 1.0}],
    ),
    (
        "Similar name at the same account",
        "",
        [
            {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.8, "weight": 1.0},
            {"field": "account", "comparison": "exact", "weight": 0},
        ],
    ),
    (
        "Same phone and similar name",
        "",
        [
            {"field": "phone", "comparison": "phone", "weight": 0.5},
            {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.9, "weight": 0.5},
        ],
    ),
    (
        "Same name at another account",
        "The person may have moved, or been entered under a shadow account: a warning only.",
        [{"field": "name", "comparison": "exact", "weight": 0.75}],
    ),
]


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
            record_type=record_type, defaults={"block": 0.9, "warn": 0.75}
        )


def unseed(apps, schema_editor):
    apps.get_model("dataquality", "MatchRule").objects.all().delete()
    apps.get_model("dataquality", "MatchThreshold").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("dataquality", "0003_match_rules")]
    operations = [migrations.RunPython(seed, unseed)]
