"""The declarative access table the generated access matrix checks (``test_access_matrix``).

Every API operation (``METHOD /api/v1/...`` as the OpenAPI schema names it) and every web
route that takes an id (``accord/web/urls.py`` patterns with a converter) has a row naming
an access *rule*; every rule says, per actor, what answer is expected:

* ``OK`` — allowed: a 2xx answer (or a redirect that is not to the sign-in page); a 409
  counts too, since a conflict is only reported once the access checks have passed;
* ``DENIED`` — the actor sees the record but may not do this: ``403`` problem+json from the
  API; on the web ``403``, or ``422`` when a form is shown again with the refusal on it;
* ``HIDDEN`` — the actor may not see the record: ``404`` (never a 403: ids cannot be probed);
* ``UNKNOWN_REF`` — a create that names a record the actor may not see: ``422`` with the
  field error "Unknown account" (the same answer as for an id that does not exist);
* ``INVALID`` — ``422`` with another field error: the request cannot apply to this actor
  (e.g. claiming an account in "your" business unit when you belong to none);
* ``ANONYMOUS`` — no valid authentication: ``401`` from the API, a redirect to the sign-in
  page on the web (a deactivated user cannot authenticate at all).

A new endpoint without a row fails the matrix: add the row here (and, if it takes a new
kind of id, a target in ``test_access_matrix.PARAM_TARGETS``).

The world (see ``test_access_matrix.World``): unit A has districts north and south of one
region; ``owner`` owns the account in unit A (``AccountOwner``) and owns the opportunity,
the lead and the account request and performed the activity; ``teammate`` is in the same
unit, district, team and under the same manager; ``other_district`` is a unit A rep in
south; ``other_unit`` is a unit B rep in north; ``manager`` manages the unit A reps;
``other_unit_manager`` manages ``other_unit``; ``regional`` is the region's regional
manager (outside the unit's reporting line, so only the territory gives them access).
The teammate claims the account (an open dispute) and asks to sell to it (a pending
selling exception); a pre-sales engineer (no actor) is on the account's team.

Expected values follow the sharing model the issue describes. Where the code disagrees the
cell fails until the code is fixed (see the lead's report); where the code made a
documented choice the issue does not cover (contacts editable by the reps of a unit with
no owner; the audit search for administrators and executives) the table follows the code.
"""

from __future__ import annotations

from typing import Final

OK: Final = "ok"
DENIED: Final = "denied"
HIDDEN: Final = "hidden"
UNKNOWN_REF: Final = "unknown_ref"
INVALID: Final = "invalid"
ANONYMOUS: Final = "anonymous"

ACTORS: Final = (
    "owner",
    "teammate",
    "other_district",
    "other_unit",
    "manager",
    "other_unit_manager",
    "regional",
    "steward",
    "executive",
    "admin",
    "deactivated",
)

ACTIVE = frozenset(ACTORS) - {"deactivated"}

# Who sees the account (and its contacts): its owner and their manager (ownership through
# the hierarchy); the people covering its district north — the teammate, the other unit's
# rep (territory is not per unit) and through them their manager, the regional manager;
# everyone who sees every record.
SEE_ACCOUNT = frozenset(
    {
        "owner",
        "teammate",
        "other_unit",
        "manager",
        "other_unit_manager",
        "regional",
        "steward",
        "executive",
        "admin",
    }
)
EDIT_ACCOUNT = frozenset({"owner", "manager", "steward", "admin"})
# Contacts: who may change the account, whoever sells to it, and the reps covering its
# district while nobody of their unit owns it (here: the other unit's rep and manager).
EDIT_CONTACTS = EDIT_ACCOUNT | {"other_unit", "other_unit_manager"}
# Leads, opportunities and activities are private to their owner and the owner's managers.
SEE_PRIVATE = frozenset({"owner", "manager", "steward", "executive", "admin"})
EDIT_PRIVATE = frozenset({"owner", "manager", "steward", "admin"})
# An account request: the requester, their managers and everyone who sees every record.
SEE_REQUEST = frozenset({"owner", "manager", "steward", "executive", "admin"})
STEWARDS = frozenset({"steward", "admin"})
FORECAST_READERS = frozenset({"owner", "manager", "regional", "steward", "executive", "admin"})
# Who may claim an account or ask to sell to it: sellers in a unit who see it.
CLAIMERS = frozenset({"owner", "teammate", "other_unit", "manager", "other_unit_manager"})
NO_UNIT = frozenset({"regional", "steward", "admin"})
SEE_DISPUTE = FORECAST_READERS | {"teammate"}
SEE_EXCEPTION = frozenset({"teammate", "manager", "steward", "executive", "admin"})
WRITERS = ACTIVE - {"executive"}


