"""Forms for leads and activities (create and edit).

Like the other record forms, these only parse what people type: the services
(:func:`~accord.sales.services.lead_create`, :func:`~accord.activities.services.activity_create`
and their updates) decide what is valid, and their field-level errors come back onto the
form through the shared submit path, with what the user typed kept and nothing saved.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.activities.models import Activity, ActivityKind
from accord.activities.selectors import activity_list
from accord.activities.services import activity_create, activity_update
from accord.core.errors import NotFound
from accord.core.selectors import get_visible
from accord.customers.models import Account, Contact
from accord.org.models import BusinessUnit, User
from accord.org.selectors import districts
from accord.sales.models import Lead, LeadSource, LeadStatus, Opportunity
from accord.sales.services import lead_create, lead_update
from accord.territories import visibility
from accord.web.accounts import _save_form, _visible_account
from accord.web.forms import DistrictChoiceField, _choices, _text
from accord.web.views import _user

LEAD_ACTIVITIES_SHOWN = 20

# A lead becomes "converted" only by converting it, never through this form.
LEAD_STATUSES = [(v, label) for v, label in LeadStatus.choices if v != LeadStatus.CONVERTED]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class LeadForm(forms.Form):
    company_name = _text(gettext_lazy("Company"))
    first_name = _text(gettext_lazy("First name"), max_length=120)
    last_name = _text(gettext_lazy("Last name"), max_length=120)
    job_title = _text(gettext_lazy("Job title"), max_length=120)
    email = _text(gettext_lazy("Email"), type="email")
    phone = _text(gettext_lazy("Phone"), max_length=32, type="tel")
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), choices=_choices(LeadSource.choices), required=False
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=_choices(LEAD_STATUSES), required=False
    )
    owner = PersonChoiceField(
        label=gettext_lazy("Owner"), queryset=User.objects.none(), required=False
    )
    business_unit = forms.ModelChoiceField(
        label=gettext_lazy("Business unit"),
        queryset=BusinessUnit.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    district = DistrictChoiceField(
        label=gettext_lazy("District"), queryset=districts(), required=False
    )
    description = _text(gettext_lazy("Description"), max_length=10000, multiline=True)
    disqualified_reason = _text(gettext_lazy("Why disqualified"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Records go to the user or to people who report to them (the service checks too).
        owners: QuerySet[User] = visibility.owners_visible_to(user).order_by(
            "first_name", "last_name", "username"
        )
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("source", "status"):
            if not data.get(name):
                data.pop(name, None)
        owner = data.pop("owner", None)
        if owner is not None:
            data["owner"] = owner.pk
        for name in ("business_unit", "district"):
            data[name] = data[name].pk if data.get(name) else None
        return data


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=_choices(ActivityKind.choices),
        initial=ActivityKind.VISIT,
        required=False,
    )
    subject = _text(gettext_lazy("Subject"))
    due_date = forms.DateField(
        label=gettext_lazy("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    start_at = forms.DateTimeField(
        label=gettext_lazy("Starts"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end_at = forms.DateTimeField(
        label=gettext_lazy("Ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    is_done = forms.BooleanField(label=gettext_lazy("Done"), required=False)
    contact = forms.ModelChoiceField(
        label=gettext_lazy("Contact"), queryset=Contact.objects.none(), required=False
    )
    opportunity = forms.ModelChoiceField(
        label=gettext_lazy("Opportunity"), queryset=Opportunity.objects.none(), required=False
    )
    location = _text(gettext_lazy("Location"))
    outcome = _text(gettext_lazy("Outcome"))
    body = _text(gettext_lazy("Notes"), max_length=10000, multiline=True)

    def __init__(self, *args: Any, user: User, account: Account | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if account is None:  # a lead's activity: no contact or opportunity to link yet
            del self.fields["contact"], self.fields["opportunity"]
            return
        contacts = visibility.contacts_visible_to(user).filter(account=account)
        opportunities = visibility.opportunities_visible_to(user).filter(account=account)
        self.fields["contact"].queryset = contacts.order_by("last_name", "first_name")  # type: ignore[attr-defined]
        self.fields["opportunity"].queryset = opportunities.order_by("-created_at")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("contact", "opportunity"):
            if name in data:
                data[name] = data[name].pk if data[name] else None
        return data


# --- leads --------------------------------------------------------------------------------


def _visible_lead(user: User, pk: uuid.UUID) -> Lead:
    try:
        return get_visible(visibility.leads_visible_to(user), pk, what="lead")
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _lead_initial(lead: Lead) -> dict[str, Any]:
    names = [n for n in LeadForm.base_fields if n not in ("owner", "business_unit", "district")]
    initial = {name: getattr(lead, name) for name in names}
    return initial | {
        "owner": lead.owner_id,
        "business_unit": lead.business_unit_id,
        "district": lead.district_id,
    }


@login_required
def lead_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return _save_form(
        request,
        LeadForm(request.POST or None, user=user),
        save=lambda data: lead_create(actor=user, data=data),
        done=lambda lead: _("Lead %(name)s created.") % {"name": lead.company_name},
        title=_("New lead"),
        back=reverse("web:lead_list"),
        account=None,
        success_url=lambda lead: reverse("web:lead_edit", args=[lead.pk]),
    )


@login_required
def lead_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    lead = _visible_lead(user, pk)
    activities = activity_list(user=user, lead=lead.pk, limit=LEAD_ACTIVITIES_SHOWN)
    prefetch_related_objects(activities.items, "performed_by")
    return _save_form(
        request,
        LeadForm(request.POST or None, initial=_lead_initial(lead), user=user),
        save=lambda data: lead_update(actor=user, lead=lead, data=data),
        done=lambda _saved: _("Lead saved."),
        title=_("Edit lead"),
        back=reverse("web:lead_list"),
        account=None,
        success_url=lambda saved: reverse("web:lead_edit", args=[saved.pk]),
        template="web/lead_form.html",
        extra={
            "lead": lead,
            "activities": activities,
            "may_log": visibility.may_create_selling_records(user),
        },
    )


# --- activities ---------------------------------------------------------------------------


def _after_activity(activity: Activity) -> str:
    if activity.account_id is not None:
        return reverse("web:account_detail", args=[activity.account_id])
    return reverse("web:lead_edit", args=[activity.lead_id])


@login_required
def account_activity_new(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    account = _visible_account(request, pk)
    return _save_form(
        request,
        ActivityForm(request.POST or None, user=user, account=account),
        save=lambda data: activity_create(actor=user, data={**data, "account": account.pk}),
        done=lambda a: (
            _("%(kind)s saved: %(subject)s") % {"kind": a.get_kind_display(), "subject": a.subject}
        ),
        title=_("New activity"),
        back=reverse("web:account_detail", args=[account.pk]),
        account=account,
        success_url=_after_activity,
    )


@login_required
def lead_activity_new(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    lead = _visible_lead(user, pk)
    return _save_form(
        request,
        ActivityForm(request.POST or None, user=user, account=None),
        save=lambda data: activity_create(actor=user, data={**data, "lead": lead.pk}),
        done=lambda a: (
            _("%(kind)s saved: %(subject)s") % {"kind": a.get_kind_display(), "subject": a.subject}
        ),
        title=_("New activity for %(lead)s") % {"lead": lead.company_name},
        back=reverse("web:lead_edit", args=[lead.pk]),
        account=None,
        success_url=_after_activity,
    )


@login_required
def activity_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = _user(request)
    try:
        activity: Activity = get_visible(
            visibility.activities_visible_to(user).select_related("account", "lead"),
            pk,
            what="activity",
        )
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    names = [n for n in ActivityForm.base_fields if n not in ("contact", "opportunity")]
    initial = {name: getattr(activity, name) for name in names} | {
        "contact": activity.contact_id,
        "opportunity": activity.opportunity_id,
    }
    return _save_form(
        request,
        ActivityForm(request.POST or None, initial=initial, user=user, account=activity.account),
        save=lambda data: activity_update(actor=user, activity=activity, data=data),
        done=lambda _saved: _("Activity saved."),
        title=_("Edit activity"),
        back=_after_activity(activity),
        account=activity.account,
        success_url=_after_activity,
    )
