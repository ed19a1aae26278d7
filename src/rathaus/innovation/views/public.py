"""The public pages of the competitions: the list of calls and a call with its rules."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.innovation.constants import CallStatus
from rathaus.innovation.selectors.calls import (
    call_current_phase,
    call_get_for_user,
    call_public_list,
    call_rules,
    user_is_juror,
)

PAGE_SIZE = 20


@require_safe
def call_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(call_public_list(), PAGE_SIZE).get_page(request.GET.get("seite"))
    now = timezone.now()
    items = [{"call": call, "phase": call_current_phase(call, now)} for call in page.object_list]
    return render(
        request,
        "innovation/calls/list.html",
        {
            "page": page,
            "items": items,
            "now": now,
            "english": get_language() == "en",
            # the ways in for those who take part: entrants, the jury, the department
            "staff": user_is_department_staff(user=request.user),
            "juror": user_is_juror(user=request.user),
        },
    )


@require_safe
def call_detail(request: HttpRequest, slug: str) -> HttpResponse:
    call = call_get_for_user(user=request.user, slug=slug)
    now = timezone.now()
    return render(
        request,
        "innovation/calls/detail.html",
        {
            "call": call,
            "rules": call_rules(call, now=now),
            "draft": call.status == CallStatus.DRAFT,
            "english": get_language() == "en",
            "now": now,
        },
    )


urlpatterns: list[URLPattern] = [
    path("", call_list, name="call_list"),
    path("<slug:slug>/", call_detail, name="call_detail"),
]