def rule(
    *,
    ok: frozenset[str],
    visible: frozenset[str] = ACTIVE,
    hidden_as: str = HIDDEN,
) -> dict[str, str]:
    """``ok`` are allowed; the rest of ``visible`` are denied (403); the other active actors
    get ``hidden_as`` (404); a deactivated user is anonymous."""
    assert ok <= visible <= ACTIVE, (ok, visible)
    expected = {actor: OK if actor in ok else DENIED for actor in visible}
    expected |= {actor: hidden_as for actor in ACTIVE - visible}
    expected["deactivated"] = ANONYMOUS
    return expected


RULES: Final[dict[str, dict[str, str]]] = {
    # Anyone signed in (lists are narrowed to what they may see, never refused).
    "authenticated": rule(ok=ACTIVE),
    # The caller's own things (a token, a notification): nobody else's, not even an admin.
    "self_only": rule(ok=frozenset({"owner"}), visible=frozenset({"owner"})),
    "account.read": rule(ok=SEE_ACCOUNT, visible=SEE_ACCOUNT),
    "account.write": rule(ok=EDIT_ACCOUNT, visible=SEE_ACCOUNT),
    # Accounts are created and deleted by the CRM team only.
    "account.create": rule(ok=STEWARDS),
    "account.delete": rule(ok=STEWARDS, visible=SEE_ACCOUNT),
    # Logging a visit or call on an account one sees (performed by oneself).
    "account.log_activity": rule(
        ok=SEE_ACCOUNT - {"executive"}, visible=SEE_ACCOUNT, hidden_as=UNKNOWN_REF
    ),
    "contact.read": rule(ok=SEE_ACCOUNT, visible=SEE_ACCOUNT),
    "contact.write": rule(ok=EDIT_CONTACTS, visible=SEE_ACCOUNT),
    "contact.create": rule(ok=EDIT_CONTACTS, visible=SEE_ACCOUNT, hidden_as=UNKNOWN_REF),
    # Creating an opportunity for the account's owner on the account: who may see the
    # account and assign the owner's work (the owner, their manager, the CRM team and
    # administrators, who distribute work to reps).
    "opportunity.create_for_owner": rule(
        ok=frozenset({"owner", "manager", "steward", "admin"}),
        visible=SEE_ACCOUNT,
        hidden_as=UNKNOWN_REF,
    ),
    # Leads, opportunities and activities the owner owns.
    "private.read": rule(ok=SEE_PRIVATE, visible=SEE_PRIVATE),
    "private.write": rule(ok=EDIT_PRIVATE, visible=SEE_PRIVATE),
    # Anyone who may sell creates their own leads.
    "selling.create": rule(ok=WRITERS),
    "request.create": rule(ok=WRITERS),
    "request.read": rule(ok=SEE_REQUEST, visible=SEE_REQUEST),
    # Only the requester changes or withdraws a pending request.
    "request.requester": rule(ok=frozenset({"owner"}), visible=SEE_REQUEST),
    # Stewards decide requests.
    "request.review": rule(ok=STEWARDS, visible=SEE_REQUEST),
    # The duplicate queue, merges and unmerges.
    "steward_only": rule(ok=STEWARDS),
    # The integration console (connectors, dead letters, replay).
    "admin_only": rule(ok=frozenset({"admin"})),
    # Pushing ledger data: integration users and administrators.
    "integration_writer": rule(ok=frozenset({"admin"})),
    # The audit trail search: administrators and executives.
    "audit.search": rule(ok=frozenset({"executive", "admin"})),
    # The organisation's forecast (company node): every record's readers.
    "forecast.org": rule(
        ok=frozenset({"steward", "executive", "admin"}),
        visible=frozenset({"steward", "executive", "admin"}),
    ),
    # A person's forecast (the owner's): themselves, their managers, the regional manager of
    # a district they cover, everyone who sees every record.
    "forecast.person": rule(ok=FORECAST_READERS, visible=FORECAST_READERS),
    # Adjusting the owner's roll-up: their managers up the chain.
    "forecast.adjust": rule(ok=frozenset({"manager"}), visible=FORECAST_READERS),
    # The owner's quota: seen by whoever sees the owner's forecast; set by administrators
    # and the owner's managers.
    "quota.read": rule(ok=FORECAST_READERS, visible=FORECAST_READERS),
    "quota.write": rule(ok=frozenset({"manager", "admin"}), visible=FORECAST_READERS),
    # A quota for the teammate: refused (404) to whoever may not see the teammate's forecast.
    "quota.create": rule(
        ok=frozenset({"manager", "admin"}),
        visible=frozenset({"teammate", "manager", "regional", "steward", "executive", "admin"}),
    ),
    # Handing a leaver's (the owner's) work over: administrators and the leaver's managers.
    "handover": rule(ok=frozenset({"manager", "admin"})),
    # Setting the account's owner in unit A: the CRM team and unit A's sales manager.
    "owner.set": rule(ok=frozenset({"manager", "steward", "admin"}), visible=SEE_ACCOUNT),
    # Claiming the account (a dispute): who sells in a unit and sees it (claiming one's own
    # account, or twice, is a 409 conflict: past the access checks); people in no unit
    # have none to claim in (422).
    "dispute.claim": rule(ok=CLAIMERS, visible=SEE_ACCOUNT) | dict.fromkeys(NO_UNIT, INVALID),
    # The teammate's claim on the owner's account: the parties, the deciding manager, the
    # region's manager and everyone who sees every record.
    "dispute.read": rule(ok=SEE_DISPUTE, visible=SEE_DISPUTE),
    "dispute.answer": rule(ok=frozenset({"owner"}), visible=SEE_DISPUTE),
    "dispute.decide": rule(ok=frozenset({"manager", "admin"}), visible=SEE_DISPUTE),
    "dispute.withdraw": rule(ok=frozenset({"teammate"}), visible=SEE_DISPUTE),
    # Asking for a selling exception on the account: the sellers who see it (a 409 when none
    # is needed); the regional manager has no unit to sell for (422).
    "exception.request": rule(ok=CLAIMERS, visible=SEE_ACCOUNT) | {"regional": INVALID},
    # The teammate's exception request: the requester, the approver (the owner's manager),
    # everyone who sees every record.
    "exception.read": rule(ok=SEE_EXCEPTION, visible=SEE_EXCEPTION),
    "exception.decide": rule(ok=frozenset({"manager", "admin"}), visible=SEE_EXCEPTION),
    "exception.withdraw": rule(ok=frozenset({"teammate"}), visible=SEE_EXCEPTION),
}


