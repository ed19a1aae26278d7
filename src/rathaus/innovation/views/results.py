"""Staff pages for running a call's evaluation (the progress of each phase with reminders,
the ranking with its CSV export, publishing the results) and the public results page."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from rathaus.accounts.views import second_factor_required
from rathaus.core.csvsafe import csv_cell
from rathaus.economy.selectors.directory import organisation_names
from rathaus.innovation.constants import PhaseResult
from rathaus.innovation.selectors.calls import call_get_for_user
from rathaus.innovation.selectors.jury import phase_get_for_staff
from rathaus.innovation.selectors.ranking import phase_progress, phase_ranking
from rathaus.innovation.selectors.results import (
    call_results,
    phase_export_rows,
)
from rathaus.innovation.selectors.staff import call_get_for_staff
from rathaus.innovation.services.calls import CallError
from rathaus.innovation.services.results import (
    phase_places_record,
    reminders_send,
    results_publish,
)

PAGE_SIZE = 100  # entries per page of the ranking


def _staff(view: Any) -> Any:
    return login_required(second_factor_required(view))


def _organisation_names(ids: set[int]) -> dict[int, str]:
    """Names of published organisations of the directory (others stay unnamed)."""
    return {pk: name for pk, (name, _slug) in organisation_names(organisation_ids=ids).items()}


@_staff
@require_safe
def progress(request: HttpRequest, call_id: int) -> HttpResponse:
    call = call_get_for_staff(user=request.user, call_id=call_id)
    now = timezone.now()
    phases = [phase_progress(phase=phase, now=now) for phase in call.phases.order_by("position")]
    return render(
        request, "innovation/results/progress.html", {"call": call, "phases": phases, "now": now}
    )


@_staff
@require_POST
def reminders(request: HttpRequest, call_id: int) -> HttpResponse:
    call = call_get_for_staff(user=request.user, call_id=call_id)
    sent = reminders_send()
    if sent:
        messages.success(
            request,
            ngettext(
                "Eine Erinnerung an %(count)d Jurymitglied ist unterwegs.",
                "Erinnerungen an %(count)d Jurymitglieder sind unterwegs.",
                sent,
            )
            % {"count": sent},
        )
    else:
        messages.info(
            request,
            _(
                "Niemand ist zu erinnern: Keine Bewertung ist überfällig, oder die Erinnerung "
                "ging in den letzten zwei Tagen schon hinaus."
            ),
        )
    return redirect("innovation:staff_progress", call_id=call.pk)


@_staff
@require_safe
def ranking(request: HttpRequest, phase_id: int) -> HttpResponse:
    phase = phase_get_for_staff(user=request.user, phase_id=phase_id)
    ranked = phase_ranking(phase=phase)
    page = Paginator(ranked, PAGE_SIZE).get_page(request.GET.get("seite"))
    names = _organisation_names({r.organisation_id for r in page.object_list})
    results = dict(PhaseResult.choices)
    rows = [
        {
            "entry": row,
            "organisation": names.get(row.organisation_id, ""),
            "result": results.get(row.result, "") if row.result != PhaseResult.OPEN else "",
        }
        for row in page.object_list
    ]
    return render(
        request,
        "innovation/results/ranking.html",
        {
            "call": phase.call,
            "phase": phase,
            "page": page,
            "rows": rows,
            "total": len(ranked),
            "names": names,
            "ties": sum(1 for r in ranked if r.tie),
            "unscored": sum(1 for r in ranked if r.score is None),
        },
    )


@_staff
@require_POST
def ranking_record(request: HttpRequest, phase_id: int) -> HttpResponse:
    phase = phase_get_for_staff(user=request.user, phase_id=phase_id)
    count = phase_places_record(actor=request.user, phase_id=phase.pk)  # type: ignore[arg-type]
    messages.success(
        request, _("Die Plätze von %(count)d Beiträgen sind festgehalten.") % {"count": count}
    )
    return redirect("innovation:staff_ranking", phase_id=phase.pk)


@_staff
@require_safe
def ranking_csv(request: HttpRequest, phase_id: int) -> HttpResponse:
    phase = phase_get_for_staff(user=request.user, phase_id=phase_id)
    header, rows = phase_export_rows(phase=phase)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheets read UTF-8 with the mark
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{phase.call.slug[:60]}-phase-{phase.position}.csv"'
    )
    return response


@_staff
@require_POST
def publish_results(request: HttpRequest, call_id: int) -> HttpResponse:
    call = call_get_for_staff(user=request.user, call_id=call_id)
    try:
        results_publish(actor=request.user, call_id=call.pk)  # type: ignore[arg-type]
    except CallError as error:
        messages.error(request, str(error.message))
        return redirect("innovation:staff_progress", call_id=call.pk)
    messages.success(request, _("Die Ergebnisse sind veröffentlicht."))
    return redirect("innovation:call_results", slug=call.slug)


@require_safe
def results(request: HttpRequest, slug: str) -> HttpResponse:
    call = call_get_for_user(user=request.user, slug=slug)
    winners = call_results(call=call)
    names = _organisation_names({w.organisation_id for w in winners})
    return render(
        request,
        "innovation/results/results.html",
        {
            "call": call,
            "winners": [
                {"winner": w, "organisation": names.get(w.organisation_id, "")} for w in winners
            ],
        },
    )


urlpatterns: list[URLPattern] = [
    path("verwaltung/<int:call_id>/fortschritt/", progress, name="staff_progress"),
    path("verwaltung/<int:call_id>/erinnerungen/", reminders, name="staff_reminders"),
    path("verwaltung/<int:call_id>/ergebnisse/", publish_results, name="staff_publish_results"),
    path("verwaltung/phasen/<int:phase_id>/rangliste/", ranking, name="staff_ranking"),
    path(
        "verwaltung/phasen/<int:phase_id>/rangliste/festhalten/",
        ranking_record,
        name="staff_ranking_record",
    ),
    path("verwaltung/phasen/<int:phase_id>/rangliste.csv", ranking_csv, name="staff_ranking_csv"),
    path("<slug:slug>/ergebnisse/", results, name="call_results"),
]
