"""The jury's pages under /wettbewerbe/jury/: an evaluator's assignments, the declaration of
conflicts before an entry is shown, the entry and the score form; the staff's pages under
jury/verwaltung/: assigning evaluators per phase (by hand and automatically), deciding
conflicts, and the consensus per entry (also for the jury chair). Thin: selectors and
services do the work."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.models import User
from rathaus.accounts.views import second_factor_required
from rathaus.innovation.constants import AssignmentState
from rathaus.innovation.forms_jury import (
    AssignForm,
    ConsensusForm,
    DecisionForm,
    DeclarationForm,
    ScoreForm,
)
from rathaus.innovation.models import JuryMember
from rathaus.innovation.selectors import jury as selectors
from rathaus.innovation.selectors.entries import organisation_name
from rathaus.innovation.services import jury as services
from rathaus.innovation.services.calls import number_text


def _signed_in(view: Any) -> Any:
    return login_required(second_factor_required(view))


def _put_errors(form: Any, error: services.JuryError | services.ScoreErrors) -> None:
    if isinstance(error, services.ScoreErrors):
        for name, text in error.errors.items():
            form.add_error(name if name in form.fields else None, text)
        return
    form.add_error(error.field if error.field in form.fields else None, error.message)


# ---- the evaluator -----------------------------------------------------------------------------


@_signed_in
@require_safe
def my_assignments(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "innovation/jury/my_assignments.html",
        {
            "assignments": selectors.assignments_of_user(user=request.user),
            "consensus": selectors.consensus_list_for_user(user=request.user),
        },
    )


@_signed_in
@require_http_methods(["GET", "POST"])
def assignment_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Before a declaration: the declaration page (the entry's title and organisation only).
    Blocked or recused: the state, never the content. Cleared: the entry and the score form;
    submitted: the entry, the own scores and (blind scoring) now the others'."""
    user = cast(User, request.user)
    assignment = selectors.assignment_get_for_evaluator(user=user, assignment_id=assignment_id)
    parties = selectors.entry_parties(assignment)
    if selectors.assignment_needs_declaration(assignment):
        return _declare(request, assignment, parties)
    if not selectors.assignment_shows_entry(assignment):
        return render(
            request,
            "innovation/jury/waiting.html",
            {"assignment": assignment, "parties": parties},
            status=403 if request.method == "POST" else 200,
        )
    content = selectors.entry_content_for_evaluator(user=user, assignment_id=assignment.pk)
    criteria = selectors.criteria_of(assignment.entry_phase.phase)
    editable = assignment.state == AssignmentState.CLEARED
    own = selectors.own_scores(assignment)
    form = ScoreForm(
        request.POST if request.method == "POST" and editable else None,
        criteria=criteria,
        initial=ScoreForm.initial_from(own),
    )
    status = 200
    if request.method == "POST":
        if not editable:
            status = 409
        elif form.is_valid():
            submit = request.POST.get("action") == "submit"
            try:
                services.assignment_score(
                    actor=user,
                    assignment_id=assignment.pk,
                    values=form.values(),
                    comments=form.comments(),
                    submit=submit,
                )
            except (services.JuryError, services.ScoreErrors) as error:
                _put_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Ihre Bewertung ist abgegeben.")
                    if submit
                    else _("Ihre Bewertung ist als Entwurf gespeichert."),
                )
                return redirect("innovation:jury_assignment", assignment_id=assignment.pk)
        if form.errors:
            status = 422
    return render(
        request,
        "innovation/jury/assignment.html",
        {
            "assignment": assignment,
            "content": content,
            "form": form,
            "editable": editable,
            "own": [(criterion, *own.get(criterion.pk, (None, ""))) for criterion in criteria],
            "others": selectors.others_scores_for_evaluator(
                assignment=assignment, criteria=criteria
            ),
        },
        status=status,
    )