# --- the API --------------------------------------------------------------------------------

API: Final[dict[str, str]] = {
    "GET /api/v1/me": "authenticated",
    "GET /api/v1/me/tokens": "authenticated",
    "POST /api/v1/me/tokens": "authenticated",
    "DELETE /api/v1/me/tokens/{token_id}": "self_only",
    "GET /api/v1/org/business-units": "authenticated",
    "GET /api/v1/org/product-lines": "authenticated",
    "GET /api/v1/org/regions": "authenticated",
    "GET /api/v1/org/districts": "authenticated",
    "GET /api/v1/org/teams": "authenticated",
    "GET /api/v1/org/users": "authenticated",
    "POST /api/v1/org/users/{user_id}/handover/preview": "handover",
    "POST /api/v1/org/users/{user_id}/handover": "handover",
    "GET /api/v1/accounts": "authenticated",
    "POST /api/v1/accounts": "account.create",
    "POST /api/v1/accounts/matches": "authenticated",
    "GET /api/v1/accounts/{account_id}": "account.read",
    "PATCH /api/v1/accounts/{account_id}": "account.write",
    "DELETE /api/v1/accounts/{account_id}": "account.delete",
    "GET /api/v1/accounts/{record_id}/timeline": "account.read",
    "GET /api/v1/accounts/{record_id}/audit": "account.read",
    "GET /api/v1/contacts": "authenticated",
    "POST /api/v1/contacts": "contact.create",
    "POST /api/v1/contacts/matches": "authenticated",
    "GET /api/v1/contacts/{contact_id}": "contact.read",
    "PATCH /api/v1/contacts/{contact_id}": "contact.write",
    "DELETE /api/v1/contacts/{contact_id}": "contact.write",
    "GET /api/v1/contacts/{record_id}/timeline": "contact.read",
    "GET /api/v1/contacts/{record_id}/audit": "contact.read",
    "POST /api/v1/account-requests": "request.create",
    "GET /api/v1/account-requests": "authenticated",
    "GET /api/v1/account-requests/{request_id}": "request.read",
    "PATCH /api/v1/account-requests/{request_id}": "request.requester",
    "POST /api/v1/account-requests/{request_id}/approve": "request.review",
    "POST /api/v1/account-requests/{request_id}/reject": "request.review",
    "POST /api/v1/account-requests/{request_id}/resolve": "request.review",
    "POST /api/v1/account-requests/{request_id}/withdraw": "request.requester",
    "GET /api/v1/duplicates/clusters": "steward_only",
    "POST /api/v1/duplicates/clusters": "steward_only",
    "GET /api/v1/duplicates/clusters/{cluster_id}": "steward_only",
    "POST /api/v1/duplicates/clusters/{cluster_id}/dismiss": "steward_only",
    "POST /api/v1/duplicates/clusters/{cluster_id}/merge": "steward_only",
    "GET /api/v1/duplicates/merges": "steward_only",
    "POST /api/v1/duplicates/merges": "steward_only",
    "GET /api/v1/duplicates/merges/{merge_id}": "steward_only",
    "POST /api/v1/duplicates/merges/{merge_id}/unmerge": "steward_only",
    "GET /api/v1/me/notifications": "authenticated",
    "POST /api/v1/me/notifications/read": "authenticated",
    "GET /api/v1/leads": "authenticated",
    "POST /api/v1/leads": "selling.create",
    "GET /api/v1/leads/{lead_id}": "private.read",
    "PATCH /api/v1/leads/{lead_id}": "private.write",
    "DELETE /api/v1/leads/{lead_id}": "private.write",
    "GET /api/v1/leads/{record_id}/timeline": "private.read",
    "GET /api/v1/leads/{record_id}/audit": "private.read",
    "POST /api/v1/leads/{lead_id}/convert": "private.write",
    "GET /api/v1/opportunities": "authenticated",
    "POST /api/v1/opportunities": "opportunity.create_for_owner",
    "GET /api/v1/opportunities/{opportunity_id}": "private.read",
    "PATCH /api/v1/opportunities/{opportunity_id}": "private.write",
    "DELETE /api/v1/opportunities/{opportunity_id}": "private.write",
    "GET /api/v1/opportunities/{record_id}/timeline": "private.read",
    "GET /api/v1/opportunities/{record_id}/audit": "private.read",
    "GET /api/v1/pipelines": "authenticated",
    "GET /api/v1/products": "authenticated",
    "GET /api/v1/activities": "authenticated",
    "POST /api/v1/activities": "account.log_activity",
    "GET /api/v1/activities/{activity_id}": "private.read",
    "PATCH /api/v1/activities/{activity_id}": "private.write",
    "DELETE /api/v1/activities/{activity_id}": "private.write",
    "GET /api/v1/audit/events": "audit.search",
    "GET /api/v1/integration/sync-status/accounts/{account_id}": "account.read",
    "GET /api/v1/integration/sync-status/opportunities/{opportunity_id}": "private.read",
    "GET /api/v1/integration/connectors": "admin_only",
    "POST /api/v1/integration/connectors/{connector_id}/pause": "admin_only",
    "POST /api/v1/integration/connectors/{connector_id}/resume": "admin_only",
    "GET /api/v1/integration/dead": "admin_only",
    "POST /api/v1/integration/deliveries/{delivery_id}/replay": "admin_only",
    "POST /api/v1/integration/invoices": "integration_writer",
    "GET /api/v1/integration/accounts/{account_id}/invoices": "account.read",
    "GET /api/v1/forecasts": "forecast.org",
    "GET /api/v1/forecasts/trend": "forecast.org",
    "GET /api/v1/forecasts/users/{user_id}": "forecast.person",
    "GET /api/v1/forecasts/users/{user_id}/trend": "forecast.person",
    "POST /api/v1/forecasts/users/{user_id}/adjustments": "forecast.adjust",
    "GET /api/v1/quotas": "authenticated",
    "POST /api/v1/quotas": "quota.create",
    "GET /api/v1/quotas/{quota_id}": "quota.read",
    "PATCH /api/v1/quotas/{quota_id}": "quota.write",
    "DELETE /api/v1/quotas/{quota_id}": "quota.write",
    "GET /api/v1/reports": "authenticated",
    "GET /api/v1/reports/{name}": "authenticated",
    # Dashboards: "mine" is anyone's (figures narrowed to what they may see).
    "GET /api/v1/dashboards": "authenticated",
    "GET /api/v1/dashboards/{kind}": "authenticated",
    "GET /api/v1/accounts/{account_id}/owners": "account.read",
    "PUT /api/v1/accounts/{account_id}/owners": "owner.set",
    "GET /api/v1/accounts/{account_id}/team": "account.read",
    "POST /api/v1/accounts/{account_id}/team": "account.write",
    "PATCH /api/v1/accounts/{account_id}/team/{member_id}": "account.write",
    "DELETE /api/v1/accounts/{account_id}/team/{member_id}": "account.write",
    "GET /api/v1/territories/assignment-rules": "admin_only",
    "POST /api/v1/territories/assignment-rules": "admin_only",
    "POST /api/v1/territories/assignment-rules/preview": "admin_only",
    "POST /api/v1/territories/assignment-rules/apply": "admin_only",
    "GET /api/v1/territories/assignment-rules/{rule_id}": "admin_only",
    "PATCH /api/v1/territories/assignment-rules/{rule_id}": "admin_only",
    "DELETE /api/v1/territories/assignment-rules/{rule_id}": "admin_only",
    "POST /api/v1/territories/assignment-rules/{rule_id}/move": "admin_only",
    "GET /api/v1/disputes": "authenticated",
    "POST /api/v1/disputes": "dispute.claim",
    "GET /api/v1/disputes/{dispute_id}": "dispute.read",
    "POST /api/v1/disputes/{dispute_id}/answer": "dispute.answer",
    "POST /api/v1/disputes/{dispute_id}/decide": "dispute.decide",
    "POST /api/v1/disputes/{dispute_id}/withdraw": "dispute.withdraw",
    "GET /api/v1/selling/check": "account.read",
    "GET /api/v1/selling/exceptions": "authenticated",
    "POST /api/v1/selling/exceptions": "exception.request",
    "GET /api/v1/selling/exceptions/{exception_id}": "exception.read",
    "POST /api/v1/selling/exceptions/{exception_id}/decide": "exception.decide",
    "POST /api/v1/selling/exceptions/{exception_id}/withdraw": "exception.withdraw",
}


