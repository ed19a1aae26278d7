"""The KPI pages for editors under /strategie/verwaltung/: the indicators of a strategy, an
indicator's form (department staff), its observations with the form for a new value, the
correction of a value with its reason, and "refresh now" for indicators fed by platform data
(staff and the indicator's owner). Thin: reads in selectors/kpis.py, writes in services/kpis.py,
permission through selectors/gate.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.accounts.views import actor_of, staff_page
from rathaus.strategy.forms_kpis import CorrectionForm, IndicatorForm, ObservationForm
from rathaus.strategy.models import Indicator, IndicatorObservation
from rathaus.strategy.selectors import kpis as selectors
from rathaus.strategy.selectors.gate import (
    indicator_get_for_editor,
    strategy_get_for_staff,
    strategy_staff_required,
)
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services import kpis as services

INDICATORS_PER_PAGE = 50
OBSERVATIONS_PER_PAGE = 25


def _status(form: Any) -> int:
    return 422 if form.errors else 200


def _observation_rows(
    indicator: Indicator, observations: list[IndicatorObservation]
) -> list[dict[str, Any]]:
    return [
        {
            "observation": observation,
            "period": selectors.period_label(
                frequency=indicator.frequency, period=observation.period
            ),
            "value": selectors.value_text(observation.value),
            "corrections": selectors.correction_lines(
                corrections=list(observation.corrections.all())
            ),
        }
        for observation in observations
    ]


def _indicator_rows(indicators: list[Indicator]) -> list[dict[str, Any]]:
    rows = []
    for indicator in indicators:
        latest_period = getattr(indicator, "latest_period", None)
        rows.append(
            {
                "indicator": indicator,
                "latest_period": (
                    selectors.period_label(frequency=indicator.frequency, period=latest_period)
                    if latest_period
                    else ""
                ),
                "latest_value": selectors.value_text(getattr(indicator, "latest_value", None)),
                "latest_provisional": getattr(indicator, "latest_provisional", False),
                "target": selectors.value_text(indicator.target_value),
            }
        )
    return rows


@staff_page
@require_safe
def indicator_list(request: HttpRequest, strategy_id: int) -> HttpResponse:
    strategy = strategy_get_for_staff(user=request.user, strategy_id=strategy_id)
    page = Paginator(selectors.indicators_for_staff(strategy=strategy), INDICATORS_PER_PAGE)
    current = page.get_page(request.GET.get("seite"))
    return render(
        request,
        "strategy/kpis/list.html",
        {
            "strategy": strategy,
            "page": current,
            "rows": _indicator_rows(list(current.object_list)),
            "page_prefix": "?seite=",
        },
    )


def _indicator_form_page(
    request: HttpRequest, *, strategy: Any, indicator: Indicator | None
) -> HttpResponse:
    choices = {
        "fields_of_action": selectors.indicator_field_choices(strategy=strategy),
        "measures": selectors.indicator_measure_choices(strategy=strategy),
    }
    form = IndicatorForm(
        request.POST if request.method == "POST" else None, indicator=indicator, **choices
    )
    if request.method == "POST" and form.is_valid():
        try:
            if indicator is None:
                saved = services.indicator_create(
                    actor=actor_of(request), strategy_id=strategy.pk, data=form.to_data()
                )
                messages.success(request, _("Die Kennzahl ist angelegt."))
            else:
                saved = services.indicator_update(
                    actor=actor_of(request), indicator_id=indicator.pk, data=form.to_data()
                )
                messages.success(request, _("Die Kennzahl ist gespeichert."))
        except StrategyError as error:
            form.show_error(error)
        else:
            return redirect("strategy:observations", indicator_id=saved.pk)
    return render(
        request,
        "strategy/kpis/form.html",
        {"form": form, "strategy": strategy, "indicator": indicator},
        status=_status(form),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def indicator_create(request: HttpRequest, strategy_id: int) -> HttpResponse:
    strategy = strategy_get_for_staff(user=request.user, strategy_id=strategy_id)
    return _indicator_form_page(request, strategy=strategy, indicator=None)


@staff_page
@require_http_methods(["GET", "POST"])
def indicator_edit(request: HttpRequest, indicator_id: int) -> HttpResponse:
    strategy_staff_required(user=request.user)
    indicator = indicator_get_for_editor(user=request.user, indicator_id=indicator_id)
    return _indicator_form_page(request, strategy=indicator.strategy, indicator=indicator)


@staff_page
@require_http_methods(["GET", "POST"])
def observations(request: HttpRequest, indicator_id: int) -> HttpResponse:
    """The indicator's values, newest first, each with its corrections; the form for a new
    value below."""
    indicator = indicator_get_for_editor(user=request.user, indicator_id=indicator_id)
    form = ObservationForm(request.POST if request.method == "POST" else None, indicator=indicator)
    if request.method == "POST" and form.is_valid():
        try:
            _observation, outcome = services.observation_record(
                actor=actor_of(request),
                indicator_id=indicator.pk,
                period=form.cleaned_data["period"],
                value=form.number,
                unit=form.unit,
                provisional=form.cleaned_data["provisional"],
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
            )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(
                request,
                {
                    "created": _("Der Wert ist eingetragen."),
                    "corrected": _("Der Wert des Zeitraums ist korrigiert."),
                    "unchanged": _("Der Wert war schon so eingetragen; nichts geändert."),
                }[outcome],
            )
            return redirect("strategy:observations", indicator_id=indicator.pk)
    page = Paginator(
        selectors.observations_of_indicator(indicator=indicator), OBSERVATIONS_PER_PAGE
    ).get_page(request.GET.get("seite"))
    return render(
        request,
        "strategy/kpis/observations.html",
        {
            "indicator": indicator,
            "form": form,
            "page": page,
            "rows": _observation_rows(indicator, list(page.object_list)),
            "page_prefix": "?seite=",
            "is_staff": user_is_department_staff(user=request.user),
            "baseline": selectors.value_text(indicator.baseline_value),
            "target": selectors.value_text(indicator.target_value),
        },
        status=_status(form),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def observation_edit(request: HttpRequest, observation_id: int) -> HttpResponse:
    """The correction of one value: new value, provisional or final, note and the reason."""
    observation = selectors.observation_get_for_editor(
        user=request.user, observation_id=observation_id
    )
    indicator = observation.indicator
    initial = {
        "value": observation.value,
        "provisional": observation.provisional,
        "note": observation.note,
    }
    form = CorrectionForm(
        request.POST if request.method == "POST" else None, initial=initial, unit=indicator.unit
    )
    if request.method == "POST" and form.is_valid():
        try:
            _saved, outcome = services.observation_record(
                actor=actor_of(request),
                indicator_id=indicator.pk,
                period=observation.period,
                value=form.number,
                unit=form.unit,
                provisional=form.cleaned_data["provisional"],
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
            )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(
                request,
                _("Der Wert ist korrigiert.")
                if outcome == "corrected"
                else _("Nichts geändert: der Wert war schon so eingetragen."),
            )
            return redirect("strategy:observations", indicator_id=indicator.pk)
    return render(
        request,
        "strategy/kpis/correction.html",
        {
            "indicator": indicator,
            "observation": observation,
            "period": selectors.period_label(
                frequency=indicator.frequency, period=observation.period
            ),
            "value": selectors.value_text(observation.value),
            "corrections": selectors.correction_lines(
                corrections=selectors.observation_corrections(observation=observation)
            ),
            "form": form,
        },
        status=_status(form),
    )


@staff_page
@require_POST
def indicator_refresh(request: HttpRequest, indicator_id: int) -> HttpResponse:
    """Compute an automatic indicator's current value now (instead of waiting for the night)."""
    indicator = indicator_get_for_editor(user=request.user, indicator_id=indicator_id)
    outcome = services.indicator_refresh_auto(indicator_id=indicator.pk)
    if outcome.status == "done":
        messages.success(
            request,
            _("Aus den Plattformdaten berechnet: %(value)s %(unit)s (vorläufig).")
            % {"value": selectors.value_text(outcome.value), "unit": indicator.unit},
        )
    else:
        messages.error(
            request,
            _("Kein Wert berechnet: %(reason)s") % {"reason": outcome.reason},
        )
    return redirect("strategy:observations", indicator_id=indicator.pk)


urlpatterns: list[URLPattern] = [
    path(
        "verwaltung/strategien/<int:strategy_id>/kennzahlen/",
        indicator_list,
        name="indicator_list",
    ),
    path(
        "verwaltung/strategien/<int:strategy_id>/kennzahlen/neu/",
        indicator_create,
        name="indicator_create",
    ),
    path("verwaltung/kennzahlen/<int:indicator_id>/", indicator_edit, name="indicator_edit"),
    path("verwaltung/kennzahlen/<int:indicator_id>/werte/", observations, name="observations"),
    path("verwaltung/werte/<int:observation_id>/", observation_edit, name="observation_edit"),
    path(
        "verwaltung/kennzahlen/<int:indicator_id>/automatisch/",
        indicator_refresh,
        name="indicator_refresh",
    ),
]
