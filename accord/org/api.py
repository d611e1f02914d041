"""``/api/v1/org``: the organisation (read-only) and ``/api/v1/me``."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from accord.core.api_support import actor
from accord.org import selectors
from accord.org.models import BusinessUnit, District, ProductLine, Region, Team, User
from accord.org.schemas import (
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
