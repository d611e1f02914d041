"""Writes on leads and opportunities.

Stage changes go through the stage's data-entry template, so an opportunity cannot enter
"Proposal" without the fields that stage needs — from the UI, the API, imports or a job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record_change, audited_delete, snapshot
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.core.services import (
    apply_fields,
    resolve,
    save_or_conflict,
    validate,
)
from accord.core.signals import child_rows_replace
from accord.dataquality.models import RecordType
from accord.dataquality.required import required_fields_check
from accord.integration.models import EventType
from accord.integration.outbox import opportunity_event_emit
from accord.org.models import BusinessUnit, District, User
from accord.sales.models import (
    Lead,
    Opportunity,
    OpportunityLineItem,
    Pipeline,
    Product,
    Stage,
    StageOutcome,
)
from accord.territories import visibility
from accord.territories.selling import require_selling_allowed

LEAD_FIELDS = (
    "company_name",
    "first_name",
    "last_name",
    "job_title",
    "email",
    "phone",
    "source",
    "status",
    "owner",
    "business_unit",
    "district",
    "description",
    "disqualified_reason",
)
OPPORTUNITY_FIELDS = (
    "name",
    "account",
    "contact",
    "business_unit",
    "owner",
    "pipeline",
    "stage",
    "amount",
    "currency",
    "expected_close_date",
    "lost_reason",
    "next_step",
    "description",
)

_MONEY = Decimal("0.01")


def _active_users() -> Any:
    return User.objects.filter(is_active=True)


def _check_owner(actor: User, owner: User | None) -> None:
    if owner is not None and not visibility.may_assign_to(actor, owner):
        raise PermissionDenied(
            "You may assign records only to yourself or to people who report to you.",
            code="owner_not_assignable",
            errors={"owner": ["You may not assign records to this person."]},
        )


# --- leads --------------------------------------------------------------------------------


def lead_search_text(lead: Lead) -> str:
    parts = [lead.company_name, lead.first_name, lead.last_name, lead.email, lead.phone]
    return " ".join(p for p in parts if p).casefold()


def _check_unit(record: Lead | Opportunity, what: str) -> None:
    """A lead or opportunity belongs to its owner's business unit (an owner with no unit —
    an administrator — may hold one of any unit)."""
    owner_unit = record.owner.business_unit_id
    if owner_unit is not None and record.business_unit_id != owner_unit:
        raise ValidationFailed(
            errors={
                "business_unit": [
                    f"A {what} belongs to its owner's business unit ({record.owner.business_unit})."
                ]
            },
            code="business_unit_not_owners",
        )


def _clean_lead_input(data: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(data)
    if isinstance(clean.get("company_name"), str):
        clean["company_name"] = " ".join(clean["company_name"].split())
    if "owner" in clean:
        clean["owner"] = resolve(_active_users(), clean["owner"], field="owner", label="user")
        if clean["owner"] is None:
            raise ValidationFailed(errors={"owner": ["A lead needs an owner."]})
    if "business_unit" in clean:
        clean["business_unit"] = resolve(
            BusinessUnit.objects.all(), clean["business_unit"], field="business_unit", label="unit"
        )
    if "district" in clean:
        clean["district"] = resolve(
            District.objects.all(), clean["district"], field="district", label="district"
        )
    if clean.get("status") == "converted":
        raise ValidationFailed(
            errors={"status": ["A lead becomes converted only by converting it."]}
        )
    return clean


def _lead_save(lead: Lead, *, creating: bool) -> None:
    required_fields_check(RecordType.LEAD, get=lambda f: getattr(lead, f, None))
    if lead.status == "disqualified" and not lead.disqualified_reason.strip():
        raise ValidationFailed(
            errors={"disqualified_reason": ["Say why the lead is disqualified."]}
        )
    lead.search_text = lead_search_text(lead)
    validate(lead, exclude=["converted_account"])
    save_or_conflict(lead, force_insert=creating)


@transaction.atomic
def lead_create(*, actor: User, data: Mapping[str, Any]) -> Lead:
    if not visibility.may_create_selling_records(actor):
        raise PermissionDenied("Your role cannot create leads.", code="read_only")
    clean = _clean_lead_input(data)
    clean.setdefault("owner", actor)
    lead = Lead()
    apply_fields(lead, clean, LEAD_FIELDS)
    if lead.business_unit_id is None:
        lead.business_unit_id = lead.owner.business_unit_id
    _check_owner(actor, lead.owner)
    _check_unit(lead, "lead")
    _lead_save(lead, creating=True)
    audit_record_change(action=AuditAction.CREATE, instance=lead, after=snapshot(lead))
    return lead


@transaction.atomic
def lead_update(*, actor: User, lead: Lead, data: Mapping[str, Any]) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not visibility.may_edit_lead(actor, lead):
        raise PermissionDenied("You may not change this lead.", code="read_only")
    if lead.status == "converted":
        raise ValidationFailed(
            "A converted lead is kept as it was converted.", code="lead_converted"
        )
    clean = _clean_lead_input(data)
    before = snapshot(lead)
    apply_fields(lead, clean, LEAD_FIELDS)
    if "owner" in clean:
        _check_owner(actor, lead.owner)
    if lead.business_unit_id is None:  # left empty: the owner's
        lead.business_unit_id = lead.owner.business_unit_id
    if {"owner", "business_unit"} & clean.keys():
        _check_unit(lead, "lead")
    _lead_save(lead, creating=False)
    audit_record_change(
        action=AuditAction.UPDATE, instance=lead, before=before, after=snapshot(lead)
    )
    return lead


@transaction.atomic
def lead_delete(*, actor: User, lead: Lead) -> None:
    if not visibility.may_edit_lead(actor, lead):
        raise PermissionDenied("You may not delete this lead.", code="read_only")
    audited_delete(lead, what="lead")


# --- opportunities ------------------------------------------------------------------------


def _clean_line_items(lines: Sequence[Mapping[str, Any]]) -> list[OpportunityLineItem]:
    items: list[OpportunityLineItem] = []
    errors: dict[str, list[str]] = {}
    products = Product.objects.filter(is_active=True)
    for index, line in enumerate(lines):
        key = f"line_items.{index}"
        try:
            product = resolve(products, line.get("product"), field=key, label="product")
        except ValidationFailed as exc:
            errors.update(exc.errors)
            continue
        if product is None:
            errors[f"{key}.product"] = ["Choose a product."]
            continue
        quantity = Decimal(str(line.get("quantity", 1)))
        unit_price = line.get("unit_price")
        unit_price = product.list_price if unit_price is None else Decimal(str(unit_price))
        discount = Decimal(str(line.get("discount_percent") or 0))
        if quantity <= 0:
            errors[f"{key}.quantity"] = ["Quantity must be more than zero."]
        if unit_price < 0:
            errors[f"{key}.unit_price"] = ["Price cannot be negative."]
        if not Decimal(0) <= discount <= Decimal(100):
            errors[f"{key}.discount_percent"] = ["Discount is between 0 and 100 percent."]
        total = (quantity * unit_price * (Decimal(100) - discount) / Decimal(100)).quantize(_MONEY)
        items.append(
            OpportunityLineItem(
                product=product,
                quantity=quantity,
                unit_price=unit_price,
                discount_percent=discount,
                total=total,
                position=index,
            )
        )
    if errors:
        raise ValidationFailed(errors=errors)
    return items


def _clean_opportunity_input(actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(data)
    if isinstance(clean.get("name"), str):
        clean["name"] = " ".join(clean["name"].split())
    refs = {
        "account": (visibility.accounts_visible_to(actor), "account"),
        "business_unit": (BusinessUnit.objects.all(), "business unit"),
        "owner": (_active_users(), "user"),
        "pipeline": (Pipeline.objects.all(), "pipeline"),
        "stage": (Stage.objects.select_related("pipeline"), "stage"),
    }
    for key, (qs, label) in refs.items():
        if key in clean:
            clean[key] = resolve(qs, clean[key], field=key, label=label)
            if clean[key] is None:
                raise ValidationFailed(errors={key: ["This field is required."]})
    if clean.get("contact") is not None:
        clean["contact"] = resolve(
            visibility.contacts_visible_to(actor),
            clean["contact"],
            field="contact",
            label="contact",
        )
    return clean


def _opportunity_fix_pipeline(opp: Opportunity, clean: Mapping[str, Any]) -> None:
    """Default the pipeline to the unit's, the stage to its first; check they agree."""
    if opp.pipeline_id is None and opp.business_unit_id is not None:
        pipeline = Pipeline.objects.filter(
            business_unit_id=opp.business_unit_id, is_default=True
        ).first()
        if pipeline is None:
            raise ValidationFailed(
                errors={"pipeline": ["This business unit has no pipeline; choose one."]}
            )
        opp.pipeline = pipeline
    moved_to_other_pipeline = (
        "stage" in clean
        and "pipeline" not in clean
        and opp.pipeline_id is not None
        and opp.stage.pipeline_id != opp.pipeline_id
    )
    if moved_to_other_pipeline:
        opp.pipeline = opp.stage.pipeline
    if opp.stage_id is None and opp.pipeline_id is not None:
        opp.stage = opp.pipeline.stages.order_by("position").first()
    errors: dict[str, list[str]] = {}
    if (
        opp.pipeline_id
        and opp.business_unit_id
        and opp.pipeline.business_unit_id != opp.business_unit_id
    ):
        errors["pipeline"] = ["The pipeline belongs to another business unit."]
    if opp.stage_id and opp.pipeline_id and opp.stage.pipeline_id != opp.pipeline_id:
        errors["stage"] = ["The stage belongs to another pipeline."]
    contact = opp.contact
    if contact is not None and opp.account_id and contact.account_id != opp.account_id:
        errors["contact"] = ["The contact works at another account."]
    if errors:
        raise ValidationFailed(errors=errors)


