"""``/api/v1/org``: the organisation (read-only) and ``/api/v1/me``."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Router, Status

from accord.core.api_support import actor
from accord.core.selectors import get_visible
from accord.org import selectors, services
from accord.org.models import ApiToken, BusinessUnit, District, ProductLine, Region, Team, User
from accord.org.schemas import (
    ApiTokenIn,
    ApiTokenIssued,
    ApiTokenOut,
    BusinessUnitOut,
    DistrictOut,
    ProductLineOut,
    RegionOut,
    TeamOut,
    UserOut,
)

router = Router(tags=["organisation"])


@router.get("/me", response=UserOut, summary="The signed-in user")
def me(request: HttpRequest) -> User:
    return actor(request)


@router.get("/me/tokens", response=list[ApiTokenOut], summary="My API tokens")
def my_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(selectors.api_tokens_of(actor(request)))


@router.post("/me/tokens", response={201: ApiTokenIssued}, summary="Create an API token")
def my_token_create(request: HttpRequest, payload: ApiTokenIn) -> Status[dict[str, object]]:
    issued = services.api_token_create(user=actor(request), name=payload.name)
    return Status(201, {"token": issued.token, "secret": issued.secret})


@router.delete("/me/tokens/{token_id}", response=ApiTokenOut, summary="Revoke one of my tokens")
def my_token_revoke(request: HttpRequest, token_id: uuid.UUID) -> ApiToken:
    token = get_visible(selectors.api_tokens_of(actor(request)), token_id, what="token")
    return services.api_token_revoke(token=token)


@router.get("/org/business-units", response=list[BusinessUnitOut], summary="Business units")
def business_units(request: HttpRequest) -> list[BusinessUnit]:
    return list(selectors.business_units())


@router.get("/org/product-lines", response=list[ProductLineOut], summary="Product lines")
def product_lines(request: HttpRequest) -> list[ProductLine]:
    return list(selectors.product_lines())


@router.get("/org/regions", response=list[RegionOut], summary="Regions")
def regions(request: HttpRequest) -> list[Region]:
    return list(selectors.regions())


@router.get("/org/districts", response=list[DistrictOut], summary="Districts (territories)")
def districts(request: HttpRequest) -> list[District]:
    return list(selectors.districts())


@router.get("/org/teams", response=list[TeamOut], summary="Teams")
def teams(request: HttpRequest) -> list[Team]:
    return list(selectors.teams())


@router.get("/org/users", response=list[UserOut], summary="People and their roles")
def users(request: HttpRequest) -> list[User]:
    return list(selectors.users_directory())
