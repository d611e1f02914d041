"""Spreadsheet import page: upload a CSV, see what happened to every row."""

from __future__ import annotations

import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accord.core.errors import DomainError
from accord.imports.services import COLUMNS, ImportReport, Kind, import_csv
from accord.org.models import User
from accord.territories import visibility

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Records"), choices=[(Kind.ACCOUNT, _("Accounts")), (Kind.CONTACT, _("Contacts"))]
    )
    file = forms.FileField(label=_("CSV file (UTF-8, first row names the columns)"))
    dry_run = forms.BooleanField(label=_("Check only: save nothing"), required=False, initial=True)

    def clean_file(self) -> io.StringIO:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB; split it."))
        try:
            return io.StringIO(upload.read().decode("utf-8-sig"), newline="")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
            ) from exc


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    report: ImportReport | None = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = import_csv(
                actor=user,
                kind=Kind(form.cleaned_data["kind"]),
                stream=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as exc:
            form.add_error("file", exc.detail)
    context = {
        "nav": "accounts",
        "form": form,
        "report": report,
        "columns": {str(k): v for k, v in COLUMNS.items()},
        "may_create_accounts": visibility.may_create_accounts(user),
    }
    return render(request, "web/imports/import.html", context)