# --- the web: routes that take an id, per method ---------------------------------------------

WEB: Final[dict[str, dict[str, str]]] = {
    # The console and the team pages are not shown to others at all (404).
    "integration/deliveries/<int:pk>/replay/": {"POST": "admin_page"},
    "integration/connectors/<uuid:pk>/pause/": {"POST": "admin_page"},
    "team/<uuid:pk>/handover/": {"GET": "handover_page", "POST": "handover_page"},
    "leads/<uuid:pk>/convert/": {"GET": "private.read", "POST": "private.write"},
    "accounts/<uuid:pk>/": {"GET": "account.read"},
    # Forms are shown to whoever sees the record; the save is refused (403/422) if they
    # may not change it.
    "accounts/<uuid:pk>/edit/": {"GET": "account.read", "POST": "account.write"},
    "accounts/<uuid:pk>/log/": {"POST": "account.log_activity_web"},
    "accounts/<uuid:pk>/contacts/new/": {"GET": "account.read", "POST": "contact.create_web"},
    "accounts/<uuid:pk>/opportunities/new/": {"GET": "account.read", "POST": "account.sell_web"},
    "leads/<uuid:pk>/edit/": {"GET": "private.read", "POST": "private.write"},
    "leads/<uuid:pk>/activities/new/": {"GET": "private.read", "POST": "private.log_activity"},
    "accounts/<uuid:pk>/activities/new/": {
        "GET": "account.read",
        "POST": "account.log_activity_web",
    },
    "activities/<uuid:pk>/edit/": {"GET": "private.read", "POST": "private.write"},
    "forecasts/<uuid:pk>/adjust/": {"POST": "forecast.adjust"},
    "reports/<slug:name>/": {"GET": "authenticated"},
    "dashboards/<slug:kind>/": {"GET": "authenticated"},
    "reports/<slug:name>/export.<str:fmt>": {"GET": "authenticated"},
    "opportunities/<uuid:pk>/move/": {"POST": "private.write"},
    "contacts/<uuid:pk>/edit/": {"GET": "contact.read", "POST": "contact.write"},
    "opportunities/<uuid:pk>/edit/": {"GET": "private.read", "POST": "private.write"},
    "requests/<uuid:pk>/": {"GET": "request.read"},
    "requests/<uuid:pk>/edit/": {"GET": "request.requester", "POST": "request.requester"},
    "requests/<uuid:pk>/withdraw/": {"POST": "request.requester"},
    "requests/<uuid:pk>/approve/": {"POST": "request.review"},
    "requests/<uuid:pk>/reject/": {"POST": "request.review"},
    "requests/<uuid:pk>/resolve/": {"POST": "request.review"},
    "notifications/<uuid:pk>/open/": {"POST": "self_only"},
    "stewardship/duplicates/<uuid:pk>/": {"GET": "steward_only"},
    "stewardship/duplicates/<uuid:pk>/merge/": {"POST": "steward_only"},
    "stewardship/duplicates/<uuid:pk>/dismiss/": {"POST": "steward_only"},
    "stewardship/merges/<uuid:pk>/unmerge/": {"POST": "steward_only"},
    "accounts/<uuid:pk>/owners/": {"GET": "account.read", "POST": "account.write"},
    "territories/assignment-rules/<uuid:pk>/edit/": {"GET": "admin_page", "POST": "admin_page"},
    "territories/assignment-rules/<uuid:pk>/move/": {"POST": "admin_page"},
    "territories/assignment-rules/<uuid:pk>/delete/": {"POST": "admin_page"},
    # Nobody in the world needs a new exception (the teammate's is pending; the others may
    # sell there or do not sell): every request is refused on the form.
    "accounts/<uuid:pk>/selling-exception/": {
        "GET": "account.read",
        "POST": "exception.request_web",
    },
    "selling/exceptions/<uuid:pk>/": {"GET": "exception.read"},
    "selling/exceptions/<uuid:pk>/decide/": {"POST": "exception.decide"},
    "selling/exceptions/<uuid:pk>/withdraw/": {"POST": "exception.withdraw"},
    "disputes/<uuid:pk>/": {"GET": "dispute.read"},
    "disputes/<uuid:pk>/answer/": {"POST": "dispute.answer"},
    "disputes/<uuid:pk>/decide/": {"POST": "dispute.decide"},
    "disputes/<uuid:pk>/withdraw/": {"POST": "dispute.withdraw"},
    "accounts/<uuid:pk>/claim/": {"GET": "dispute.claim_page", "POST": "dispute.claim_web"},
}

