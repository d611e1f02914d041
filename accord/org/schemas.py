from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema
from pydantic import Field

from accord.core.api_support import InputSchema
from accord.org.models import BusinessUnit, District, Team, User


class ProductLineOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    name_th: str


class BusinessUnitOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    name_th: str
    is_active: bool
    product_lines: list[uuid.UUID]

    @staticmethod
    def resolve_product_lines(obj: BusinessUnit) -> list[uuid.UUID]:
        return [pl.pk for pl in obj.product_lines.all()]


class RegionOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    name_th: str


class DistrictOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    name_th: str
    region: uuid.UUID

    @staticmethod
    def resolve_region(obj: District) -> uuid.UUID:
        return obj.region_id


class TeamOut(Schema):
    id: uuid.UUID
    name: str
    business_unit: uuid.UUID
    manager: uuid.UUID | None

    @staticmethod
    def resolve_business_unit(obj: Team) -> uuid.UUID:
        return obj.business_unit_id

    @staticmethod
    def resolve_manager(obj: Team) -> uuid.UUID | None:
        return obj.manager_id


class UserOut(Schema):
    id: uuid.UUID
    username: str
    first_name: str
    last_name: str
    first_name_th: str
    last_name_th: str
    email: str
    role: str
    business_unit: uuid.UUID | None
    team: uuid.UUID | None
    manager: uuid.UUID | None
    region: uuid.UUID | None
    districts: list[uuid.UUID]
    is_active: bool

    @staticmethod
    def resolve_business_unit(obj: User) -> uuid.UUID | None:
        return obj.business_unit_id

    @staticmethod
    def resolve_team(obj: User) -> uuid.UUID | None:
        return obj.team_id

    @staticmethod
    def resolve_manager(obj: User) -> uuid.UUID | None:
        return obj.manager_id

    @staticmethod
    def resolve_region(obj: User) -> uuid.UUID | None:
        return obj.region_id

    @staticmethod
    def resolve_districts(obj: User) -> list[uuid.UUID]:
        return [d.pk for d in obj.districts.all()]


class ApiTokenOut(Schema):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiTokenIn(InputSchema):
    name: str = Field(default="API token", min_length=1, max_length=120)


class ApiTokenIssued(Schema):
    token: ApiTokenOut
    secret: str = Field(description="Shown once; store it now.")
