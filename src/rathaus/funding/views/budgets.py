"""Department staff's pages of the money and the obligations of the city's applications,
under /foerderung/verwaltung/: one application's budget years and duties (``haushalt/``),
every open duty (``pflichten/``), the city's own share per budget year for the treasury
(``haushalt/``, also as CSV), the overview with the pipeline board and the figures per year
and level, and the CSV exports of the applications and the figures.

Thin: the selectors (selectors/budgets.py, selectors/overview.py) gate and read, the
services (services/budgets.py) check, write and audit."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from rathaus.core.csvsafe import csv_cell
from rathaus.core.money import amount_text
from rathaus.funding.charts import funds_chart
from rathaus.funding.forms_budgets import BudgetLineForm, DutyDoneForm, DutyForm
from rathaus.funding.models import Application, Duty, default_reminder_days
from rathaus.funding.selectors.budgets import (
    BudgetPage,
    budget_page,
    duty_open_list,
    duty_state,
    own_shares_by_year,
    responsible_choices,
)
from rathaus.funding.selectors.overview import (
    Figure,
    applications_for_export,
    figures_by_year_and_level,
    pipeline_board,
)
from rathaus.funding.services.budgets import (
    BudgetError,
    budget_line_delete,
    budget_line_set,
    duty_create,
    duty_done,
    duty_reopen,
    duty_update,
)
from rathaus.funding.views import actor_of, staff_page

PAGE_SIZE = 50
LINE_PREFIX, DUTY_PREFIX = "haushalt", "pflicht"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# ---- one application's budget and duties ---------------------------------------------------


def _budget_url(application_id: int, anchor: str = "") -> str:
    url = reverse("funding:application_budget", args=[application_id])
    return f"{url}#{anchor}" if anchor else url


def _done_label(duty: Duty) -> str:
    return _("%(duty)s fällig am %(due)s: erledigt am") % {
        "duty": duty.title or duty.get_kind_display(),
        "due": formats.date_format(duty.due_on, "SHORT_DATE_FORMAT"),
    }


class _BudgetForms:
    """The forms of the page: a year's row (new, or the year in ``?jahr=``), a duty (new, or
    the one in ``?pflicht=``), and "done" for each open duty."""

    def __init__(self, request: HttpRequest, page: BudgetPage, today: date) -> None:
        application = page.application
        self.year = _int(request.GET.get("jahr"))
        self.line = next((row.line for row in page.rows if row.line.year == self.year), None)
        self.duty_id = _int(request.GET.get("pflicht"))
        duties = [*page.open_duties, *page.done_duties]
        self.duty = next((duty for duty in duties if duty.pk == self.duty_id), None)
        if self.duty_id is not None and self.duty is None:
            raise Http404("no such duty of this application")
        self.line_form = BudgetLineForm(
            prefix=LINE_PREFIX,
            initial=BudgetLineForm.initial_from(self.line)
            if self.line is not None
            else {"year": self.year or today.year},
        )
        keep = (application.responsible_id, self.duty.responsible_id if self.duty else None)
        self.duty_form = DutyForm(
            prefix=DUTY_PREFIX,
            responsible_choices=responsible_choices(user=request.user, keep=keep),
            default_days=default_reminder_days(),
            initial=DutyForm.initial_from(self.duty) if self.duty is not None else None,
        )
        self.done_forms = {
            duty.pk: DutyDoneForm(
                prefix=f"erledigt-{duty.pk}", today=today, label=_done_label(duty)
            )
            for duty in page.open_duties
        }

    @property
    def bound(self) -> list[Any]:
        return [self.line_form, self.duty_form, *self.done_forms.values()]

    def invalid(self) -> bool:
        return any(form.is_bound and form.errors for form in self.bound)


def _post_line(request: HttpRequest, page: BudgetPage, forms: _BudgetForms) -> str | None:
    """Save a year's row; the URL to go to, or None to show the form again."""
    application = page.application
    form = BudgetLineForm(request.POST, prefix=LINE_PREFIX)
    forms.line_form = form
    if not form.is_valid():
        return None
    data = form.to_data()
    existed = any(row.line.year == data.year for row in page.rows)
    try:
        budget_line_set(actor=actor_of(request), application_id=application.pk, data=data)
    except BudgetError as error:
        form.show_budget_error(error)
        return None
    if existed:
        messages.success(
            request, _("Das Haushaltsjahr %(year)d ist aktualisiert.") % {"year": data.year}
        )
    else:
        messages.success(
            request, _("Das Haushaltsjahr %(year)d ist angelegt.") % {"year": data.year}
        )
    return _budget_url(application.pk, "haushalt")


def _post_line_delete(request: HttpRequest, page: BudgetPage) -> str:
    application = page.application
    line = next(
        (row.line for row in page.rows if row.line.pk == _int(request.POST.get("zeile"))), None
    )
    if line is None:
        messages.error(request, _("Diese Zeile gibt es nicht (mehr)."))
        return _budget_url(application.pk, "haushalt")
    try:
        budget_line_delete(
            actor=actor_of(request), application_id=application.pk, budget_line_id=line.pk
        )
    except BudgetError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request, _("Das Haushaltsjahr %(year)d ist gelöscht.") % {"year": line.year}
        )
    return _budget_url(application.pk, "haushalt")


