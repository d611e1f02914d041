"""``/api/v1/leads``, ``/opportunities``, ``/pipelines``, ``/products``."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Query, Router, Status

from accord.activities.history import add_history_routes
from accord.core.api_support import actor
from accord.core.selectors import get_visible
from accord.org.models import User
from accord.sales import flows, selectors, services
from accord.sales.models import Lead, Opportunity, Pipeline, Product
from accord.sales.schemas import (
    LeadConversionOut,
    LeadConvertIn,
    LeadFilters,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    OpportunityFilters,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityPatch,
    PipelineOut,
    ProductOut,
)
from accord.territories import visibility

leads = Router(tags=["leads"])
opportunities = Router(tags=["opportunities"])
catalogue = Router(tags=["pipelines and products"])


def _lead(user: User, lead_id: uuid.UUID) -> Lead:
    return get_visible(visibility.leads_visible_to(user), lead_id, what="lead")


def _opportunity(user: User, opportunity_id: uuid.UUID) -> Opportunity:
    return get_visible(
        visibility.opportunities_visible_to(user), opportunity_id, what="opportunity"
    )


@leads.get("", response=LeadPage, summary="List leads")
def lead_list(request: HttpRequest, filters: Query[LeadFilters]) -> LeadPage:
    page = selectors.lead_list(user=actor(request), **filters.dict())
    return LeadPage(items=page.items, next_cursor=page.next_cursor)  # type: ignore[arg-type]


@leads.post("", response={201: LeadOut}, summary="Create a lead")
def lead_create(request: HttpRequest, payload: LeadIn) -> Status[Lead]:
    return Status(
        201, services.lead_create(actor=actor(request), data=payload.model_dump(exclude_unset=True))
    )


@leads.get("/{lead_id}", response=LeadOut, summary="Get a lead")
def lead_get(request: HttpRequest, lead_id: uuid.UUID) -> Lead:
    return _lead(actor(request), lead_id)


@leads.patch("/{lead_id}", response=LeadOut, summary="Change a lead")
def lead_update(request: HttpRequest, lead_id: uuid.UUID, payload: LeadPatch) -> Lead:
    return services.lead_update(
        actor=actor(request),
        lead=_lead(actor(request), lead_id),
        data=payload.model_dump(exclude_unset=True),
    )


@leads.delete("/{lead_id}", response={204: None}, summary="Delete a lead")
def lead_delete(request: HttpRequest, lead_id: uuid.UUID) -> Status[None]:
    services.lead_delete(actor=actor(request), lead=_lead(actor(request), lead_id))
    return Status(204, None)


add_history_routes(leads, what="lead", get_visible=_lead)


@opportunities.get("", response=OpportunityPage, summary="List opportunities")
def opportunity_list(request: HttpRequest, filters: Query[OpportunityFilters]) -> OpportunityPage:
    page = selectors.opportunity_list(user=actor(request), **filters.dict())
    return OpportunityPage(items=page.items, next_cursor=page.next_cursor)  # type: ignore[arg-type]


@opportunities.post("", response={201: OpportunityOut}, summary="Create an opportunity")
def opportunity_create(request: HttpRequest, payload: OpportunityIn) -> Status[Opportunity]:
    return Status(
        201,
        services.opportunity_create(
            actor=actor(request), data=payload.model_dump(exclude_unset=True)
        ),
    )


@opportunities.get("/{opportunity_id}", response=OpportunityOut, summary="Get an opportunity")
def opportunity_get(request: HttpRequest, opportunity_id: uuid.UUID) -> Opportunity:
    return _opportunity(actor(request), opportunity_id)


@opportunities.patch(
    "/{opportunity_id}",
    response=OpportunityOut,
    summary="Change an opportunity (a stage change applies the stage's required fields)",
)
def opportunity_update(
    request: HttpRequest, opportunity_id: uuid.UUID, payload: OpportunityPatch
) -> Opportunity:
    return services.opportunity_update(
        actor=actor(request),
        opportunity=_opportunity(actor(request), opportunity_id),
        data=payload.model_dump(exclude_unset=True),
    )


@opportunities.delete("/{opportunity_id}", response={204: None}, summary="Delete an opportunity")
def opportunity_delete(request: HttpRequest, opportunity_id: uuid.UUID) -> Status[None]:
    services.opportunity_delete(
        actor=actor(request), opportunity=_opportunity(actor(request), opportunity_id)
    )
    return Status(204, None)


add_history_routes(opportunities, what="opportunity", get_visible=_opportunity)


@catalogue.get("/pipelines", response=list[PipelineOut], summary="Pipelines and their stages")
def pipeline_list(request: HttpRequest) -> list[Pipeline]:
    return list(selectors.pipelines_with_stages())


@catalogue.get("/products", response=list[ProductOut], summary="The product catalogue")
def product_list(request: HttpRequest) -> list[Product]:
    return list(selectors.products_active())


@leads.post(
    "/{lead_id}/convert",
    response={201: LeadConversionOut},
    summary="Convert a lead to an account, a contact and optionally an opportunity",
)
def lead_convert(
    request: HttpRequest, lead_id: uuid.UUID, payload: LeadConvertIn
) -> Status[dict[str, object]]:
    user = actor(request)
    data = payload.model_dump(exclude_unset=True)
    contact = data.get("contact") or {}
    contact.pop("account", None)
    opportunity = data.get("opportunity")
    if opportunity is not None:
        opportunity.pop("account", None)
    done = flows.lead_convert(
        actor=user,
        lead=_lead(user, lead_id),
        account=data.get("account"),
        new_account=data.get("new_account"),
        contact=contact,
        create_contact=data.get("create_contact", True),
        opportunity=opportunity,
    )
    return Status(
        201,
        {
            "lead": done.lead,
            "account": done.account.pk,
            "contact": done.contact.pk if done.contact else None,
            "opportunity": done.opportunity.pk if done.opportunity else None,
        },
    )