def _opportunity_save(
    opp: Opportunity, *, creating: bool, line_items: list[OpportunityLineItem] | None
) -> None:
    if line_items is not None and line_items:
        opp.amount = sum((li.total for li in line_items), Decimal(0))
    line_count = (
        len(line_items) if line_items is not None else (0 if creating else opp.line_items.count())
    )

    def get(field: str) -> Any:
        return line_count or None if field == "line_items" else getattr(opp, field, None)

    stage = opp.stage if opp.stage_id is not None else None
    required_fields_check(
        RecordType.OPPORTUNITY, get=get, stage=stage, stage_name=stage.name if stage else None
    )
    if opp.amount is not None and opp.amount < 0:
        raise ValidationFailed(errors={"amount": ["The amount cannot be negative."]})
    closed = opp.stage_id is not None and opp.stage.outcome != StageOutcome.OPEN
    if closed and opp.closed_at is None:
        opp.closed_at = timezone.now()
    elif not closed:
        opp.closed_at = None
    opp.search_text = " ".join(p for p in [opp.name, opp.next_step] if p).casefold()
    validate(opp)
    save_or_conflict(opp, force_insert=creating)
    if line_items is not None:
        with child_rows_replace(OpportunityLineItem, [opp.pk]):
            opp.line_items.all().delete()
            for item in line_items:
                item.opportunity = opp
            OpportunityLineItem.objects.bulk_create(line_items)


