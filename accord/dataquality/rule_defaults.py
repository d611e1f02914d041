"""The default duplicate rules and thresholds: one source for the seed migration and for the
batch engine when it runs without a database (administrators change the rules in the admin).

Each rule is ``(name, description, conditions)``; see
:class:`~accord.dataquality.models.MatchRule` for what a condition holds.
"""

from __future__ import annotations

from typing import Any

BRANCH: dict[str, Any] = {"field": "branch", "comparison": "exact", "weight": 0}

RuleDefinition = tuple[str, str, list[dict[str, Any]]]

ACCOUNT_RULES: list[RuleDefinition] = [
    (
        "Same tax ID and branch",
        "One tax ID and branch number is one customer.",
        [{"field": "tax_id", "comparison": "tax_id_branch", "weight": 1.0}],
    ),
    (
        "Similar name, same branch",
        "Names alike after removing legal forms, branch wording, case, spaces and "
        "punctuation; the score is the similarity (one changed character scores 0.92).",
        [
            {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.8, "weight": 1.0},
            BRANCH,
        ],
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

CONTACT_RULES: list[RuleDefinition] = [
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

RULES_BY_RECORD_TYPE: dict[str, list[RuleDefinition]] = {
    "account": ACCOUNT_RULES,
    "contact": CONTACT_RULES,
}
DEFAULT_BLOCK = 0.9
DEFAULT_WARN = 0.75
