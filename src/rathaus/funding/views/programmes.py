"""The register of funding programmes and calls under /foerderung/: public to read (the
register with search and filters, a programme, a call with its deadlines in the funder's time
zone and in the city's, the CSV exports), kept by department staff (programme and call forms,
the CSV import). Thin: reads in selectors/programmes.py, writes in services/programmes.py and
services/csv_io.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.funding.constants import Level
from rathaus.funding.forms_programmes import (
    CallForm,
    ImportForm,
    ProgrammeForm,
    RegisterFilterForm,
)
from rathaus.funding.models import Call, Programme
from rathaus.funding.selectors import programmes as selectors
from rathaus.funding.services import csv_io
from rathaus.funding.services import programmes as services
from rathaus.funding.views import actor_of, staff_page

PAGE_SIZE = 25


def _is_staff(request: HttpRequest) -> bool:
    return user_is_department_staff(user=request.user)


def _filters(form: RegisterFilterForm) -> selectors.RegisterFilters:
    if not form.is_valid():
        return selectors.RegisterFilters()
    d = form.cleaned_data
    return selectors.RegisterFilters(
        query=d.get("q") or "",
        level=d.get("ebene") or "",
        theme=d.get("thema") or "",
        applicant_type=d.get("antragsberechtigt") or "",
        current_only=bool(d.get("aktuell")),
    )


def _calls_shown(calls: list[Call], now: Any) -> list[dict[str, Any]]:
    return [
        {
            "call": call,
            "deadlines": [
                selectors.deadline_shown(deadline, now=now) for deadline in call.deadlines.all()
            ],
        }
        for call in calls
    ]


# ---- public ----------------------------------------------------------------------------------


@require_safe
def programme_list(request: HttpRequest) -> HttpResponse:
    """The register: programmes with search and filters, 25 a page, each with its next
    deadline."""
    if ratelimit_exceeded(
        scope="funding-list", key=client_address(request), rate=settings.RATELIMIT_CITYDATA
    ):
        return error_response(request, 429)
    form = RegisterFilterForm(request.GET or None)
    filters = _filters(form)
    now = timezone.now()
    page = Paginator(selectors.programme_search(filters=filters, now=now), PAGE_SIZE).get_page(
        request.GET.get("seite")
    )
    programmes: list[Programme] = list(page.object_list)
    upcoming = selectors.next_deadlines(programme_ids=[p.pk for p in programmes], now=now)
    rows = [
        {
            "programme": programme,
            "facts": selectors.programme_facts(programme),
            "next": upcoming.get(programme.pk),
        }
        for programme in programmes
    ]
    base = {k: v for k, v in request.GET.items() if k != "seite" and v}
    query = urlencode(base)
    return render(
        request,
        "funding/programmes/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query_string": query,
            "page_prefix": f"?{query}&seite=" if query else "?seite=",
            "is_staff": _is_staff(request),
        },
    )


@require_safe
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = selectors.programme_get(programme_id=programme_id)
    now = timezone.now()
    return render(
        request,
        "funding/programmes/programme_detail.html",
        {
            "programme": programme,
            "facts": selectors.programme_facts(programme),
            "calls": _calls_shown(list(programme.calls.all()), now),
            "is_staff": _is_staff(request),
            "is_eu": programme.level == Level.EU,
        },
    )


@require_safe
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    call = selectors.call_get(call_id=call_id)
    now = timezone.now()
    is_staff = _is_staff(request)
    return render(
        request,
        "funding/programmes/call_detail.html",
        {
            "call": call,
            "programme": call.programme,
            "deadlines": [selectors.deadline_shown(d, now=now) for d in call.deadlines.all()],
            "is_staff": is_staff,
            "warnings": services.call_warnings(call=call, now=now) if is_staff else [],
        },
    )


def _csv_response(request: HttpRequest, text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_limited(request: HttpRequest) -> bool:
    return ratelimit_exceeded(
        scope="funding-export", key=client_address(request), rate=settings.RATELIMIT_EXPORT
    )


@require_safe
def programmes_csv(request: HttpRequest) -> HttpResponse:
    """The register's programmes (with the register's filters, if any) as CSV."""
    if _export_limited(request):
        return error_response(request, 429)
    filters = _filters(RegisterFilterForm(request.GET or None))
    return _csv_response(request, csv_io.programmes_csv(filters=filters), "programme.csv")


@require_safe
def calls_csv(request: HttpRequest) -> HttpResponse:
    """The calls of the register's programmes (with the register's filters) as CSV."""
    if _export_limited(request):
        return error_response(request, 429)
    filters = _filters(RegisterFilterForm(request.GET or None))
    return _csv_response(request, csv_io.calls_csv(filters=filters), "aufrufe.csv")


# ---- staff: programmes -----------------------------------------------------------------------


def _form_page(
    request: HttpRequest, template: str, form: Any, context: dict[str, Any]
) -> HttpResponse:
    return render(request, template, {"form": form, **context}, status=422 if form.errors else 200)


@staff_page
@require_http_methods(["GET", "POST"])
def programme_create(request: HttpRequest) -> HttpResponse:
    selectors.staff_gate(user=request.user)
    form = ProgrammeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_create(actor=actor_of(request), data=form.to_data())
        except services.RegisterError as error:
            form.show_problems(error.problems)
        else:
            messages.success(request, _("Das Programm ist angelegt."))
            return redirect("funding:programme_detail", programme_id=programme.pk)
    return _form_page(request, "funding/programmes/programme_form.html", form, {"programme": None})


@staff_page
@require_http_methods(["GET", "POST"])
def programme_edit(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = selectors.programme_get_for_staff(user=request.user, programme_id=programme_id)
    form = ProgrammeForm(
        request.POST if request.method == "POST" else None,
        initial=ProgrammeForm.initial_from(programme),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_update(
                actor=actor_of(request), programme_id=programme.pk, data=form.to_data()
            )
        except services.RegisterError as error:
            form.show_problems(error.problems)
        else:
            messages.success(request, _("Die Änderungen sind gespeichert."))
            return redirect("funding:programme_detail", programme_id=programme.pk)
    return _form_page(
        request, "funding/programmes/programme_form.html", form, {"programme": programme}
    )


# ---- staff: calls ----------------------------------------------------------------------------


def _saved_call(request: HttpRequest, call: Call, message: str) -> HttpResponse:
    messages.success(request, message)
    for warning in services.call_warnings(call=call):
        messages.warning(request, warning)
    return redirect("funding:call_detail", call_id=call.pk)


@staff_page
@require_http_methods(["GET", "POST"])
def call_create(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = selectors.programme_get_for_staff(user=request.user, programme_id=programme_id)
    form = CallForm(
        request.POST if request.method == "POST" else None,
        default_zone="Europe/Brussels" if programme.level == Level.EU else "Europe/Berlin",
    )
    if request.method == "POST" and form.is_valid():
        try:
            call = services.call_create(
                actor=actor_of(request), data=form.to_data(programme_id=programme.pk)
            )
        except services.RegisterError as error:
            form.show_problems(error.problems)
        else:
            return _saved_call(request, call, _("Der Aufruf ist angelegt."))
    return _form_page(
        request,
        "funding/programmes/call_form.html",
        form,
        {"programme": programme, "call": None},
    )


@staff_page
@require_http_methods(["GET", "POST"])
def call_edit(request: HttpRequest, call_id: int) -> HttpResponse:
    call = selectors.call_get_for_staff(user=request.user, call_id=call_id)
    form = CallForm(
        request.POST if request.method == "POST" else None,
        initial=CallForm.initial_from(call),
        rows=CallForm.rows_for(call),
        default_zone="Europe/Brussels" if call.programme.level == Level.EU else "Europe/Berlin",
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.call_update(
                actor=actor_of(request),
                call_id=call.pk,
                data=form.to_data(programme_id=call.programme_id),
            )
        except services.RegisterError as error:
            form.show_problems(error.problems)
        else:
            return _saved_call(request, saved, _("Die Änderungen sind gespeichert."))
    return _form_page(
        request,
        "funding/programmes/call_form.html",
        form,
        {"programme": call.programme, "call": call},
    )


# ---- staff: CSV import -----------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def csv_import(request: HttpRequest) -> HttpResponse:
    """Upload programme.csv and/or aufrufe.csv; all or nothing, every wrong row listed."""
    selectors.staff_gate(user=request.user)
    form = ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    result = None
    if request.method == "POST" and form.is_valid():
        uploads = {
            name: form.cleaned_data[name].read() if form.cleaned_data.get(name) else None
            for name in ("programmes", "calls")
        }
        result = csv_io.register_import(
            actor=actor_of(request),
            programmes=uploads["programmes"],
            calls=uploads["calls"],
            check_only=form.cleaned_data["check_only"],
        )
        if result.imported:
            messages.success(request, _("Der Import ist gespeichert."))
    status = 200
    if form.errors or (result is not None and not result.ok):
        status = 422
    return render(
        request,
        "funding/programmes/import.html",
        {
            "form": form,
            "result": result,
            "file_labels": csv_io.FILE_LABELS,
            "programme_columns": csv_io.PROGRAMME_COLUMNS,
            "call_columns": csv_io.CALL_COLUMNS,
        },
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("", programme_list, name="programme_list"),
    path("programme/<int:programme_id>/", programme_detail, name="programme_detail"),
    path("aufrufe/<int:call_id>/", call_detail, name="call_detail"),
    path("programme.csv", programmes_csv, name="programmes_csv"),
    path("aufrufe.csv", calls_csv, name="calls_csv"),
    path("verwaltung/programme/neu/", programme_create, name="programme_create"),
    path(
        "verwaltung/programme/<int:programme_id>/bearbeiten/",
        programme_edit,
        name="programme_edit",
    ),
    path(
        "verwaltung/programme/<int:programme_id>/aufrufe/neu/",
        call_create,
        name="call_create",
    ),
    path("verwaltung/aufrufe/<int:call_id>/bearbeiten/", call_edit, name="call_edit"),
    path("verwaltung/import/", csv_import, name="csv_import"),
]