def _declare(request: HttpRequest, assignment: Any, parties: Any) -> HttpResponse:
    form = DeclarationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        conflict = form.cleaned_data["conflict"] == "yes"
        try:
            services.assignment_declare(
                actor=cast(User, request.user),
                assignment_id=assignment.pk,
                conflict=conflict,
                note=form.cleaned_data["note"],
            )
        except services.JuryError as error:
            _put_errors(form, error)
        else:
            messages.success(
                request,
                _("Ihre Erklärung ist gespeichert. Die Verwaltung entscheidet über den Konflikt.")
                if conflict
                else _("Ihre Erklärung ist gespeichert. Sie können den Beitrag jetzt bewerten."),
            )
            return redirect("innovation:jury_assignment", assignment_id=assignment.pk)
    return render(
        request,
        "innovation/jury/declare.html",
        {"assignment": assignment, "parties": parties, "form": form},
        status=422 if form.errors else 200,
    )


# ---- staff: assigning --------------------------------------------------------------------------


@_signed_in
@require_safe
def staff_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "innovation/jury/staff_index.html",
        {
            "phases": selectors.phases_for_staff(user=request.user),
            "blocked": selectors.assignments_blocked(user=request.user),
        },
    )


@_signed_in
@require_safe
def staff_phase(request: HttpRequest, phase_id: int) -> HttpResponse:
    phase = selectors.phase_get_for_staff(user=request.user, phase_id=phase_id)
    return render(
        request,
        "innovation/jury/staff_phase.html",
        {
            "phase": phase,
            "overview": selectors.phase_overview(phase=phase, page_number=request.GET.get("seite")),
        },
    )


@_signed_in
@require_POST
def staff_phase_auto(request: HttpRequest, phase_id: int) -> HttpResponse:
    phase = selectors.phase_get_for_staff(user=request.user, phase_id=phase_id)
    try:
        result = services.assignments_auto(actor=cast(User, request.user), phase_id=phase.pk)
    except services.JuryError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(created)d Zuweisungen angelegt.") % {"created": result.created},
        )
        if result.short:
            messages.warning(
                request,
                _(
                    "%(count)d Beiträge haben weniger Jurymitglieder als nötig: Es gibt nicht "
                    "genug Mitglieder ohne Interessenkonflikt."
                )
                % {"count": len(result.short)},
            )
    return redirect("innovation:jury_staff_phase", phase_id=phase.pk)


@_signed_in
@require_http_methods(["GET", "POST"])
def staff_entry(request: HttpRequest, entry_phase_id: int) -> HttpResponse:
    """One entry of a phase: its assignments and assigning more jury members by hand."""
    entry_phase = selectors.entry_phase_get_for_consensus(
        user=request.user, entry_phase_id=entry_phase_id
    )
    phase = selectors.phase_get_for_staff(user=request.user, phase_id=entry_phase.phase_id)
    assigned = entry_phase.assignments.values("evaluator_id")
    members = JuryMember.objects.filter(call_id=phase.call_id, active=True).exclude(pk__in=assigned)
    form = AssignForm(request.POST or None, members=members.order_by("public_name"))
    if request.method == "POST" and form.is_valid():
        try:
            result = services.assignments_add(
                actor=cast(User, request.user),
                entry_phase_id=entry_phase.pk,
                evaluator_ids=[m.pk for m in form.cleaned_data["evaluators"]],
            )
        except services.JuryError as error:
            _put_errors(form, error)
        else:
            messages.success(
                request, _("%(created)d Zuweisungen angelegt.") % {"created": result.created}
            )
            if result.blocked:
                messages.warning(
                    request,
                    _(
                        "%(count)d davon sind wegen eines Interessenkonflikts aus dem "
                        "Verzeichnis gesperrt, bis Sie entscheiden."
                    )
                    % {"count": result.blocked},
                )
            return redirect("innovation:jury_staff_entry", entry_phase_id=entry_phase.pk)
    return render(
        request,
        "innovation/jury/staff_entry.html",
        {
            "entry_phase": entry_phase,
            "phase": phase,
            "organisation": organisation_name(entry_phase.entry.organisation_id),
            "assignments": entry_phase.assignments.select_related("evaluator").order_by(
                "evaluator__public_name", "pk"
            ),
            "form": form,
        },
        status=422 if form.errors else 200,
    )