# Web-only rules (merged into RULES below): on a page the account is reached by its id in
# the URL, so an account the actor may not see is a 404 (the API reports an unknown id in
# the body instead).
WEB_RULES: Final[dict[str, dict[str, str]]] = {
    "account.log_activity_web": rule(ok=SEE_ACCOUNT - {"executive"}, visible=SEE_ACCOUNT),
    "private.log_activity": rule(ok=SEE_PRIVATE - {"executive"}, visible=SEE_PRIVATE),
    # A new opportunity (in unit A's pipeline) on the account, owned by its creator: the
    # selling policy lets only the unit's owner (and their managers) and the all-writing
    # roles sell there; the other reps covering the district are refused.
    "account.sell_web": rule(ok=EDIT_PRIVATE, visible=SEE_ACCOUNT),
    "contact.create_web": rule(ok=EDIT_CONTACTS, visible=SEE_ACCOUNT),
    "exception.request_web": rule(ok=frozenset(), visible=SEE_ACCOUNT),
    # The claim form: shown to the sellers in a unit; claiming one's own account or claiming
    # twice is refused on the form (422), like the people with no unit to claim in.
    "dispute.claim_page": rule(ok=CLAIMERS, visible=SEE_ACCOUNT),
    "dispute.claim_web": rule(
        ok=frozenset({"other_unit", "manager", "other_unit_manager"}), visible=SEE_ACCOUNT
    ),
    "admin_page": rule(ok=frozenset({"admin"}), visible=frozenset({"admin"})),
    "handover_page": rule(
        ok=frozenset({"manager", "admin"}), visible=frozenset({"manager", "admin"})
    ),
}

RULES.update(WEB_RULES)
