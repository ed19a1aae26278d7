"""The staff's CSV import of measures and KPI observations (``verwaltung/import/``): upload
one file, say what it holds, optionally only check it; the page shows the rows created,
updated, unchanged and rejected and every wrong row with line, column and reason. Thin: the
reading, checking and writing is ``services.csv_io``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rathaus.accounts.views import actor_of, staff_page
from rathaus.strategy.forms_imports import StrategyImportForm
from rathaus.strategy.selectors.gate import strategy_staff_required
from rathaus.strategy.services import csv_io


@staff_page
@require_http_methods(["GET", "POST"])
def csv_import(request: HttpRequest) -> HttpResponse:
    """Upload measures.csv or observations.csv; all or nothing, every wrong row listed."""
    strategy_staff_required(user=request.user)
    posted = request.method == "POST"
    form = StrategyImportForm(request.POST if posted else None, request.FILES if posted else None)
    result = None
    kind = ""
    if posted and form.is_valid():
        kind = form.cleaned_data["kind"]
        result = csv_io.strategy_import(
            actor=actor_of(request),
            check_only=form.cleaned_data["check_only"],
            **{kind: form.cleaned_data["file"].read()},
        )
        if result.imported:
            messages.success(request, _("Der Import ist gespeichert."))
    status = 200
    if form.errors or (result is not None and not result.ok):
        status = 422
    return render(
        request,
        "strategy/imports/import.html",
        {
            "form": form,
            "result": result,
            "kind": kind,
            "counts": getattr(result, kind) if result is not None and kind else None,
            "file_label": csv_io.FILE_LABELS.get(kind, ""),
            "measure_columns": csv_io.MEASURE_COLUMNS,
            "observation_columns": csv_io.OBSERVATION_COLUMNS,
        },
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("verwaltung/import/", csv_import, name="csv_import"),
]