@_signed_in
@require_http_methods(["GET", "POST"])
def staff_decide(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.assignment_get_for_staff(user=request.user, assignment_id=assignment_id)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assignment_decide(
                actor=cast(User, request.user),
                assignment_id=assignment.pk,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except services.JuryError as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("Die Entscheidung ist gespeichert."))
            return redirect("innovation:jury_staff_index")
    return render(
        request,
        "innovation/jury/staff_decide.html",
        {
            "assignment": assignment,
            "parties": selectors.entry_parties(assignment),
            "form": form,
        },
        status=422 if form.errors else 200,
    )


# ---- consensus ---------------------------------------------------------------------------------


@_signed_in
@require_http_methods(["GET", "POST"])
def consensus(request: HttpRequest, entry_phase_id: int) -> HttpResponse:
    entry_phase = selectors.entry_phase_get_for_consensus(
        user=request.user, entry_phase_id=entry_phase_id
    )
    sheet = selectors.consensus_sheet(entry_phase=entry_phase)
    initial: dict[str, Any] = {"token": sheet.token, "reason": entry_phase.consensus_reason}
    for row in sheet.rows:
        value = row.consensus if row.consensus is not None else row.mean
        if value is not None:
            initial[services.value_field(row.criterion.pk)] = number_text(value)
        initial[f"reason_{row.criterion.pk}"] = row.reason
    form = ConsensusForm(
        request.POST or None, criteria=[row.criterion for row in sheet.rows], initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consensus_record(
                actor=cast(User, request.user),
                entry_phase_id=entry_phase.pk,
                values=form.values(),
                reasons=form.reasons(),
                reason=form.cleaned_data["reason"],
                expected=form.cleaned_data["token"],
            )
        except (services.JuryError, services.ScoreErrors) as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("Der Konsens ist gespeichert."))
            return redirect("innovation:jury_consensus", entry_phase_id=entry_phase.pk)
    return render(
        request,
        "innovation/jury/consensus.html",
        {"entry_phase": entry_phase, "sheet": sheet, "form": form},
        status=422 if form.errors else 200,
    )


@_signed_in
@require_POST
def consensus_mean(request: HttpRequest, entry_phase_id: int) -> HttpResponse:
    entry_phase = selectors.entry_phase_get_for_consensus(
        user=request.user, entry_phase_id=entry_phase_id
    )
    try:
        services.consensus_take_mean(
            actor=cast(User, request.user),
            entry_phase_id=entry_phase.pk,
            expected=request.POST.get("token"),
        )
    except (services.JuryError, services.ScoreErrors) as error:
        text = (
            str(error.message)
            if isinstance(error, services.JuryError)
            else " ".join(error.errors.values())
        )
        messages.error(request, text)
    else:
        messages.success(request, _("Der Mittelwert ist als Konsens gespeichert."))
    return redirect("innovation:jury_consensus", entry_phase_id=entry_phase.pk)


urlpatterns: list[URLPattern] = [
    path("jury/", my_assignments, name="jury_assignments"),
    path("jury/<int:assignment_id>/", assignment_detail, name="jury_assignment"),
    path("jury/verwaltung/", staff_index, name="jury_staff_index"),
    path("jury/verwaltung/phase/<int:phase_id>/", staff_phase, name="jury_staff_phase"),
    path(
        "jury/verwaltung/phase/<int:phase_id>/automatisch/",
        staff_phase_auto,
        name="jury_staff_auto",
    ),
    path(
        "jury/verwaltung/beitrag/<int:entry_phase_id>/",
        staff_entry,
        name="jury_staff_entry",
    ),
    path(
        "jury/verwaltung/konflikte/<int:assignment_id>/",
        staff_decide,
        name="jury_staff_decide",
    ),
    path(
        "jury/verwaltung/konsens/<int:entry_phase_id>/",
        consensus,
        name="jury_consensus",
    ),
    path(
        "jury/verwaltung/konsens/<int:entry_phase_id>/mittelwert/",
        consensus_mean,
        name="jury_consensus_mean",
    ),
]