def _product_line_ids(opp: Opportunity, line_items: list[OpportunityLineItem] | None) -> set[Any]:
    """The product lines the opportunity sells: of ``line_items`` when given, else saved."""
    if line_items is not None:
        return {li.product.product_line_id for li in line_items}
    if opp.pk is None or opp._state.adding:
        return set()
    return set(opp.line_items.values_list("product__product_line_id", flat=True))


def _check_selling(actor: User, opp: Opportunity, lines: set[Any]) -> None:
    """The cross-selling rules (:mod:`accord.territories.selling`) for the opportunity's
    owner, account, unit and product lines."""
    require_selling_allowed(
        user=opp.owner,
        account=opp.account,
        business_unit=opp.business_unit,
        product_lines=lines,
        actor=actor,
    )


def _line_items_snapshot(opp: Opportunity) -> list[dict[str, str]]:
    return [
        {
            "product": str(li.product_id),
            "quantity": str(li.quantity),
            "unit_price": str(li.unit_price),
            "discount_percent": str(li.discount_percent),
            "total": str(li.total),
        }
        for li in opp.line_items.order_by("position")
    ]


@transaction.atomic
def opportunity_create(*, actor: User, data: Mapping[str, Any]) -> Opportunity:
    if not visibility.may_create_selling_records(actor):
        raise PermissionDenied("Your role cannot create opportunities.", code="read_only")
    clean = _clean_opportunity_input(actor, data)
    clean.setdefault("owner", actor)
    missing = [f for f in ("name", "account") if not clean.get(f)]
    if missing:
        raise ValidationFailed(errors={f: ["This field is required."] for f in missing})
    opp = Opportunity()
    apply_fields(opp, clean, OPPORTUNITY_FIELDS)
    if opp.business_unit_id is None:
        opp.business_unit_id = opp.owner.business_unit_id
        if opp.business_unit_id is None:
            raise ValidationFailed(errors={"business_unit": ["This field is required."]})
    _check_owner(actor, opp.owner)
    _check_unit(opp, "opportunity")
    _opportunity_fix_pipeline(opp, clean)
    lines = _clean_line_items(data["line_items"]) if data.get("line_items") is not None else None
    _check_selling(actor, opp, _product_line_ids(opp, lines))
    _opportunity_save(opp, creating=True, line_items=lines)
    after = snapshot(opp)
    if lines:
        after["line_items"] = _line_items_snapshot(opp)
    audit_record_change(action=AuditAction.CREATE, instance=opp, after=after)
    if opp.stage.outcome == StageOutcome.WON:
        opportunity_event_emit(event_type=EventType.OPPORTUNITY_WON, opportunity=opp)
    return opp


