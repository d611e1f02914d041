from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from accord.core.api_support import ApiDate, InputSchema, QuerySchema, read_only
from accord.customers.schemas import AccountPatch, ContactPatch
from accord.sales.models import (
    ForecastCategory,
    Lead,
    LeadSource,
    LeadStatus,
    Opportunity,
    OpportunityLineItem,
    Pipeline,
    Product,
    Stage,
    StageOutcome,
)
from accord.sales.selectors import LeadOrdering, OpportunityOrdering
from accord.territories.visibility import ListScope

WritableStatus = Literal["new", "working", "qualified", "disqualified"]
Money = Field(default=None, ge=0, max_digits=16, decimal_places=2)
Currency = Field(default=None, pattern=r"^[A-Z]{3}$")


class LeadOut(Schema):
    id: uuid.UUID = read_only()
    company_name: str
    first_name: str
    last_name: str
    job_title: str
    email: str
    phone: str
    source: LeadSource
    status: LeadStatus
    owner: uuid.UUID
    business_unit: uuid.UUID | None
    district: uuid.UUID | None
    description: str
    disqualified_reason: str
    converted_account: uuid.UUID | None = read_only()
    created_at: dt.datetime = read_only()
    updated_at: dt.datetime = read_only()

    @staticmethod
    def resolve_owner(obj: Lead) -> uuid.UUID:
        return obj.owner_id

    @staticmethod
    def resolve_business_unit(obj: Lead) -> uuid.UUID | None:
        return obj.business_unit_id

    @staticmethod
    def resolve_district(obj: Lead) -> uuid.UUID | None:
        return obj.district_id

    @staticmethod
    def resolve_converted_account(obj: Lead) -> uuid.UUID | None:
        return obj.converted_account_id


class LeadPatch(InputSchema):
    company_name: str | None = Field(default=None, min_length=1, max_length=255)
    first_name: str | None = Field(default=None, max_length=120)
    last_name: str | None = Field(default=None, max_length=120)
    job_title: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    source: LeadSource | None = None
    status: WritableStatus | None = None
    owner: uuid.UUID | None = None
    business_unit: uuid.UUID | None = None
    district: uuid.UUID | None = None
    description: str | None = Field(default=None, max_length=20000)
    disqualified_reason: str | None = Field(default=None, max_length=255)


class LeadIn(LeadPatch):
    company_name: str = Field(min_length=1, max_length=255)


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class LeadFilters(QuerySchema):
    search: str | None = Field(default=None, max_length=100)
    status: LeadStatus | None = None
    source: LeadSource | None = None
    owner: uuid.UUID | None = None
    business_unit: uuid.UUID | None = None
    district: uuid.UUID | None = None
    scope: ListScope | None = Field(
        default=None, description="mine: my leads; team: my team's and my reports'."
    )
    created_from: ApiDate | None = Field(default=None, description="Created on or after (day).")
    created_to: ApiDate | None = Field(default=None, description="Created on or before (day).")
    ordering: LeadOrdering = "-created_at"
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class LineItemIn(InputSchema):
    product: uuid.UUID
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    unit_price: Decimal | None = Money
    discount_percent: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=2)


class LineItemOut(Schema):
    id: uuid.UUID
    product: uuid.UUID
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    total: Decimal

    @staticmethod
    def resolve_product(obj: OpportunityLineItem) -> uuid.UUID:
        return obj.product_id


