"""Department staff prepare and run calls under /wettbewerbe/verwaltung/: the list of calls,
a call's text and settings with its phases, criteria and jury, publishing (with what still
keeps a call from it), and after publication changes with a public reason (amendments).
Thin: the selectors (selectors/staff.py) gate and read, the services (services/calls.py)
check the rules, write and audit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.models import User
from rathaus.accounts.views import second_factor_required
from rathaus.innovation.constants import CallStatus
from rathaus.innovation.forms_calls import (
    AmendmentReasonMixin,
    CallForm,
    CriterionForm,
    JuryForm,
    PhaseForm,
    ReasonForm,
)
from rathaus.innovation.models import Call
from rathaus.innovation.selectors.staff import (
    call_get_for_staff,
    call_list_for_staff,
    criterion_get_for_staff,
    entry_form_choices,
    jury_for_staff,
    jury_member_get_for_staff,
    organisation_choices,
    phase_get_for_staff,
    user_by_email_for_staff,
)
from rathaus.innovation.services.calls import (
    CallError,
    call_create,
    call_problems,
    call_publish,
    call_update,
    criterion_delete,
    criterion_save,
    jury_member_remove,
    jury_member_save,
    number_text,
    phase_save,
)

PAGE_SIZE = 20


def _staff(view: Any) -> Any:
    return login_required(second_factor_required(view))


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _posted(request: HttpRequest) -> Any:
    """The POST data for a bound form (also when empty: a confirmation posts no fields)."""
    return request.POST if request.method == "POST" else None


def _published(call: Call) -> bool:
    return call.status != CallStatus.DRAFT


def _changed_message(call: Call) -> str:
    if _published(call):
        return _("Die Änderung ist gespeichert und wird auf der Seite des Wettbewerbs gezeigt.")
    return _("Die Änderungen sind gespeichert.")


def _weights_total(criteria: list[Any]) -> str:
    return number_text(sum((criterion.weight for criterion in criteria), start=Decimal(0)))


def _form_page(
    request: HttpRequest, template: str, form: AmendmentReasonMixin, context: dict[str, Any]
) -> HttpResponse:
    return render(request, template, {"form": form, **context}, status=422 if form.errors else 200)


# ---- calls ---------------------------------------------------------------------------------


@_staff
@require_safe
def call_staff_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(call_list_for_staff(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("seite")
    )
    # what keeps a draft from publication: a few queries per draft of this page only
    rows = [
        {"call": call, "problems": call_problems(call) if not _published(call) else []}
        for call in page.object_list
    ]
    return render(request, "innovation/staff/call_list.html", {"page": page, "rows": rows})


@_staff
@require_http_methods(["GET", "POST"])
def call_staff_create(request: HttpRequest) -> HttpResponse:
    form = CallForm(
        _posted(request),
        organisations=organisation_choices(user=request.user),
        initial={"evaluators_per_entry": 3, "blind_scoring": True, "disagreement_spread": 20},
    )
    if request.method == "POST" and form.is_valid():
        try:
            call = call_create(actor=_actor(request), data=form.to_data())
        except CallError as error:
            form.show_call_error(error)
        else:
            messages.success(request, _("Der Wettbewerb ist als Entwurf angelegt."))
            return redirect("innovation:staff_call_edit", call_id=call.pk)
    return _form_page(request, "innovation/staff/call_edit.html", form, {"call": None})


@_staff
@require_http_methods(["GET", "POST"])
def call_staff_edit(request: HttpRequest, call_id: int) -> HttpResponse:
    call = call_get_for_staff(user=request.user, call_id=call_id)
    initial = CallForm.initial_from(call)
    form = CallForm(
        _posted(request),
        organisations=organisation_choices(
            user=request.user, keep=[*call.organiser_ids, *call.partner_ids]
        ),
        published=_published(call),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            call_update(
                actor=_actor(request), call_id=call.pk, data=form.to_data(), reason=form.reason
            )
        except CallError as error:
            form.show_call_error(error)
        else:
            messages.success(request, _changed_message(call))
            return redirect("innovation:staff_call_edit", call_id=call.pk)
    phases = list(call.phases.all())
    return _form_page(
        request,
        "innovation/staff/call_edit.html",
        form,
        {
            "call": call,
            "published": _published(call),
            "phases": [
                {
                    "phase": phase,
                    "criteria": list(phase.criteria.all()),
                    "total": _weights_total(list(phase.criteria.all())),
                }
                for phase in phases
            ],
            "jury": [member for member in jury_for_staff(user=request.user, call_id=call.pk)],
            "problems": call_problems(call) if not _published(call) else [],
        },
    )


@_staff
@require_POST
def call_staff_publish(request: HttpRequest, call_id: int) -> HttpResponse:
    call = call_get_for_staff(user=request.user, call_id=call_id)
    try:
        call_publish(actor=_actor(request), call_id=call.pk)
    except CallError as error:
        if error.code == "incomplete":
            # the page lists what is missing, one problem a line
            messages.error(request, _("Der Wettbewerb kann noch nicht veröffentlicht werden."))
        else:
            messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _(
                "Der Wettbewerb ist veröffentlicht. Seine Regeln ändern sich ab jetzt nur "
                "noch mit öffentlicher Begründung."
            ),
        )
    return redirect("innovation:staff_call_edit", call_id=call.pk)


# ---- phases --------------------------------------------------------------------------------


@_staff
@require_http_methods(["GET", "POST"])
def phase_staff_edit(
    request: HttpRequest, call_id: int, phase_id: int | None = None
) -> HttpResponse:
    """Add a phase (``phase_id`` None) or change one, with its criteria listed."""
    call = call_get_for_staff(user=request.user, call_id=call_id)
    phase = (
        phase_get_for_staff(user=request.user, call_id=call.pk, phase_id=phase_id)
        if phase_id is not None
        else None
    )
    form = PhaseForm(
        _posted(request),
        form_choices=entry_form_choices(user=request.user),
        published=_published(call),
        initial=PhaseForm.initial_from(phase) if phase is not None else {"advance_count": 10},
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = phase_save(
                actor=_actor(request),
                call_id=call.pk,
                data=form.to_data(),
                phase_id=phase.pk if phase is not None else None,
                reason=form.reason,
            )
        except CallError as error:
            form.show_call_error(error)
        else:
            if phase is None:
                messages.success(request, _("Die Phase ist angelegt. Jetzt fehlen ihre Kriterien."))
            else:
                messages.success(request, _changed_message(call))
            return redirect("innovation:staff_phase_edit", call_id=call.pk, phase_id=saved.pk)
    criteria = list(phase.criteria.all()) if phase is not None else []
    return _form_page(
        request,
        "innovation/staff/phase_edit.html",
        form,
        {
            "call": call,
            "phase": phase,
            "published": _published(call),
            "criteria": criteria,
            "total": _weights_total(criteria),
        },
    )


# ---- criteria ------------------------------------------------------------------------------


@_staff
@require_http_methods(["GET", "POST"])
def criterion_staff_edit(
    request: HttpRequest, call_id: int, phase_id: int, criterion_id: int | None = None
) -> HttpResponse:
    """Add a criterion to a phase (``criterion_id`` None) or change one."""
    phase = phase_get_for_staff(user=request.user, call_id=call_id, phase_id=phase_id)
    call = phase.call
    criterion = (
        criterion_get_for_staff(
            user=request.user, call_id=call.pk, phase_id=phase.pk, criterion_id=criterion_id
        )
        if criterion_id is not None
        else None
    )
    form = CriterionForm(
        _posted(request),
        published=_published(call),
        initial=CriterionForm.initial_from(criterion) if criterion is not None else {},
    )
    if request.method == "POST" and form.is_valid():
        try:
            criterion_save(
                actor=_actor(request),
                phase_id=phase.pk,
                data=form.to_data(),
                criterion_id=criterion.pk if criterion is not None else None,
                reason=form.reason,
            )
        except CallError as error:
            form.show_call_error(error)
        else:
            messages.success(
                request,
                _("Das Kriterium ist angelegt.") if criterion is None else _changed_message(call),
            )
            return redirect("innovation:staff_phase_edit", call_id=call.pk, phase_id=phase.pk)
    return _form_page(
        request,
        "innovation/staff/criterion_edit.html",
        form,
        {"call": call, "phase": phase, "criterion": criterion, "published": _published(call)},
    )


@_staff
@require_http_methods(["GET", "POST"])
def criterion_staff_delete(
    request: HttpRequest, call_id: int, phase_id: int, criterion_id: int
) -> HttpResponse:
    """GET asks (with the reason field after publication), POST deletes."""
    criterion = criterion_get_for_staff(
        user=request.user, call_id=call_id, phase_id=phase_id, criterion_id=criterion_id
    )
    phase = criterion.phase
    call = phase.call
    form = ReasonForm(_posted(request), published=_published(call))
    if request.method == "POST" and form.is_valid():
        try:
            criterion_delete(actor=_actor(request), criterion_id=criterion.pk, reason=form.reason)
        except CallError as error:
            form.show_call_error(error)
        else:
            messages.success(request, _("Das Kriterium ist gelöscht."))
            return redirect("innovation:staff_phase_edit", call_id=call.pk, phase_id=phase.pk)
    return _form_page(
        request,
        "innovation/staff/criterion_delete.html",
        form,
        {"call": call, "phase": phase, "criterion": criterion, "published": _published(call)},
    )


# ---- the jury ------------------------------------------------------------------------------


@_staff
@require_http_methods(["GET", "POST"])
def jury_staff(request: HttpRequest, call_id: int) -> HttpResponse:
    """The call's jury, and a form to put an account on it (or change a member's entry)."""
    call = call_get_for_staff(user=request.user, call_id=call_id)
    jury = jury_for_staff(user=request.user, call_id=call.pk)
    organisations = organisation_choices(
        user=request.user, keep=[member.organisation_id for member in jury]
    )
    form = JuryForm(_posted(request), organisations=organisations, published=_published(call))
    if request.method == "POST" and form.is_valid():
        account = user_by_email_for_staff(user=request.user, email=form.cleaned_data["email"])
        if account is None:
            form.add_error("email", _("Zu dieser E-Mail-Adresse gibt es kein Konto."))
        else:
            try:
                jury_member_save(
                    actor=_actor(request),
                    call_id=call.pk,
                    data=form.to_data(user=account),
                    reason=form.reason,
                )
            except CallError as error:
                form.show_call_error(error)
            else:
                messages.success(request, _("Die Jury ist gespeichert."))
                return redirect("innovation:staff_jury", call_id=call.pk)
    names = dict(organisations)
    return _form_page(
        request,
        "innovation/staff/jury.html",
        form,
        {
            "call": call,
            "published": _published(call),
            "active": [
                {"member": m, "organisation": names.get(m.organisation_id or 0, "")}
                for m in jury
                if m.active
            ],
            "former": [m for m in jury if not m.active],
        },
    )


@_staff
@require_http_methods(["GET", "POST"])
def jury_staff_remove(request: HttpRequest, call_id: int, member_id: int) -> HttpResponse:
    """GET asks (with the reason field after publication), POST takes the person off."""
    call = call_get_for_staff(user=request.user, call_id=call_id)
    member = jury_member_get_for_staff(user=request.user, call_id=call.pk, member_id=member_id)
    form = ReasonForm(_posted(request), published=_published(call))
    if request.method == "POST" and form.is_valid():
        try:
            jury_member_remove(actor=_actor(request), member_id=member.pk, reason=form.reason)
        except CallError as error:
            form.show_call_error(error)
        else:
            messages.success(
                request,
                _("%(name)s ist nicht mehr in der Jury.") % {"name": member.public_name},
            )
            return redirect("innovation:staff_jury", call_id=call.pk)
    return _form_page(
        request,
        "innovation/staff/jury_remove.html",
        form,
        {"call": call, "member": member, "published": _published(call)},
    )


urlpatterns: list[URLPattern] = [
    path("verwaltung/", call_staff_list, name="staff_call_list"),
    path("verwaltung/neu/", call_staff_create, name="staff_call_create"),
    path("verwaltung/<int:call_id>/", call_staff_edit, name="staff_call_edit"),
    path(
        "verwaltung/<int:call_id>/veroeffentlichen/",
        call_staff_publish,
        name="staff_call_publish",
    ),
    path("verwaltung/<int:call_id>/phasen/neu/", phase_staff_edit, name="staff_phase_create"),
    path(
        "verwaltung/<int:call_id>/phasen/<int:phase_id>/",
        phase_staff_edit,
        name="staff_phase_edit",
    ),
    path(
        "verwaltung/<int:call_id>/phasen/<int:phase_id>/kriterien/neu/",
        criterion_staff_edit,
        name="staff_criterion_create",
    ),
    path(
        "verwaltung/<int:call_id>/phasen/<int:phase_id>/kriterien/<int:criterion_id>/",
        criterion_staff_edit,
        name="staff_criterion_edit",
    ),
    path(
        "verwaltung/<int:call_id>/phasen/<int:phase_id>/kriterien/<int:criterion_id>/loeschen/",
        criterion_staff_delete,
        name="staff_criterion_delete",
    ),
    path("verwaltung/<int:call_id>/jury/", jury_staff, name="staff_jury"),
    path(
        "verwaltung/<int:call_id>/jury/<int:member_id>/entfernen/",
        jury_staff_remove,
        name="staff_jury_remove",
    ),
]
