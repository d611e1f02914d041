from __future__ import annotations

from django.db.models import QuerySet

from accord.org.models import ApiToken, BusinessUnit, District, ProductLine, Region, Team, User


def business_units() -> QuerySet[BusinessUnit]:
    return BusinessUnit.objects.prefetch_related("product_lines")


def product_lines() -> QuerySet[ProductLine]:
    return ProductLine.objects.all()


def regions() -> QuerySet[Region]:
    return Region.objects.all()


def districts() -> QuerySet[District]:
    return District.objects.all()


def teams() -> QuerySet[Team]:
    return Team.objects.all()


def users_directory() -> QuerySet[User]:
    """Everyone's name, role and place in the organisation (no secrets)."""
    return User.objects.prefetch_related("districts").order_by("username")


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