def _post_duty(request: HttpRequest, page: BudgetPage, forms: _BudgetForms) -> str | None:
    application = page.application
    form = DutyForm(
        request.POST,
        prefix=DUTY_PREFIX,
        responsible_choices=responsible_choices(
            user=request.user,
            keep=(
                application.responsible_id,
                forms.duty.responsible_id if forms.duty else None,
            ),
        ),
        default_days=default_reminder_days(),
    )
    forms.duty_form = form
    if not form.is_valid():
        return None
    try:
        if forms.duty is None:
            duty_create(actor=actor_of(request), application_id=application.pk, data=form.to_data())
            messages.success(request, _("Die Pflicht ist angelegt."))
        else:
            duty_update(
                actor=actor_of(request),
                application_id=application.pk,
                duty_id=forms.duty.pk,
                data=form.to_data(),
            )
            messages.success(request, _("Die Pflicht ist gespeichert."))
    except BudgetError as error:
        form.show_budget_error(error)
        return None
    return _budget_url(application.pk, "pflichten")


def _post_done(
    request: HttpRequest, page: BudgetPage, forms: _BudgetForms, today: date
) -> str | None:
    application = page.application
    duty = next((d for d in page.open_duties if d.pk == _int(request.POST.get("pflicht_id"))), None)
    if duty is None:
        messages.error(request, _("Diese Pflicht ist schon erledigt oder gibt es nicht (mehr)."))
        return _budget_url(application.pk, "pflichten")
    form = DutyDoneForm(
        request.POST, prefix=f"erledigt-{duty.pk}", today=today, label=_done_label(duty)
    )
    forms.done_forms[duty.pk] = form
    if not form.is_valid():
        return None
    try:
        duty_done(
            actor=actor_of(request),
            application_id=application.pk,
            duty_id=duty.pk,
            done_on=form.cleaned_data["done_on"],
            today=today,
        )
    except BudgetError as error:
        form.show_budget_error(error)
        return None
    messages.success(request, _("Die Pflicht ist als erledigt vermerkt."))
    return _budget_url(application.pk, "pflichten")


def _post_reopen(request: HttpRequest, page: BudgetPage) -> str:
    application = page.application
    duty = next((d for d in page.done_duties if d.pk == _int(request.POST.get("pflicht_id"))), None)
    if duty is None:
        messages.error(request, _("Diese Pflicht ist schon offen oder gibt es nicht (mehr)."))
    else:
        try:
            duty_reopen(actor=actor_of(request), application_id=application.pk, duty_id=duty.pk)
        except BudgetError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Die Pflicht ist wieder offen."))
    return _budget_url(application.pk, "pflichten")


@staff_page
@require_http_methods(["GET", "POST"])
def application_budget(request: HttpRequest, application_id: int) -> HttpResponse:
    page = budget_page(user=request.user, application_id=application_id)
    today = timezone.localdate()
    forms = _BudgetForms(request, page, today)
    if request.method == "POST":
        action = request.POST.get("aktion")
        target: str | None
        if action == "haushalt":
            target = _post_line(request, page, forms)
        elif action == "haushalt-loeschen":
            target = _post_line_delete(request, page)
        elif action == "pflicht":
            target = _post_duty(request, page, forms)
        elif action == "erledigt":
            target = _post_done(request, page, forms, today)
        elif action == "wieder-offen":
            target = _post_reopen(request, page)
        else:
            return HttpResponseBadRequest()
        if target is not None:
            return redirect(target)
    open_rows = [
        {"duty": duty, "state": duty_state(duty, today=today), "form": forms.done_forms[duty.pk]}
        for duty in page.open_duties
    ]
    errors = [form for form in forms.bound if form.is_bound and form.errors]
    return render(
        request,
        "funding/budgets/application_budget.html",
        {
            "page": page,
            "application": page.application,
            "line_form": forms.line_form,
            "editing_line": forms.line,
            "duty_form": forms.duty_form,
            "editing_duty": forms.duty,
            "open_rows": open_rows,
            "form": errors[0] if errors else None,  # for the page title and error summary
            "default_days": default_reminder_days(),
        },
        status=422 if errors else 200,
    )


# ---- every open duty -----------------------------------------------------------------------