@transaction.atomic
def opportunity_update(
    *, actor: User, opportunity: Opportunity, data: Mapping[str, Any]
) -> Opportunity:
    opp = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if not visibility.may_edit_opportunity(actor, opp):
        raise PermissionDenied("You may not change this opportunity.", code="read_only")
    clean = _clean_opportunity_input(actor, data)
    before = snapshot(opp)
    was_won = opp.stage.outcome == StageOutcome.WON
    lines = None
    sold_before = _product_line_ids(opp, None)
    seller_before = (opp.owner_id, opp.account_id, opp.business_unit_id)
    if data.get("line_items") is not None:
        before["line_items"] = _line_items_snapshot(opp)
        lines = _clean_line_items(data["line_items"])
    apply_fields(opp, clean, OPPORTUNITY_FIELDS)
    if "owner" in clean:
        _check_owner(actor, opp.owner)
    if {"owner", "business_unit"} & clean.keys():
        _check_unit(opp, "opportunity")
    unit_changed_alone = "business_unit" in clean and not {"pipeline", "stage"} & clean.keys()
    if unit_changed_alone and opp.pipeline.business_unit_id != opp.business_unit_id:
        # Moving to another unit without naming a stage: start in that unit's pipeline.
        opp.pipeline_id = None  # type: ignore[assignment]
        opp.stage_id = None  # type: ignore[assignment]
    _opportunity_fix_pipeline(opp, clean)
    sold = _product_line_ids(opp, lines) if lines is not None else sold_before
    if (
        (opp.owner_id, opp.account_id, opp.business_unit_id) != seller_before
        or not sold <= sold_before
        or (opp.stage.outcome == StageOutcome.WON and not was_won)  # logging a sale
    ):
        _check_selling(actor, opp, sold)
    _opportunity_save(opp, creating=False, line_items=lines)
    after = snapshot(opp)
    if lines is not None:
        after["line_items"] = _line_items_snapshot(opp)
    audit_record_change(action=AuditAction.UPDATE, instance=opp, before=before, after=after)
    is_won = opp.stage.outcome == StageOutcome.WON
    if is_won != was_won:
        # The ledger invoices won opportunities; a re-opened one must be withdrawn there.
        event = EventType.OPPORTUNITY_WON if is_won else EventType.OPPORTUNITY_REOPENED
        opportunity_event_emit(event_type=event, opportunity=opp)
    return opp


@transaction.atomic
def opportunity_move_stage(*, actor: User, opportunity: Opportunity, stage: Stage) -> Opportunity:
    """Move to ``stage`` (the pipeline board's drag and drop)."""
    return opportunity_update(actor=actor, opportunity=opportunity, data={"stage": stage.pk})


@transaction.atomic
def opportunity_delete(*, actor: User, opportunity: Opportunity) -> None:
    if not visibility.may_edit_opportunity(actor, opportunity):
        raise PermissionDenied("You may not delete this opportunity.", code="read_only")
    audited_delete(
        opportunity,
        what="opportunity",
        extra_before={"line_items": _line_items_snapshot(opportunity)},
    )
