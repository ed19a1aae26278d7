"""Public pages of the funding register: the calls that fit what someone plans (``match``,
prefilled from a strategy measure for staff or from an organisation for its members), the
deadline calendar (``deadlines``) and its iCalendar feed (``deadlines_ical``). Thin: reads
in selectors/matching.py and selectors/calendar.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_safe

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.funding.forms_matching import (
    DeadlineFilterForm,
    MatchForm,
    match_form_data,
)
from rathaus.funding.selectors.calendar import (
    DEFAULT_MONTHS,
    FEED_MAX_MONTHS,
    CalendarFilters,
    by_month,
    deadline_feed,
    deadline_list,
)
from rathaus.funding.selectors.matching import (
    MatchProfile,
    calls_matching,
    measure_profile_for_user,
    organisation_profile_for_user,
)

MATCH_PAGE_SIZE = 25
DEADLINE_PAGE_SIZE = 50


def _limited(request: HttpRequest, scope: str) -> bool:
    """Requests per client as the other public search pages (RATHAUS_RATELIMIT_CITYDATA)."""
    return ratelimit_exceeded(
        scope=f"funding-{scope}", key=client_address(request), rate=settings.RATELIMIT_CITYDATA
    )


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("seite", "1")
    return int(value) if (value.isascii() and value.isdigit()) and 0 < len(value) < 7 else 1


def _id_param(request: HttpRequest, name: str) -> int:
    value = request.GET.get(name, "")
    if not (value.isascii() and value.isdigit()) or not 0 < len(value) < 19:
        raise Http404(f"bad {name}")
    return int(value)


def _prefill(request: HttpRequest) -> MatchProfile | None:
    """The profile of ``?massnahme=`` (staff) or ``?organisation=`` (staff, its members)."""
    if "massnahme" in request.GET:
        return measure_profile_for_user(
            user=request.user, measure_id=_id_param(request, "massnahme")
        )
    if "organisation" in request.GET:
        return organisation_profile_for_user(
            user=request.user, organisation_id=_id_param(request, "organisation")
        )
    return None


def _pager(base: dict[str, Any], number: int, pages: int) -> dict[str, Any]:
    def url(page: int) -> str:
        query = QueryDict(mutable=True)
        for key, value in base.items():
            if isinstance(value, list):
                query.setlist(key, value)
            else:
                query[key] = value
        query["seite"] = str(page)
        return f"?{query.urlencode()}"

    return {
        "page_number": number,
        "pages": pages,
        "previous_url": url(number - 1) if number > 1 else "",
        "next_url": url(number + 1) if number < pages else "",
    }


@require_safe
def match(request: HttpRequest) -> HttpResponse:
    """Open and forthcoming calls that fit: everyone may search the public register; the
    form can be filled from a measure (staff) or an organisation (staff, its members)."""
    if _limited(request, "match"):
        return error_response(request, 429)
    prefilled = _prefill(request)
    if prefilled is not None:
        form = MatchForm(match_form_data(prefilled))
    else:
        form = MatchForm(request.GET)
    number = _page_number(request)
    result = None
    pager: dict[str, Any] = {}
    if form.is_valid():
        profile = form.profile()
        result = calls_matching(
            profile, limit=MATCH_PAGE_SIZE, offset=(number - 1) * MATCH_PAGE_SIZE
        )
        pages = max(1, -(-result.total // MATCH_PAGE_SIZE))
        if number > pages:  # beyond the last page (an old link): the last page
            number = pages
            result = calls_matching(
                profile, limit=MATCH_PAGE_SIZE, offset=(number - 1) * MATCH_PAGE_SIZE
            )
        base = {
            key: request.GET.getlist(key) if key == "themen" else value
            for key, value in request.GET.items()
            if key in form.fields and value
        }
        if prefilled is not None:
            base = {key: value for key, value in form.data.items() if value}
        pager = _pager(base, number, pages)
    return render(
        request,
        "funding/matching/match.html",
        {
            "form": form,
            "result": result,
            "prefilled": prefilled,
            "is_staff": user_is_department_staff(user=request.user),
            **pager,
        },
    )


def _deadline_form(request: HttpRequest) -> DeadlineFilterForm:
    data = request.GET.copy()
    if not data.get("monate"):
        data["monate"] = str(DEFAULT_MONTHS)
    return DeadlineFilterForm(data)


@require_safe
def deadlines(request: HttpRequest) -> HttpResponse:
    """The coming deadlines of open and forthcoming calls by month, with level and theme
    filters, and the link to the same list as a calendar feed."""
    if _limited(request, "deadlines"):
        return error_response(request, 429)
    form = _deadline_form(request)
    now = timezone.now()
    context: dict[str, Any] = {"form": form, "now": now, "page": None}
    if form.is_valid():
        filters = form.filters()
        page = Paginator(deadline_list(filters=filters, now=now), DEADLINE_PAGE_SIZE).get_page(
            _page_number(request)
        )
        query = filters.query()
        feed = CalendarFilters(
            level=filters.level, theme=filters.theme, months=min(filters.months, FEED_MAX_MONTHS)
        ).query()
        context |= {
            "page": page,
            "months": by_month(page.object_list, now=now),
            "filters": filters,
            "feed_query": urlencode(feed),
            "feed_capped": filters.months > FEED_MAX_MONTHS,
            **_pager(query, page.number, page.paginator.num_pages),
        }
    return render(request, "funding/matching/deadlines.html", context)


@require_safe
def deadlines_ical(request: HttpRequest) -> HttpResponse:
    """The deadlines of the calendar (same filters; at most 12 months ahead, 2,000 events)
    as an iCalendar feed to subscribe to."""
    if _limited(request, "ical"):
        return error_response(request, 429)
    form = _deadline_form(request)
    if not form.is_valid():
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return error_response(request, 400, problems)
    response = HttpResponse(
        deadline_feed(filters=form.filters()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="foerderfristen.ics"'
    return response


urlpatterns: list[URLPattern] = [
    path("passende-aufrufe/", match, name="match"),
    path("fristen/", deadlines, name="deadlines"),
    path("fristen.ics", deadlines_ical, name="deadlines_ical"),
]
