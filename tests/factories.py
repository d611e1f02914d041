"""factory_boy factories for org structure (configuration rows, created with the ORM).

Customer and selling records in tests are created through services, so that the rules
and the audit trail apply as they do in production.
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accord.org.models import BusinessUnit, District, ProductLine, Region, Role, Team, User
from accord.sales.models import Pipeline, Product, Stage


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"region-{n}")
    name = factory.Sequence(lambda n: f"Region {n}")


class DistrictFactory(DjangoModelFactory):
    class Meta:
        model = District

    code = factory.Sequence(lambda n: f"district-{n}")
    name = factory.Sequence(lambda n: f"District {n}")
    region = factory.SubFactory(RegionFactory)


class ProductLineFactory(DjangoModelFactory):
    class Meta:
        model = ProductLine

    code = factory.Sequence(lambda n: f"line-{n}")
    name = factory.Sequence(lambda n: f"Product line {n}")


class BusinessUnitFactory(DjangoModelFactory):
    class Meta:
        model = BusinessUnit

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"Business unit {n}")


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    business_unit = factory.SubFactory(BusinessUnitFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.SALES_REP
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def districts(self, create: bool, extracted: list[District] | None, **kwargs: object) -> None:
        if create and extracted:
            self.districts.set(extracted)


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    product_line = factory.SubFactory(ProductLineFactory)
    list_price = 1000


class PipelineFactory(DjangoModelFactory):
    class Meta:
        model = Pipeline

    business_unit = factory.SubFactory(BusinessUnitFactory)
    name = "Standard"


STANDARD_STAGES = [
    ("Prospecting", 10, "pipeline", "open"),
    ("Qualification", 20, "pipeline", "open"),
    ("Proposal", 60, "best_case", "open"),
    ("Negotiation", 80, "commit", "open"),
    ("Closed won", 100, "closed_won", "won"),
    ("Closed lost", 0, "omitted", "lost"),
]


def make_pipeline(unit: BusinessUnit) -> Pipeline:
    pipeline = PipelineFactory(business_unit=unit)
    for position, (name, probability, category, outcome) in enumerate(STANDARD_STAGES):
        Stage.objects.create(
            pipeline=pipeline,
            name=name,
            position=position,
            probability=probability,
            forecast_category=category,
            outcome=outcome,
        )
    return pipeline
