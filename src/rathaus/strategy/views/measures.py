"""The editors' pages under /strategie/verwaltung/: the start page (strategies, "my measures",
stale entries), strategies, fields of action, measures and sub-measures, their weights,
"still current" and milestones. Thin: the gates (selectors/gate.py) and the selectors
(selectors/measures.py) read, the services (services/measures.py) check the rules, write and
audit; a refusal (``StrategyError``) is shown at its field."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.accounts.views import actor_of, staff_page
from rathaus.forms.uploads import sanitise_filename
from rathaus.strategy.forms_measures import (
    FieldForm,
    MeasureFilterForm,
    MeasureForm,
    MilestoneForm,
    StrategyForm,
    WeightsForm,
)
from rathaus.strategy.models import Measure, Milestone
from rathaus.strategy.selectors import measures as selectors
from rathaus.strategy.selectors.gate import (
    measure_get_for_editor,
    strategy_get_for_staff,
    strategy_staff_required,
)
from rathaus.strategy.selectors.kpis import indicators_of_owner
from rathaus.strategy.selectors.stale import measure_is_stale
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.measures import (
    field_create,
    field_delete,
    field_update,
    measure_confirm,
    measure_create,
    measure_update,
    measure_weights_set,
    milestone_create,
    milestone_update,
    strategy_create,
    strategy_update,
)

PAGE_SIZE = 25
# the start page has three lists: "my measures" (``seite``), stale entries and "my KPIs"
STALE_PAGE = "seite_veraltet"
INDICATOR_PAGE = "seite_kennzahlen"


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _query(request: HttpRequest, **changes: Any) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return "?" + query.urlencode()


def _pager(request: HttpRequest, items: Any) -> dict[str, Any]:
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("seite"))
    return {
        "page": page,
        "previous_url": _query(request, seite=page.number - 1) if page.has_previous() else "",
        "next_url": _query(request, seite=page.number + 1) if page.has_next() else "",
    }


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *, failed: bool
) -> HttpResponse:
    return render(request, template, context, status=422 if failed else 200)


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    if value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


# ---- the start page ------------------------------------------------------------------------


@staff_page
@require_safe
def staff_home(request: HttpRequest) -> HttpResponse:
    """Staff: every strategy with its pages, their own measures, every stale entry. A person
    responsible for measures or owner of KPIs (not staff): their measures, which of them are
    stale, and their KPIs. Everyone else: 403. Three lists, three page parameters."""
    user = request.user
    staff = user_is_department_staff(user=user)
    indicators = indicators_of_owner(user=user)
    if not staff and not selectors.user_has_measures(user=user) and not indicators.exists():
        raise PermissionDenied
    mine = Paginator(selectors.my_measures(user=user), PAGE_SIZE).get_page(request.GET.get("seite"))
    stale = Paginator(selectors.stale_for_user(user=user), PAGE_SIZE).get_page(
        request.GET.get(STALE_PAGE)
    )
    my_indicators = Paginator(indicators, PAGE_SIZE).get_page(request.GET.get(INDICATOR_PAGE))
    return render(
        request,
        "strategy/measures/home.html",
        {
            "staff": staff,
            "strategies": selectors.strategy_list_for_staff(user=user) if staff else [],
            "mine": mine,
            "previous_url": _query(request, seite=mine.number - 1) if mine.has_previous() else "",
            "next_url": _query(request, seite=mine.number + 1) if mine.has_next() else "",
            "stale": stale,
            "stale_previous_url": (
                _query(request, **{STALE_PAGE: stale.number - 1}) if stale.has_previous() else ""
            ),
            "stale_next_url": (
                _query(request, **{STALE_PAGE: stale.number + 1}) if stale.has_next() else ""
            ),
            "my_indicators": my_indicators,
            "indicators_previous_url": (
                _query(request, **{INDICATOR_PAGE: my_indicators.number - 1})
                if my_indicators.has_previous()
                else ""
            ),
            "indicators_next_url": (
                _query(request, **{INDICATOR_PAGE: my_indicators.number + 1})
                if my_indicators.has_next()
                else ""
            ),
        },
    )


# ---- strategies ----------------------------------------------------------------------------


def _strategy_form(request: HttpRequest, strategy_id: int | None) -> HttpResponse:
    strategy = (
        strategy_get_for_staff(user=request.user, strategy_id=strategy_id)
        if strategy_id is not None
        else None
    )
    if strategy is None:
        strategy_staff_required(user=request.user)
    initial = StrategyForm.initial_from(strategy) if strategy is not None else {}
    form = StrategyForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if strategy is None:
                saved = strategy_create(actor=actor_of(request), data=form.to_data())
            else:
                saved = strategy_update(
                    actor=actor_of(request), strategy_id=strategy.pk, data=form.to_data()
                )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(request, _("Die Strategie ist gespeichert."))
            return redirect("strategy:strategy_edit", strategy_id=saved.pk)
    return _page(
        request,
        "strategy/measures/strategy_form.html",
        {"form": form, "strategy": strategy},
        failed=bool(form.errors),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def strategy_create_view(request: HttpRequest) -> HttpResponse:
    return _strategy_form(request, None)


@staff_page
@require_http_methods(["GET", "POST"])
def strategy_edit(request: HttpRequest, strategy_id: int) -> HttpResponse:
    return _strategy_form(request, strategy_id)


# ---- fields of action ----------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def fields(request: HttpRequest, strategy_id: int) -> HttpResponse:
    """The strategy's fields of action as a tree, and a form to add one."""
    strategy = strategy_get_for_staff(user=request.user, strategy_id=strategy_id)
    form = FieldForm(
        _posted(request),
        parents=selectors.parent_field_choices(strategy=strategy, field_id=None),
        initial={"position": 0},
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = field_create(
                actor=actor_of(request), strategy_id=strategy.pk, data=form.to_data()
            )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(
                request, _("Das Handlungsfeld „%(field)s“ ist angelegt.") % {"field": created}
            )
            return redirect("strategy:fields", strategy_id=strategy.pk)
    return _page(
        request,
        "strategy/measures/fields.html",
        {"strategy": strategy, "rows": selectors.field_tree(strategy=strategy), "form": form},
        failed=bool(form.errors),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def field_edit(request: HttpRequest, field_id: int) -> HttpResponse:
    """Change a field of action (POST ``loeschen``: delete it)."""
    item = selectors.field_get_for_staff(user=request.user, field_id=field_id)
    strategy = item.strategy
    delete_error = ""
    if request.method == "POST" and "loeschen" in request.POST:
        try:
            field_delete(actor=actor_of(request), field_id=item.pk)
        except StrategyError as error:
            delete_error = str(error.message)
        else:
            messages.success(request, _("Das Handlungsfeld ist gelöscht."))
            return redirect("strategy:fields", strategy_id=strategy.pk)
    posted = _posted(request) if not delete_error else None
    form = FieldForm(
        posted,
        parents=selectors.parent_field_choices(strategy=strategy, field_id=item.pk),
        initial=FieldForm.initial_from(item),
    )
    if posted is not None and form.is_valid():
        try:
            field_update(actor=actor_of(request), field_id=item.pk, data=form.to_data())
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(request, _("Das Handlungsfeld ist gespeichert."))
            return redirect("strategy:fields", strategy_id=strategy.pk)
    return _page(
        request,
        "strategy/measures/field_form.html",
        {"strategy": strategy, "item": item, "form": form, "delete_error": delete_error},
        failed=bool(form.errors or delete_error),
    )


# ---- measures ------------------------------------------------------------------------------


@staff_page
@require_safe
def measure_list(request: HttpRequest, strategy_id: int) -> HttpResponse:
    strategy = strategy_get_for_staff(user=request.user, strategy_id=strategy_id)
    form = MeasureFilterForm(
        request.GET or None,
        offices=selectors.office_choices(),
        fields=selectors.field_choices(strategy_ids=[strategy.pk]),
    )
    measures = selectors.measure_list_for_staff(
        user=request.user, strategy=strategy, **form.filters()
    )
    return render(
        request,
        "strategy/measures/measure_list.html",
        {"strategy": strategy, "form": form, **_pager(request, measures)},
    )


def _measure_form(
    request: HttpRequest, measure: Measure | None, *, initial: dict[str, Any]
) -> MeasureForm:
    staff = user_is_department_staff(user=request.user)
    strategies = selectors.strategy_choices()
    partner_ids = list(initial.get("partner_ids", []))
    link_ids = {
        "event": list(initial.get("event_ids", [])),
        "competition": list(initial.get("competition_ids", [])),
        "dataset": list(initial.get("dataset_ids", [])),
    }
    choices = {
        "strategy_ids": strategies,
        # the fields of every strategy: the service refuses those of a strategy not chosen
        "field_ids": selectors.field_choices(
            strategy_ids=[pk for pk, _label in strategies]
            if staff
            else list(initial.get("strategy_ids", []))
        ),
        "parent_id": selectors.parent_choices(measure_id=measure.pk if measure else None),
        "office_id": selectors.office_choices(),
        "responsible_id": selectors.responsible_choices(
            keep_user_id=measure.responsible_id if measure is not None else None
        ),
        "area_ids": selectors.area_choices(),
        "partner_ids": selectors.partner_choices(keep=partner_ids),
    }
    return MeasureForm(
        _posted(request),
        initial=initial,
        choices=choices,
        links=selectors.link_choices(keep=link_ids),
        staff=staff,
    )


@staff_page
@require_http_methods(["GET", "POST"])
def measure_create_view(request: HttpRequest) -> HttpResponse:
    """A new measure (``?strategie=<id>``) or sub-measure (``?teil_von=<measure id>``)."""
    strategy_staff_required(user=request.user)
    initial: dict[str, Any] = {"progress": 0, "themes_mask": 0}
    strategy_id = _int_param(request, "strategie")
    if strategy_id is not None:
        initial["strategy_ids"] = [strategy_id]
    parent_id = _int_param(request, "teil_von")
    parent = Measure.objects.filter(pk=parent_id).first() if parent_id is not None else None
    if parent is not None:
        initial["parent_id"] = parent.pk
        initial["strategy_ids"] = list(parent.strategies.values_list("pk", flat=True))
        initial["office_id"] = parent.office_id
        initial["responsible_id"] = parent.responsible_id
    form = _measure_form(request, None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = measure_create(
                actor=actor_of(request), data=form.to_data(), links=form.to_links()
            )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(
                request, _("Die Maßnahme %(code)s ist angelegt.") % {"code": saved.code}
            )
            return redirect("strategy:measure_edit", measure_id=saved.pk)
    return _page(
        request,
        "strategy/measures/measure_create.html",
        {"form": form, "parent": parent},
        failed=bool(form.errors),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def measure_edit(request: HttpRequest, measure_id: int) -> HttpResponse:
    """Everything of a measure: the form, its milestones, sub-measures with their weights,
    funding applications, partners and links, and "still current"."""
    measure = measure_get_for_editor(user=request.user, measure_id=measure_id)
    details = selectors.measure_page(measure=measure)
    initial = MeasureForm.initial_from(
        measure,
        partner_ids=[pk for pk, _name, _url in details.partners],
        link_ids=details.link_ids,
    )
    form = _measure_form(request, measure, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            measure_update(
                actor=actor_of(request),
                measure_id=measure.pk,
                data=form.to_data(),
                links=form.to_links(),
            )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(request, _("Die Maßnahme ist gespeichert."))
            return redirect("strategy:measure_edit", measure_id=measure.pk)
    return _page(
        request,
        "strategy/measures/measure_edit.html",
        {
            "measure": measure,
            "details": details,
            "form": form,
            "staff": user_is_department_staff(user=request.user),
            "stale": measure_is_stale(measure=measure),
        },
        failed=bool(form.errors),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def measure_weights(request: HttpRequest, measure_id: int) -> HttpResponse:
    """The weights of all sub-measures at once (together 100 %)."""
    measure = measure_get_for_editor(user=request.user, measure_id=measure_id)
    children = list(Measure.objects.filter(parent=measure).order_by("code"))
    form = WeightsForm(_posted(request), children=children)
    if request.method == "POST" and form.is_valid():
        try:
            measure_weights_set(
                actor=actor_of(request), measure_id=measure.pk, weights=form.to_weights()
            )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(request, _("Die Gewichte sind gespeichert."))
            return redirect("strategy:measure_edit", measure_id=measure.pk)
    return _page(
        request,
        "strategy/measures/weights.html",
        {"measure": measure, "form": form, "children": children},
        failed=bool(form.errors),
    )


@staff_page
@require_POST
def measure_confirm_view(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = measure_get_for_editor(user=request.user, measure_id=measure_id)
    measure_confirm(actor=actor_of(request), measure_id=measure.pk)
    messages.success(request, _("Danke: Die Maßnahme ist als noch aktuell bestätigt."))
    return redirect("strategy:measure_edit", measure_id=measure.pk)


# ---- milestones ----------------------------------------------------------------------------


def _milestone_page(
    request: HttpRequest, measure: Measure, milestone: Milestone | None
) -> HttpResponse:
    initial = MilestoneForm.initial_from(milestone) if milestone is not None else {}
    posted = _posted(request)
    form = MilestoneForm(posted, request.FILES if posted is not None else None, initial=initial)
    if posted is not None and form.is_valid():
        try:
            if milestone is None:
                milestone_create(
                    actor=actor_of(request), measure_id=measure.pk, data=form.to_data()
                )
            else:
                milestone_update(
                    actor=actor_of(request), milestone_id=milestone.pk, data=form.to_data()
                )
        except StrategyError as error:
            form.show_error(error)
        else:
            messages.success(request, _("Der Meilenstein ist gespeichert."))
            return redirect("strategy:measure_edit", measure_id=measure.pk)
    return _page(
        request,
        "strategy/measures/milestone_form.html",
        {"measure": measure, "milestone": milestone, "form": form},
        failed=bool(form.errors),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def milestone_create_view(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = measure_get_for_editor(user=request.user, measure_id=measure_id)
    return _milestone_page(request, measure, None)


@staff_page
@require_http_methods(["GET", "POST"])
def milestone_edit(request: HttpRequest, milestone_id: int) -> HttpResponse:
    milestone = selectors.milestone_get_for_editor(user=request.user, milestone_id=milestone_id)
    return _milestone_page(request, milestone.measure, milestone)


EVIDENCE_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


@require_safe
@staff_page
def milestone_evidence(request: HttpRequest, milestone_id: int) -> HttpResponse:
    """A milestone's evidence document, for its editors, always as a download."""
    milestone = selectors.milestone_get_for_editor(user=request.user, milestone_id=milestone_id)
    if not milestone.evidence_file:
        raise Http404
    name = PurePosixPath(milestone.evidence_file.name).name
    suffix = PurePosixPath(name).suffix.lower()
    try:
        with milestone.evidence_file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(
        content, content_type=EVIDENCE_TYPES.get(suffix, "application/octet-stream")
    )
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=sanitise_filename(name))
        or "attachment"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


ADMIN = "verwaltung/"
urlpatterns: list[URLPattern] = [
    path(ADMIN, staff_home, name="staff_home"),
    path(ADMIN + "strategien/neu/", strategy_create_view, name="strategy_create"),
    path(ADMIN + "strategien/<int:strategy_id>/", strategy_edit, name="strategy_edit"),
    path(ADMIN + "strategien/<int:strategy_id>/handlungsfelder/", fields, name="fields"),
    path(ADMIN + "handlungsfelder/<int:field_id>/", field_edit, name="field_edit"),
    path(ADMIN + "strategien/<int:strategy_id>/massnahmen/", measure_list, name="measure_list"),
    path(ADMIN + "massnahmen/neu/", measure_create_view, name="measure_create"),
    path(ADMIN + "massnahmen/<int:measure_id>/", measure_edit, name="measure_edit"),
    path(ADMIN + "massnahmen/<int:measure_id>/gewichte/", measure_weights, name="measure_weights"),
    path(
        ADMIN + "massnahmen/<int:measure_id>/aktuell/", measure_confirm_view, name="measure_confirm"
    ),
    path(
        ADMIN + "massnahmen/<int:measure_id>/meilensteine/neu/",
        milestone_create_view,
        name="milestone_create",
    ),
    path(ADMIN + "meilensteine/<int:milestone_id>/", milestone_edit, name="milestone_edit"),
    path(
        ADMIN + "meilensteine/<int:milestone_id>/nachweis/",
        milestone_evidence,
        name="milestone_evidence",
    ),
]
