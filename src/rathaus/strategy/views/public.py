"""The public pages of the strategies under /strategie/: the strategies with a published state,
each strategy's dashboard (progress by field of action, measures with filters and a timeline,
KPIs as charts against their targets), a page per measure and per KPI, the list of published
states and the CSV exports. Everything here reads a ``Publication`` (selectors/public.py),
never the draft, and shows the responsible office, never a person."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from rathaus.core.csvsafe import csv_cell
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.strategy import charts
from rathaus.strategy.constants import LinkKind, MeasureStatus
from rathaus.strategy.selectors import public as selectors
from rathaus.strategy.selectors.public import MeasureFilters, PublishedState

MEASURES_PER_PAGE = 20
INDICATORS_PER_PAGE = 10
PUBLICATIONS_PER_PAGE = 25


# ---- rate limits (as the funding register's pages and exports) --------------------------------


def _pages_limited(request: HttpRequest) -> bool:
    return ratelimit_exceeded(
        scope="strategy-pages", key=client_address(request), rate=settings.RATELIMIT_CITYDATA
    )


def _export_limited(request: HttpRequest) -> bool:
    return ratelimit_exceeded(
        scope="strategy-export", key=client_address(request), rate=settings.RATELIMIT_EXPORT
    )


# ---- filters --------------------------------------------------------------------------------


class MeasureFilterForm(forms.Form):
    """The dashboard's filters (GET); choices come from the published state itself."""

    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Diesen Status gibt es nicht.")},
    )
    amt = forms.ChoiceField(
        label=gettext_lazy("Verantwortliche Stelle"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("Diese Stelle ist für keine Maßnahme verantwortlich.")
        },
    )
    bezirk = forms.ChoiceField(
        label=gettext_lazy("Stadtbezirk"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("In diesem Stadtbezirk gibt es keine Maßnahme.")
        },
    )
    feld = forms.ChoiceField(
        label=gettext_lazy("Handlungsfeld"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Dieses Handlungsfeld gibt es nicht.")},
    )

    def __init__(self, *args: Any, state: PublishedState, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything: list[tuple[str, Any]] = [("", _("alle"))]
        for name, choices in (
            ("status", list(MeasureStatus.choices)),
            ("amt", state.office_choices()),
            ("bezirk", state.district_choices()),
            ("feld", state.field_choices()),
        ):
            cast(forms.ChoiceField, self.fields[name]).choices = everything + choices

    def filters(self) -> MeasureFilters:
        """The valid filters; an invalid one is left out (its error is on the form)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return MeasureFilters(
            status=data.get("status") or "",
            office_id=int(data["amt"]) if data.get("amt") else None,
            district_id=int(data["bezirk"]) if data.get("bezirk") else None,
            field_code=data.get("feld") or "",
        )


FILTER_KEYS = ("status", "amt", "bezirk", "feld")


def _query(request: HttpRequest, keys: Iterable[str], **extra: str) -> str:
    params = [(k, request.GET[k]) for k in keys if request.GET.get(k)]
    params += [(k, v) for k, v in extra.items() if v]
    return urlencode(params)


# ---- view data ------------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    return selectors.as_date(value)


def _measure_view(measure: dict[str, Any]) -> dict[str, Any]:
    """A measure as the templates show it: dates as dates, words for every code, every
    partner with a name."""
    return {
        **measure,
        "partners": [
            {**partner, "name": selectors.partner_name(partner)} for partner in measure["partners"]
        ],
        "status_label": selectors.status_label(measure["status"]),
        "light_label": selectors.light_label(measure["traffic_light"]),
        "light_symbol": selectors.light_symbol(measure["traffic_light"]),
        "planned_start_date": _day(measure["planned_start"]),
        "planned_end_date": _day(measure["planned_end"]),
        "actual_start_date": _day(measure["actual_start"]),
        "actual_end_date": _day(measure["actual_end"]),
        "planned_budget_value": selectors.as_decimal(measure["planned_budget"]),
        "spent_budget_value": selectors.as_decimal(measure["spent_budget"]),
    }


def _milestone_view(milestone: dict[str, Any]) -> dict[str, Any]:
    return {
        **milestone,
        "status_label": selectors.milestone_status_label(milestone["status"]),
        "planned": _day(milestone["planned_date"]),
        "baseline": _day(milestone["baseline_date"]),
        "actual": _day(milestone["actual_date"]),
        # a slip: from the first planned date to the planned one, or to the later actual one
        "moved_to": _day(milestone["actual_date"])
        if milestone["actual_date"] and milestone["actual_date"] > milestone["planned_date"]
        else _day(milestone["planned_date"]),
    }


def _measure_url(state: PublishedState, slug: str, code: str, draft: bool) -> str:
    if not draft:
        return reverse("strategy:measure", kwargs={"slug": slug, "code": code})
    try:  # a draft's measure has no public page yet: the editors' list of the measures
        return reverse("strategy:measure_list", kwargs={"strategy_id": state.strategy_id})
    except NoReverseMatch:
        return ""


def _timeline(
    state: PublishedState, slug: str, measures: list[dict[str, Any]], draft: bool
) -> charts.Timeline:
    rows = [
        charts.TimelineRow(
            code=m["code"],
            title=m["title"],
            url=_measure_url(state, slug, m["code"], draft),
            status_label=selectors.status_label(m["status"]),
            planned_start=_day(m["planned_start"]),
            planned_end=_day(m["planned_end"]),
            actual_start=_day(m["actual_start"]),
            actual_end=_day(m["actual_end"]),
            milestones=[
                charts.TimelineMilestone(
                    date=_day(x["actual_date"]) or _day(x["planned_date"]),  # type: ignore[arg-type]
                    title=x["title"],
                    status=x["status"],
                    slipped=x["slipped"],
                    baseline=_day(x["baseline_date"]),  # type: ignore[arg-type]
                )
                for x in m["milestones"]
            ],
        )
        for m in measures
    ]
    return charts.timeline_chart(rows=rows, today=timezone.localdate())


def _pair(day: str | None, value: str | None) -> tuple[date, float] | None:
    number = selectors.as_decimal(value)
    if not day or number is None:
        return None
    return (date.fromisoformat(day), float(number))


def _chart(indicator: dict[str, Any]) -> charts.IndicatorChart:
    points = [
        charts.Point(
            period=date.fromisoformat(item["period"]),
            value=float(item["value"]),
            provisional=item["provisional"],
        )
        for item in indicator["observations"]
    ]
    return charts.indicator_chart(
        name=indicator["name"],
        unit=indicator["unit"],
        direction=indicator["direction"],
        points=points,
        baseline=_pair(indicator["baseline_date"], indicator["baseline_value"]),
        target=_pair(indicator["target_date"], indicator["target_value"]),
        frequency=indicator["frequency"],
    )


def _field_rows(state: PublishedState) -> list[dict[str, Any]]:
    rows = []
    for item in state.fields:
        rows.append(
            {
                **item,
                "statuses": [
                    (str(label), item["status_counts"].get(value, 0))
                    for value, label in MeasureStatus.choices
                    if item["status_counts"].get(value)
                ],
                "lights": [
                    (
                        selectors.light_label(value),
                        selectors.light_symbol(value),
                        item["light_counts"].get(value, 0),
                    )
                    for value in ("green", "yellow", "red")
                    if item["light_counts"].get(value)
                ],
            }
        )
    return rows


def _page(items: list[Any], size: int, number: str | None) -> Page[Any]:
    return Paginator(items, size).get_page(number)


def dashboard_context(
    request: HttpRequest, state: PublishedState, *, draft: bool = False, slug: str | None = None
) -> dict[str, Any]:
    """What the dashboard template needs, for a published state or (``draft``) for a
    snapshot of the current draft. ``slug`` is the strategy's slug now: every link is built
    from it, never from the snapshot's (which a rename leaves behind); a draft's snapshot is
    the strategy now, so its own slug is current."""
    form = MeasureFilterForm(request.GET or None, state=state)
    filters = form.filters()
    measures = selectors.measures_filtered(state=state, filters=filters)
    page = _page(measures, MEASURES_PER_PAGE, request.GET.get("seite"))
    shown = [_measure_view(m) for m in page.object_list]
    indicator_page = _page(state.indicators, INDICATORS_PER_PAGE, request.GET.get("kseite"))
    stand = request.GET.get("stand", "") if not draft else ""
    slug = slug or state.strategy["slug"]
    open_data = ""
    if not draft:
        from rathaus.citydata.publishing import strategy_dataset_path

        open_data = strategy_dataset_path(strategy_id=state.strategy_id)
    return {
        "state": state,
        "strategy": state.strategy,
        "kind_label": selectors.kind_label(state.strategy["kind"]),
        "council_date": _day(state.strategy["council_decision_date"]),
        "draft": draft,
        "form": form,
        "filters_active": filters.active,
        "fields": _field_rows(state),
        "total_measures": len(state.measures),
        "page": page,
        "measures": shown,
        "timeline": _timeline(state, slug, list(page.object_list), draft) if shown else None,
        "indicator_page": indicator_page,
        "indicators": [{"indicator": i, "chart": _chart(i)} for i in indicator_page.object_list],
        "page_prefix": "?" + _query(request, (*FILTER_KEYS, "stand", "kseite")) + "&seite=",
        "indicator_prefix": "?" + _query(request, (*FILTER_KEYS, "stand", "seite")) + "&kseite=",
        "csv_query": _query(request, (*FILTER_KEYS,), stand=stand),
        "stand_query": _query(request, (), stand=stand),
        "open_data_url": open_data,
        "slug": slug,
        "stand": stand,
    }


# ---- pages ----------------------------------------------------------------------------------


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The strategies and EU projects with a published state (no snapshot is parsed)."""
    if _pages_limited(request):
        return error_response(request, 429)
    rows = [
        {
            "state": entry,
            "strategy": entry.strategy,
            "slug": entry.slug,
            "kind_label": selectors.kind_label(entry.strategy.get("kind", "")),
            "measures": entry.measure_count,
            "indicators": entry.indicator_count,
        }
        for entry in selectors.published_index()
    ]
    return render(request, "strategy/public/index.html", {"rows": rows})


@require_safe
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    if _pages_limited(request):
        return error_response(request, 429)
    stand = request.GET.get("stand")
    state = selectors.published_state(slug=slug, stand=stand)
    context = dashboard_context(request, state, slug=slug)
    context["older"] = bool(stand) and state.number < selectors.publication_count(
        strategy_id=state.strategy_id
    )
    return render(request, "strategy/public/dashboard.html", context)


@require_safe
def measure(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """Everything public of one measure in a published state."""
    if _pages_limited(request):
        return error_response(request, 429)
    state = selectors.published_state(slug=slug, stand=request.GET.get("stand"))
    item = state.measures_by_code.get(code)
    if item is None:
        raise Http404
    parent = state.measures_by_code.get(item["parent"]) if item["parent"] else None
    children = [_measure_view(c) for c in state.children.get(code, [])]
    fields = [state.fields_by_code[c] for c in item["fields"] if c in state.fields_by_code]
    stand = request.GET.get("stand", "")
    return render(
        request,
        "strategy/public/measure.html",
        {
            "state": state,
            "strategy": state.strategy,
            "measure": _measure_view(item),
            "parent": parent,
            "children": children,
            "fields": fields,
            "milestones": [_milestone_view(x) for x in item["milestones"]],
            "funding": [
                {"programme": f["programme"], "amount": selectors.as_decimal(f["amount"])}
                for f in item["funding"]
            ],
            "links": [
                {**link, "kind_label": selectors.label(LinkKind, link["kind"])}
                for link in item["links"]
            ],
            "timeline": _timeline(state, slug, [item, *state.children.get(code, [])], False),
            "indicators": selectors.indicators_of_measure(state=state, code=code),
            "stand_query": _query(request, (), stand=stand),
            "slug": slug,
        },
    )


@require_safe
def indicator(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """One KPI with its chart and the full table of its values and corrections."""
    if _pages_limited(request):
        return error_response(request, 429)
    state = selectors.published_state(slug=slug, stand=request.GET.get("stand"))
    item = state.indicators_by_code.get(code)
    if item is None:
        raise Http404
    field = state.fields_by_code.get(item["field"]) if item["field"] else None
    stand = request.GET.get("stand", "")
    observations = [
        {
            **o,
            "period_label": charts.period_label(date.fromisoformat(o["period"]), item["frequency"]),
            "value_number": selectors.as_decimal(o["value"]),
            "corrected_date": _day(o["corrected_at"]),
        }
        for o in reversed(item["observations"])
    ]
    return render(
        request,
        "strategy/public/indicator.html",
        {
            "state": state,
            "strategy": state.strategy,
            "indicator": item,
            "field": field,
            "chart": _chart(item),
            "observations": observations,
            "direction_label": selectors.direction_label(item["direction"]),
            "frequency_label": selectors.frequency_label(item["frequency"]),
            "baseline_value": selectors.as_decimal(item["baseline_value"]),
            "baseline_date": _day(item["baseline_date"]),
            "target_value": selectors.as_decimal(item["target_value"]),
            "target_date": _day(item["target_date"]),
            "measures": [
                state.measures_by_code[c] for c in item["measures"] if c in state.measures_by_code
            ],
            "stand_query": _query(request, (), stand=stand),
            "slug": slug,
        },
    )


@require_safe
def publications(request: HttpRequest, slug: str) -> HttpResponse:
    """Every published state of the strategy, newest first, each with its date and note."""
    if _pages_limited(request):
        return error_response(request, 429)
    strategy, rows = selectors.publications_of(slug=slug)
    page = _page(rows, PUBLICATIONS_PER_PAGE, request.GET.get("seite"))
    return render(
        request,
        "strategy/public/publications.html",
        {"strategy": strategy, "page": page, "slug": slug, "page_prefix": "?seite="},
    )


# ---- CSV ------------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterable[list[object]], filename: str) -> StreamingHttpResponse:
    """Semicolon-separated, UTF-8 with the byte order mark (as the funding exports: German
    spreadsheets read both), every text cell safe from being run as a formula."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows:
            yield writer.writerow([csv_cell("" if value is None else value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def measures_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The measures of a published state (with the dashboard's filters, if any), one row
    each."""
    if _export_limited(request):
        return error_response(request, 429)
    state = selectors.published_state(slug=slug, stand=request.GET.get("stand"))
    filters = MeasureFilterForm(request.GET or None, state=state).filters()
    measures = selectors.measures_filtered(state=state, filters=filters)
    rows = selectors.measure_rows(
        state=state, slug=slug, measures=measures, base_url=request.build_absolute_uri("/")
    )
    return _csv_response(rows, f"{slug}-massnahmen-stand-{state.number}.csv")


@require_safe
def indicators_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The KPI values of a published state in long format: one row per KPI and period."""
    if _export_limited(request):
        return error_response(request, 429)
    state = selectors.published_state(slug=slug, stand=request.GET.get("stand"))
    return _csv_response(
        selectors.indicator_rows(state=state), f"{slug}-kennzahlen-stand-{state.number}.csv"
    )


urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
    path("<slug:slug>/", dashboard, name="dashboard"),
    path("<slug:slug>/massnahmen/<str:code>/", measure, name="measure"),
    path("<slug:slug>/kennzahlen/<str:code>/", indicator, name="indicator"),
    path("<slug:slug>/staende/", publications, name="publications"),
    path("<slug:slug>/massnahmen.csv", measures_csv, name="measures_csv"),
    path("<slug:slug>/kennzahlen.csv", indicators_csv, name="indicators_csv"),
]
