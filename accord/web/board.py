"""The pipeline board: a kanban per business unit. Moving a card calls
``opportunity_move_stage``, so the stage's compulsory fields are enforced by the service;
when it refuses, the card stays where it was and shows what is missing."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accord.core.errors import DomainError, NotFound
from accord.core.selectors import get_visible
from accord.sales.models import Pipeline, Stage
from accord.sales.selectors import (
    BOARD_CLOSED_DAYS,
    BoardColumn,
    pipeline_board,
    pipelines_with_stages,
)
from accord.sales.services import opportunity_move_stage
from accord.territories import visibility
from accord.web.forms import OpportunityForm
from accord.web.views import _user


def _field_label(name: str) -> str:
    field = OpportunityForm.base_fields.get(name)
    return str(field.label) if field is not None and field.label else name


def _pipeline_for(request: HttpRequest, pipeline_id: str | None) -> tuple[Pipeline, list[Pipeline]]:
    pipelines = list(pipelines_with_stages().order_by("business_unit__name", "name"))
    if not pipelines:
        raise Http404("No pipelines are set up yet.")
    chosen = next((p for p in pipelines if str(p.pk) == pipeline_id), None)
    if chosen is None:
        unit_id = _user(request).business_unit_id
        defaults = [p for p in pipelines if p.business_unit_id == unit_id and p.is_default]
        chosen = defaults[0] if defaults else pipelines[0]
    return chosen, pipelines


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _with_urls(columns: list[BoardColumn]) -> list[BoardColumn]:
    """Each card's move and edit URLs, reversed once per board rather than per card."""
    move = reverse("web:opportunity_move", args=[_PLACEHOLDER])
    edit = reverse("web:opportunity_edit", args=[_PLACEHOLDER])
    for column in columns:
        for card in column.cards:
            card.move_url = move.replace(_PLACEHOLDER, str(card.pk))  # type: ignore[attr-defined]
            card.edit_url = edit.replace(_PLACEHOLDER, str(card.pk))  # type: ignore[attr-defined]
    return columns


def _render_board(
    request: HttpRequest,
    pipeline: Pipeline,
    pipelines: list[Pipeline],
    *,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    context = {
        "nav": "board",
        "pipeline": pipeline,
        "pipelines": pipelines,
        "columns": _with_urls(pipeline_board(user=user, pipeline=pipeline)),
        "problem": problem or {},
        "may_sell": visibility.may_create_selling_records(user),
        "closed_days": BOARD_CLOSED_DAYS,
    }
    partial = request.headers.get("HX-Request") == "true"
    template = "web/partials/board_columns.html" if partial else "web/board.html"
    return render(request, template, context, status=200 if partial else status)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    pipeline, pipelines = _pipeline_for(request, request.GET.get("pipeline"))
    return _render_board(request, pipeline, pipelines)


@login_required
@require_POST
def move(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    try:
        opp = get_visible(visibility.opportunities_visible_to(user), pk, what="opportunity")
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    pipeline, pipelines = _pipeline_for(request, str(opp.pipeline_id))
    try:
        stage_id = uuid.UUID(request.POST.get("stage", ""))
    except ValueError:
        stage_id = None
    stage = Stage.objects.filter(pk=stage_id).first() if stage_id else None
    problem: dict[str, Any] = {}
    if stage is None:
        problem = {"id": opp.pk, "detail": "Choose a stage.", "fields": []}
    else:
        try:
            opportunity_move_stage(actor=user, opportunity=opp, stage=stage)
        except DomainError as exc:
            fields = sorted(k for k in exc.errors if k != "__all__")
            problem = {
                "id": opp.pk,
                "detail": exc.detail,
                "fields": fields,
                "labels": [_field_label(f) for f in fields],
                "stage": stage,
            }
    if not problem and request.headers.get("HX-Request") != "true":
        return redirect(f"/pipeline/?pipeline={pipeline.pk}")
    return _render_board(
        request, pipeline, pipelines, problem=problem, status=422 if problem else 200
    )
