"""The weekly forecast e-mail to every manager (issue 7; ADR 0007, "The weekly email").

Each Monday every active person with an e-mail address and active direct reports gets their
team's roll-up for this quarter and this month: their own figures and one row per direct
report, adjusted figures beside the computed ones, the change of commit since the last
weekly snapshot, and a link to the forecast page. The figures come from
:func:`accord.insights.selectors.user_forecast` with the recipient as viewer — the numbers
the forecast page shows them — so there is one logic layer for both.

Sending is idempotent per ISO week: a :class:`WeeklyDigest` row is written in the same
transaction as the send, so a second run in the week sends nothing, two runs at once send
one mail (the unique row decides), and a failed send leaves no row (the next run retries).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accord.core.money import money_text as money
from accord.insights import selectors
from accord.insights.models import ForecastSnapshot, WeeklyDigest
from accord.insights.periods import Period, PeriodKind, iso_week_start, period_containing
from accord.org.models import User
from accord.org.notifications import absolute_link

logger = logging.getLogger(__name__)

TEMPLATE = "insights/email/weekly_digest"


@dataclass
class DigestResult:
    """What one run did. ``sent`` counts the mails a dry run would send."""

    sent: int = 0
    already_sent: int = 0
    skipped: int = 0
    failed: int = 0
    dry_run: bool = False


# --- what a mail holds --------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One figure as the mail shows it; ``adjusted`` is set when an adjustment is in force."""

    label: str
    text: str
    adjusted: str = ""


@dataclass
class DigestRow:
    label: str
    cells: list[Cell]
    own: bool = False


@dataclass
class DigestSection:
    """One period: the recipient's roll-up, a row per direct report, the commit's change."""

    period: Period
    period_label: str
    total: list[Cell]
    rows: list[DigestRow]
    previous_week: dt.date | None = None
    commit_change: Decimal | None = None
    columns: list[str] = field(default_factory=list)

    @property
    def commit_change_text(self) -> str:
        if self.commit_change is None:
            return ""
        sign = "+" if self.commit_change > 0 else ""
        return f"{sign}{money(self.commit_change)}"


def _thai() -> bool:
    return (translation.get_language() or "en").startswith("th")


def _percent(fraction: Decimal | None) -> str:
    return "—" if fraction is None else f"{(fraction * 100).quantize(Decimal('0.1'))}%"


def _cells(row: selectors.ForecastRow) -> list[Cell]:
    """The figures of a row in the page's order, labelled in the active language."""

    def adjustable(label: str, category: str) -> Cell:
        computed, adjusted = row.computed.get(category), row.adjusted.get(category)
        return Cell(label, money(computed), money(adjusted) if adjusted != computed else "")

    return [
        Cell(_("Closed won"), money(row.computed.closed_won)),
        adjustable(_("Commit"), "commit"),
        adjustable(_("Best case"), "best_case"),
        adjustable(_("Pipeline"), "pipeline"),
        Cell(_("Quota"), money(row.quota) if row.quota is not None else _("not set")),
        Cell(_("Attainment"), _percent(row.attainment)),
        Cell(_("Gap to quota"), money(row.gap) if row.gap is not None else "—"),
    ]


def _label(row: selectors.ForecastRow) -> str:
    return row.label_th if _thai() and row.label_th else row.label


def _commit_in_force(snapshot: ForecastSnapshot) -> Decimal:
    return snapshot.adjusted_commit if snapshot.adjusted_commit is not None else snapshot.commit


def _previous_snapshot(
    forecast: selectors.Forecast, week_start: dt.date
) -> ForecastSnapshot | None:
    """The latest snapshot taken before this week: the change then reads "since last week"
    even when this week's snapshot was taken just before the mail."""
    earlier = selectors.forecast_trend(node=forecast.subject.node, period=forecast.period).filter(
        week_start__lt=week_start
    )
    return earlier.order_by("-week_start").first()


def digest_section(*, user: User, period: Period, week_start: dt.date) -> DigestSection:
    """``user``'s roll-up for ``period`` as they would see it (in the active language)."""
    forecast = selectors.user_forecast(viewer=user, subject=user, period=period)
    total = _cells(forecast.subject)
    previous = _previous_snapshot(forecast, week_start)
    return DigestSection(
        period=period,
        period_label=period.label_th if _thai() else period.label,
        total=total,
        rows=[DigestRow(_label(r), _cells(r), own=r.level == "own") for r in forecast.children],
        previous_week=previous.week_start if previous is not None else None,
        commit_change=(
            forecast.subject.adjusted.commit - _commit_in_force(previous)
            if previous is not None
            else None
        ),
        columns=[cell.label for cell in total],
    )


def digest_periods(today: dt.date) -> list[Period]:
    """This quarter, then this month."""
    return [
        period_containing(today, PeriodKind.QUARTER),
        period_containing(today, PeriodKind.MONTH),
    ]


def forecast_page_url() -> str:
    """The forecast page, absolute when ``ACCORD_BASE_URL`` is set."""
    return absolute_link(reverse("web:forecasts"))


def digest_message(*, user: User, today: dt.date) -> EmailMultiAlternatives:
    """The mail for ``user``, rendered in their language (plain text and HTML)."""
    week_start = iso_week_start(today)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        sections = [
            digest_section(user=user, period=period, week_start=week_start)
            for period in digest_periods(today)
        ]
        context: dict[str, object] = {
            "name": (selectors.person_label_th if _thai() else selectors.person_label)(user),
            "today": today,
            "week_start": week_start,
            "sections": sections,
            "forecast_url": forecast_page_url(),
        }
        subject = " ".join(render_to_string(f"{TEMPLATE}_subject.txt", context).split())
        context["subject"] = subject
        text = render_to_string(f"{TEMPLATE}.txt", context)
        html = render_to_string(f"{TEMPLATE}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message


# --- who gets it, and sending -------------------------------------------------------------


def digest_recipients() -> QuerySet[User]:
    """Active people with an e-mail address and at least one active direct report."""
    return (
        User.objects.filter(is_active=True, reports__is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("username")
    )


class _AlreadySent(Exception):
    """Another run recorded this week's mail first."""


def _send_once(message: EmailMultiAlternatives, *, user: User, week_start: dt.date) -> None:
    """Record the week and send in one transaction: a failed send rolls the record back."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                WeeklyDigest.objects.create(
                    user=user, week_start=week_start, sent_at=timezone.now()
                )
        except IntegrityError as exc:
            raise _AlreadySent from exc
        message.send()


def weekly_digests_send(*, today: dt.date | None = None, dry_run: bool = False) -> DigestResult:
    """Send this ISO week's forecast mail to every manager who has not had it yet.

    One person's failure (rendering or sending) is logged and counted; the others go on.
    A dry run renders every mail but sends and records nothing.
    """
    today = today or timezone.localdate()
    week_start = iso_week_start(today)
    result = DigestResult(dry_run=dry_run)
    recipients = list(digest_recipients())
    done = set(WeeklyDigest.objects.filter(week_start=week_start).values_list("user_id", flat=True))
    result.skipped = User.objects.filter(is_active=True).count() - len(recipients)
    for user in recipients:
        if user.pk in done:
            result.already_sent += 1
            continue
        try:
            message = digest_message(user=user, today=today)
            if not dry_run:
                _send_once(message, user=user, week_start=week_start)
        except _AlreadySent:
            result.already_sent += 1
        except Exception:
            logger.exception("Could not send the weekly forecast e-mail to %s", user.email)
            result.failed += 1
        else:
            result.sent += 1
    return result
