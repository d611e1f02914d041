"""Writes on activities: visits, calls, meetings, emails, tasks and notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from accord.activities.models import Activity, ActivityKind
from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, audited_delete, snapshot
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.core.services import (
    apply_fields,
    resolve,
    save_or_conflict,
    validate,
)
from accord.dataquality.models import RecordType
from accord.dataquality.required import required_fields_check
from accord.org.models import User
from accord.territories import visibility

ACTIVITY_FIELDS = (
    "kind",
    "subject",
    "body",
    "start_at",
    "end_at",
    "due_date",
    "is_done",
    "outcome",
    "latitude",
    "longitude",
    "location",
    "performed_by",
    "account",
    "contact",
    "lead",
    "opportunity",
)


def _clean_activity_input(actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(data)
    refs = {
        "performed_by": (User.objects.filter(is_active=True), "user"),
        "account": (visibility.accounts_visible_to(actor), "account"),
        "contact": (visibility.contacts_visible_to(actor), "contact"),
        "lead": (visibility.leads_visible_to(actor), "lead"),
        "opportunity": (visibility.opportunities_visible_to(actor), "opportunity"),
    }
    for key, (qs, label) in refs.items():
        if key in clean:
            clean[key] = resolve(qs, clean[key], field=key, label=label)
    if "performed_by" in clean and clean["performed_by"] is None:
        raise ValidationFailed(errors={"performed_by": ["Say who performed the activity."]})
    return clean


def _link_and_check(activity: Activity) -> None:
    """Fill the account from the contact or opportunity; links must agree."""
    errors: dict[str, list[str]] = {}
    contact, opportunity = activity.contact, activity.opportunity
    if activity.account_id is None:
        if opportunity is not None:
            activity.account_id = opportunity.account_id
        elif contact is not None:
            activity.account_id = contact.account_id
    if contact is not None and contact.account_id != activity.account_id:
        errors["contact"] = ["The contact works at another account."]
    if opportunity is not None and opportunity.account_id != activity.account_id:
        errors["opportunity"] = ["The opportunity belongs to another account."]
    if not (activity.account_id or activity.lead_id):
        errors["account"] = ["Link the activity to an account, contact, lead or opportunity."]
    if activity.start_at and activity.end_at and activity.end_at < activity.start_at:
        errors["end_at"] = ["The end is before the start."]
    if (activity.latitude is None) != (activity.longitude is None):
        errors["latitude"] = ["Give both latitude and longitude, or neither."]
    if activity.kind == ActivityKind.TASK and activity.due_date is None and not activity.start_at:
        errors["due_date"] = ["A task needs a due date."]
    if errors:
        raise ValidationFailed(errors=errors)


def _occurred_at(activity: Activity) -> dt.datetime:
    if activity.start_at is not None:
        return activity.start_at
    if activity.due_date is not None:
        tz = timezone.get_default_timezone()
        return dt.datetime.combine(activity.due_date, dt.time(9, 0), tzinfo=tz)
    return activity.occurred_at or timezone.now()


def _activity_save(activity: Activity, *, creating: bool) -> None:
    required_fields_check(RecordType.ACTIVITY, get=lambda f: getattr(activity, f, None))
    _link_and_check(activity)
    if activity.is_done and activity.done_at is None:
        activity.done_at = timezone.now()
    elif not activity.is_done:
        activity.done_at = None
    activity.occurred_at = _occurred_at(activity)
    validate(activity)
    save_or_conflict(activity, force_insert=creating)


@transaction.atomic
def activity_create(*, actor: User, data: Mapping[str, Any]) -> Activity:
    if not visibility.may_create_selling_records(actor):
        raise PermissionDenied("Your role cannot log activities.", code="read_only")
    clean = _clean_activity_input(actor, data)
    if not clean.get("performed_by"):
        clean["performed_by"] = actor
    activity = Activity()
    apply_fields(activity, clean, ACTIVITY_FIELDS)
    if not visibility.may_assign_to(actor, activity.performed_by):
        raise PermissionDenied(
            "You may log activities only for yourself or people who report to you.",
            code="owner_not_assignable",
            errors={"performed_by": ["You may not log activities for this person."]},
        )
    _activity_save(activity, creating=True)
    audit_record_change(action=AuditAction.CREATE, instance=activity, after=snapshot(activity))
    return activity


@transaction.atomic
def activity_update(*, actor: User, activity: Activity, data: Mapping[str, Any]) -> Activity:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if not visibility.may_edit_activity(actor, activity):
        raise PermissionDenied("You may not change this activity.", code="read_only")
    clean = _clean_activity_input(actor, data)
    before = snapshot(activity)
    apply_fields(activity, clean, ACTIVITY_FIELDS)
    if "performed_by" in clean and not visibility.may_assign_to(actor, activity.performed_by):
        raise PermissionDenied(
            "You may assign activities only to yourself or people who report to you.",
            code="owner_not_assignable",
            errors={"performed_by": ["You may not assign this activity to this person."]},
        )
    _activity_save(activity, creating=False)
    audit_record_change(
        action=AuditAction.UPDATE, instance=activity, before=before, after=snapshot(activity)
    )
    return activity


@transaction.atomic
def activity_delete(*, actor: User, activity: Activity) -> None:
    if not visibility.may_edit_activity(actor, activity):
        raise PermissionDenied("You may not delete this activity.", code="read_only")
    audited_delete(activity, what="activity")
