"""Forms parse what people type; the services decide what is valid.

Every field is optional here: compulsory fields come from the data-entry templates that the
services apply, and their field-level errors are put back on the form by
:func:`add_domain_errors`, next to the field they concern.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.activities.models import ActivityKind
from accord.audit.models import SecurityEventKind
from accord.audit.security import security_event
from accord.core.errors import DomainError, PermissionDenied
from accord.customers.models import AccountStatus, Industry
from accord.org.models import District, Language
from accord.org.selectors import districts
from accord.sales.models import Stage


def _text(label: Any, *, max_length: int = 255, multiline: bool = False, **attrs: Any) -> Any:
    widget = forms.Textarea(attrs={"rows": 3, **attrs}) if multiline else forms.TextInput(attrs)
    return forms.CharField(label=label, required=False, max_length=max_length, widget=widget)


def _choices(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


def add_domain_errors(form: forms.Form, exc: DomainError) -> None:
    """Show a service's errors: its summary at the top, each field's message next to it
    (messages for fields the form does not show join the summary)."""
    if isinstance(exc, PermissionDenied):
        security_event(SecurityEventKind.ACCESS_DENIED, code=exc.code)
    form.add_error(None, exc.detail)
    # The duplicate check lists the look-alikes it found (RFC 9457 extension member).
    form.duplicate_candidates = list(getattr(exc, "extra", {}).get("candidates", []))  # type: ignore[attr-defined]
    # What the user can do instead (a cross-selling refusal: ask for an exception, dispute).
    form.problem_options = list(getattr(exc, "extra", {}).get("options", []))  # type: ignore[attr-defined]
    for field, messages in exc.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


def _justification_field() -> Any:
    return forms.CharField(
        label=_("Why is this not a duplicate?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only if you are sure: the CRM team reviews saved look-alikes."),
    )


def _with_justification(data: dict[str, Any]) -> dict[str, Any]:
    """The duplicate check's override goes to the service only when given."""
    if not (data.get("duplicate_justification") or "").strip():
        data.pop("duplicate_justification", None)
    return data


class DistrictChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: District) -> str:
        return f"{obj.name} · {obj.name_th}" if obj.name_th else obj.name


class AccountForm(forms.Form):
    legal_name = _text(_("Legal name"))
    name_th = _text(_("Thai name"), lang="th")
    name_en = _text(_("English name"))
    tax_id = _text(_("Tax ID"), max_length=20, inputmode="numeric")
    branch_code = _text(_("Branch number"), max_length=5, inputmode="numeric")
    district = DistrictChoiceField(label=_("District"), queryset=districts(), required=False)
    industry = forms.ChoiceField(
        label=_("Industry"), choices=_choices(Industry.choices), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(AccountStatus.ACTIVE, _("Active")), (AccountStatus.DORMANT, _("Dormant"))],
        required=False,
    )
    phone = _text(_("Phone"), max_length=32, type="tel")
    email = _text(_("Email"), type="email")
    website = _text(_("Website"), type="url")
    address_line1 = _text(_("Address"))
    address_line2 = _text(_("Address (line 2)"))
    subdistrict = _text(_("Sub-district (tambon/khwaeng)"), max_length=120)
    city = _text(_("District (amphoe/khet)"), max_length=120)
    province = _text(_("Province"), max_length=120)
    postal_code = _text(_("Postal code"), max_length=10, inputmode="numeric")
    duplicate_justification = _justification_field()

    # Names, tax ID, branch, district and status: only the CRM team changes them.
    STEWARD_FIELDS = ("legal_name", "name_th", "name_en", "tax_id", "branch_code", "district")

    def __init__(self, *args: Any, steward: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not steward:
            for name in (*self.STEWARD_FIELDS, "status"):
                self.fields[name].disabled = True

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if not self.fields[k].disabled}
        if "district" in data:
            data["district"] = data["district"].pk if data["district"] else None
        if data.get("status") == "":
            data.pop("status")
        if data.get("branch_code") == "":
            data.pop("branch_code")
        return _with_justification(data)


class ContactForm(forms.Form):
    salutation = _text(_("Salutation"), max_length=20)
    first_name = _text(_("First name"), max_length=120)
    last_name = _text(_("Last name"), max_length=120)
    first_name_th = _text(_("First name (Thai)"), max_length=120, lang="th")
    last_name_th = _text(_("Last name (Thai)"), max_length=120, lang="th")
    nickname = _text(_("Nickname"), max_length=60)
    job_title = _text(_("Job title"), max_length=120)
    department = _text(_("Department"), max_length=120)
    email = _text(_("Email"), type="email")
    phone = _text(_("Phone"), max_length=32, type="tel")
    mobile = _text(_("Mobile"), max_length=32, type="tel")
    line_id = _text(_("LINE ID"), max_length=64)
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=Language.choices, required=False
    )
    duplicate_justification = _justification_field()

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not data.get("preferred_language"):
            data.pop("preferred_language", None)
        return _with_justification(data)


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return f"{obj.pipeline.business_unit.name} — {obj.name} ({obj.probability}%)"


class OpportunityForm(forms.Form):
    name = _text(_("Name"))
    stage = StageChoiceField(
        label=_("Stage"),
        queryset=Stage.objects.select_related("pipeline__business_unit").order_by(
            "pipeline__business_unit__name", "pipeline__name", "position"
        ),
        required=False,
    )
    amount = forms.DecimalField(
        label=_("Amount (THB)"),
        required=False,
        max_digits=16,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    next_step = _text(_("Next step"))
    description = _text(_("Description"), max_length=10000, multiline=True)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        stage = data.pop("stage", None)
        if stage is not None:
            data["stage"] = stage.pk
            data["pipeline"] = stage.pipeline_id
            data["business_unit"] = stage.pipeline.business_unit_id
        if data.get("amount") is None:
            data.pop("amount", None)
        return data


QUICK_KINDS = [(ActivityKind.VISIT, _("Visit")), (ActivityKind.CALL, _("Call"))]


class QuickLogForm(forms.Form):
    """A visit or call that just happened, logged from the account page."""

    kind = forms.ChoiceField(
        label=_("What"),
        choices=QUICK_KINDS,
        initial=ActivityKind.VISIT,
        widget=forms.RadioSelect,
        required=False,
    )
    subject = _text(_("Subject"), placeholder=_("What was it about?"))
    body = _text(_("Notes"), max_length=10000, multiline=True)
    latitude = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["kind"] = data.get("kind") or ActivityKind.VISIT
        data["is_done"] = True
        return data