class OpportunityOut(Schema):
    id: uuid.UUID = read_only()
    name: str
    account: uuid.UUID
    contact: uuid.UUID | None
    business_unit: uuid.UUID
    owner: uuid.UUID
    pipeline: uuid.UUID
    stage: uuid.UUID
    amount: Decimal
    currency: str
    expected_close_date: dt.date | None
    closed_at: dt.datetime | None = read_only()
    lost_reason: str
    next_step: str
    description: str
    line_items: list[LineItemOut]
    created_at: dt.datetime = read_only()
    updated_at: dt.datetime = read_only()

    @staticmethod
    def resolve_account(obj: Opportunity) -> uuid.UUID:
        return obj.account_id

    @staticmethod
    def resolve_contact(obj: Opportunity) -> uuid.UUID | None:
        return obj.contact_id

    @staticmethod
    def resolve_business_unit(obj: Opportunity) -> uuid.UUID:
        return obj.business_unit_id

    @staticmethod
    def resolve_owner(obj: Opportunity) -> uuid.UUID:
        return obj.owner_id

    @staticmethod
    def resolve_pipeline(obj: Opportunity) -> uuid.UUID:
        return obj.pipeline_id

    @staticmethod
    def resolve_stage(obj: Opportunity) -> uuid.UUID:
        return obj.stage_id

    @staticmethod
    def resolve_line_items(obj: Opportunity) -> list[OpportunityLineItem]:
        return list(obj.line_items.all())


class OpportunityPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    account: uuid.UUID | None = None
    contact: uuid.UUID | None = None
    business_unit: uuid.UUID | None = None
    owner: uuid.UUID | None = None
    pipeline: uuid.UUID | None = None
    stage: uuid.UUID | None = None
    amount: Decimal | None = Money
    currency: str | None = Currency
    expected_close_date: ApiDate | None = None
    lost_reason: str | None = Field(default=None, max_length=255)
    next_step: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=20000)
    line_items: list[LineItemIn] | None = Field(
        default=None, max_length=200, description="Replaces all line items; amount = their sum."
    )


class OpportunityIn(OpportunityPatch):
    name: str = Field(min_length=1, max_length=255)
    account: uuid.UUID


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None


class OpportunityFilters(QuerySchema):
    search: str | None = Field(default=None, max_length=100)
    account: uuid.UUID | None = None
    owner: uuid.UUID | None = None
    business_unit: uuid.UUID | None = None
    stage: uuid.UUID | None = None
    outcome: StageOutcome | None = None
    close_from: ApiDate | None = None
    close_to: ApiDate | None = None
    district: uuid.UUID | None = Field(default=None, description="The account's district.")
    scope: ListScope | None = Field(
        default=None, description="mine: my opportunities; team: my team's and my reports'."
    )
    ordering: OpportunityOrdering = "-created_at"
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class StageOut(Schema):
    id: uuid.UUID
    name: str
    name_th: str
    position: int
    probability: int
    forecast_category: ForecastCategory
    outcome: StageOutcome
    color: str
    required_fields: list[str]

    @staticmethod
    def resolve_required_fields(obj: Stage) -> list[str]:
        from accord.dataquality.models import RecordType
        from accord.dataquality.required import required_fields_for

        return required_fields_for(RecordType.OPPORTUNITY, stage=obj)


class PipelineOut(Schema):
    id: uuid.UUID
    name: str
    business_unit: uuid.UUID
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_business_unit(obj: Pipeline) -> uuid.UUID:
        return obj.business_unit_id

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Stage]:
        return list(obj.stages.all())


class ProductOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    product_line: uuid.UUID
    list_price: Decimal
    currency: str

    @staticmethod
    def resolve_product_line(obj: Product) -> uuid.UUID:
        return obj.product_line_id


class LeadConvertIn(InputSchema):
    """Convert a lead: to an existing ``account``, or (data stewards) to a ``new_account``
    made from the lead's company plus the fields given."""

    account: uuid.UUID | None = None
    new_account: AccountPatch | None = None
    contact: ContactPatch | None = Field(
        default=None, description="Fields of the new contact on top of the lead's person."
    )
    create_contact: bool = True
    opportunity: OpportunityPatch | None = Field(
        default=None, description="Open an opportunity on the account (at least its name)."
    )


class LeadConversionOut(Schema):
    lead: LeadOut
    account: uuid.UUID
    contact: uuid.UUID | None
    opportunity: uuid.UUID | None