@staff_page
@require_safe
def duties(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("meine") == "1"
    today = timezone.localdate()
    page = Paginator(duty_open_list(user=request.user, mine=mine), PAGE_SIZE).get_page(
        request.GET.get("seite")
    )
    rows = [{"duty": duty, "state": duty_state(duty, today=today)} for duty in page.object_list]
    return render(
        request,
        "funding/budgets/duties.html",
        {"page": page, "rows": rows, "mine": mine, "today": today},
    )


# ---- CSV -----------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterable[list[Any]], filename: str) -> StreamingHttpResponse:
    """Semicolon-separated, UTF-8 with the byte order mark (German spreadsheets read both),
    every text cell safe from being run as a formula."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows:
            yield writer.writerow([csv_cell("" if value is None else value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


# ---- own shares per budget year ------------------------------------------------------------


@staff_page
@require_safe
def own_shares(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    shares = own_shares_by_year(user=request.user)
    if request.GET.get("format") == "csv":
        return _csv_response(_own_share_rows(shares.years), "eigenanteile.csv")
    return render(request, "funding/budgets/own_shares.html", {"shares": shares})


def _own_share_rows(years: Iterable[Any]) -> Iterator[list[Any]]:
    yield [
        _("Haushaltsjahr"),
        _("Antrag"),
        _("Projekttitel"),
        _("Aufruf"),
        _("Status"),
        _("Gebunden oder in Aussicht"),
        _("Haushaltsstelle des Eigenanteils"),
        _("Eigenanteil (€)"),
    ]
    for year in years:
        for line in year.lines:
            application: Application = line.application
            yield [
                year.year,
                application.acronym or application.title,
                application.title,
                application.call.identifier,
                application.get_status_display(),
                _("gebunden") if line.committed else _("in Aussicht"),
                application.own_share_budget_line,
                amount_text(line.amount),
            ]


# ---- overview ------------------------------------------------------------------------------


@staff_page
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    columns = pipeline_board(user=request.user)
    figures = figures_by_year_and_level(user=request.user)
    return render(
        request,
        "funding/budgets/overview.html",
        {
            "columns": columns,
            "total": sum(column.count for column in columns),
            "figures": figures,
            "chart": funds_chart(figures),
            "funds_rows": [
                {
                    "year": year.year,
                    "cells": [figures.funds(year, level) for level, _label in figures.levels],
                    "total": year.total.funds,
                }
                for year in figures.years
            ],
        },
    )


def _rate_text(figure: Figure) -> str:
    rate = figure.rate
    return "–" if rate is None else f"{rate:f}".replace(".", ",")


@staff_page
@require_safe
def applications_csv(request: HttpRequest) -> StreamingHttpResponse:
    applications = applications_for_export(user=request.user)

    def rows() -> Iterator[list[Any]]:
        yield [
            _("Nummer"),
            _("Akronym"),
            _("Projekttitel"),
            _("Aufruf"),
            _("Titel des Aufrufs"),
            _("Programm"),
            _("Ebene"),
            _("Status"),
            _("Rolle der Stadt"),
            _("Federführende Stelle"),
            _("Gesamtkosten (€)"),
            _("Beantragte Förderung (€)"),
            _("Eigenanteil (€)"),
            _("Bewilligte Förderung (€)"),
            _("Interne Entscheidung"),
            _("Entschieden am"),
            _("Eingereicht am"),
            _("Projektbeginn"),
            _("Projektende"),
            _("Nummer der Finanzhilfevereinbarung / des Bescheids"),
        ]
        for application in applications:
            call = application.call
            yield [
                application.pk,
                application.acronym,
                application.title,
                call.identifier,
                call.title,
                call.programme.name,
                call.programme.get_level_display(),
                application.get_status_display(),
                application.get_role_display(),
                application.office.name if application.office else "",
                amount_text(application.total_cost),
                amount_text(application.requested_funding),
                amount_text(application.own_share),
                amount_text(application.granted_amount),
                application.get_decision_display(),
                _date(application.decision_on),
                _date(application.submitted_on),
                _date(application.project_start),
                _date(application.project_end),
                application.grant_agreement_number,
            ]

    return _csv_response(rows(), "foerderantraege.csv")


@staff_page
@require_safe
def figures_csv(request: HttpRequest) -> StreamingHttpResponse:
    figures = figures_by_year_and_level(user=request.user)

    def rows() -> Iterator[list[Any]]:
        yield [
            _("Jahr der Einreichung"),
            _("Ebene"),
            _("Eingereicht"),
            _("Entschieden"),
            _("Bewilligt"),
            _("Erfolgsquote (%)"),
            _("Eingeworbene Mittel (€)"),
        ]
        for year in figures.years:
            for figure in [*year.levels, year.total]:
                yield [
                    year.year,
                    figure.level_label or _("Alle Ebenen"),
                    figure.submitted,
                    figure.decided,
                    figure.granted,
                    _rate_text(figure),
                    amount_text(figure.funds),
                ]
        total = figures.total
        yield [
            _("Alle Jahre"),
            _("Alle Ebenen"),
            total.submitted,
            total.decided,
            total.granted,
            _rate_text(total),
            amount_text(total.funds),
        ]

    return _csv_response(rows(), "foerderkennzahlen.csv")


urlpatterns: list[URLPattern] = [
    path(
        "verwaltung/antraege/<int:application_id>/haushalt/",
        application_budget,
        name="application_budget",
    ),
    path("verwaltung/pflichten/", duties, name="duties"),
    path("verwaltung/haushalt/", own_shares, name="own_shares"),
    path("verwaltung/uebersicht/", overview, name="overview"),
    path("verwaltung/antraege.csv", applications_csv, name="applications_csv"),
    path("verwaltung/kennzahlen.csv", figures_csv, name="figures_csv"),
]
