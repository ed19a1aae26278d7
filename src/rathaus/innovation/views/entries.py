"""Pages of the entries: a member of an organisation starts or continues its entry to a call
(``<slug>/teilnehmen/``), sees its organisations' entries (``beitraege/``) and an entry, where
the draft is edited (title, team, the phase's questions from the form engine), submitted or
withdrawn (``beitraege/<id>/``). Department staff check eligibility
(``beitraege/pruefung/<slug>/``) and decide who passes a phase
(``beitraege/phasen/<id>/entscheidung/``). Thin: selectors and services do the work."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from rathaus.accounts.models import User
from rathaus.accounts.selectors import user_is_department_staff
from rathaus.accounts.views import second_factor_required
from rathaus.forms import rendering
from rathaus.forms.questions import (
    Questions,
    answer_rows,
    questions_for,
    questions_of_version,
    repeat_change,
)
from rathaus.innovation.constants import EntryStatus, PhaseResult
from rathaus.innovation.forms_entries import (
    DecisionForm,
    EligibilityForm,
    EntryDetailsForm,
    EntryStartForm,
)
from rathaus.innovation.models import Entry, EntryPhase
from rathaus.innovation.selectors.calls import call_get_for_user
from rathaus.innovation.selectors.entries import (
    call_get_for_staff,
    entries_for_eligibility,
    entries_of_user,
    entries_of_user_for_call,
    entry_current_entry_phase,
    entry_get_for_user,
    entry_phase_answers,
    entry_team,
    first_phase,
    organisation_name,
    organisations_to_enter,
    phase_get_for_staff,
    phase_is_open,
    phase_standings,
    user_may_act_for_entry,
    with_organisation_names,
)
from rathaus.innovation.services.entries import (
    EntryError,
    entry_create,
    entry_eligibility_set,
    entry_submit,
    entry_update,
    entry_withdraw,
    phase_advance_by_rule,
    phase_decide,
)


def _staff(view: Any) -> Any:
    return login_required(second_factor_required(view))


def _require_staff(request: HttpRequest) -> None:
    if not user_is_department_staff(user=request.user):
        raise Http404


# ---- entrants ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def entry_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Start an entry for one of the user's organisations, or continue the one it has."""
    call = call_get_for_user(user=request.user, slug=slug)
    existing = entries_of_user_for_call(user=request.user, call=call)
    taken = {entry.organisation_id for entry in existing}
    organisations = [(pk, name) for pk, name in organisations_to_enter(user=request.user)]
    free = [(pk, name) for pk, name in organisations if pk not in taken]
    if request.method == "GET" and len(existing) == 1 and not free:
        return redirect("innovation:entry_detail", entry_id=existing[0].pk)
    phase = first_phase(call)
    now = timezone.now()
    form = EntryStartForm(request.POST or None, organisations=free)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = entry_create(
                    actor=cast(User, request.user),
                    call_id=call.pk,
                    organisation_id=form.cleaned_data["organisation"],
                    title=form.cleaned_data["title"],
                    team=form.cleaned_data["team"],
                )
            except EntryError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "Der Beitrag ist angelegt. Beantworten Sie jetzt die Fragen und reichen "
                        "Sie ihn ein."
                    ),
                )
                return redirect("innovation:entry_detail", entry_id=entry.pk)
        status = 422
    return render(
        request,
        "innovation/entries/start.html",
        {
            "call": call,
            "phase": phase,
            "open": phase is not None and phase_is_open(phase, now),
            "closed": phase is not None and now >= phase.closes_at,
            "existing": existing,
            "has_organisations": bool(organisations),
            "free": free,
            "form": form,
        },
        status=status,
    )


@login_required
@require_safe
def entry_list(request: HttpRequest) -> HttpResponse:
    entries = with_organisation_names(list(entries_of_user(user=request.user)[:200]))
    return render(request, "innovation/entries/list.html", {"entries": entries})


def _details_form(request: HttpRequest, entry: Entry) -> EntryDetailsForm:
    if request.method == "POST":
        return EntryDetailsForm(request.POST)
    return EntryDetailsForm(
        initial={"title": entry.title, "team": EntryDetailsForm.team_text(entry_team(entry))}
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = entry_get_for_user(user=request.user, entry_id=entry_id)
    member = user_may_act_for_entry(user=request.user, entry=entry)
    entry_phase = entry_current_entry_phase(entry)
    phase = entry.current_phase
    editable = bool(
        member
        and entry.status != EntryStatus.WITHDRAWN
        and entry_phase is not None
        and entry_phase.submitted_at is None
        and entry_phase.result == PhaseResult.OPEN
        and phase.decided_at is None
    )
    stored = entry_phase_answers(entry_phase) if entry_phase is not None else {"values": {}}
    questions = questions_for(phase.entry_form) if editable else None
    typed = request.POST.copy() if request.method == "POST" else None
    values: dict[str, Any] = stored.get("values") or {}
    errors: dict[str, str] = {}
    form = _details_form(request, entry)
    status = 200
    if request.method == "POST":
        if not member:
            raise Http404
        action = request.POST.get("action", "")
        actor = cast(User, request.user)
        if action == "withdraw":
            try:
                entry_withdraw(
                    actor=actor, entry_id=entry.pk, reason=request.POST.get("reason", "")
                )
            except EntryError as error:
                messages.error(request, str(error.message))
            else:
                messages.success(request, _("Der Beitrag ist zurückgezogen."))
            return redirect("innovation:entry_detail", entry_id=entry.pk)
        if questions is not None and typed is not None and action.startswith(("add:", "remove:")):
            repeat_change(typed, action)
            return _detail_page(
                request, entry, entry_phase, form, questions, typed, values, {}, True, 200
            )
        if action not in ("save", "submit"):
            raise Http404
        if form.is_valid():
            data = cast(QueryDict, typed)
            try:
                entry_update(
                    actor=actor,
                    entry_id=entry.pk,
                    title=form.cleaned_data["title"],
                    team=form.cleaned_data["team"],
                    data=data,
                )
                if action == "submit":
                    entry_submit(actor=actor, entry_id=entry.pk, data=data)
            except EntryError as error:
                errors = error.errors
                if error.field in form.fields:
                    form.add_error(error.field, error.message)
                elif not errors:
                    form.add_error(None, error.message)
                status = 409 if error.code in ("deadline", "decided", "submitted") else 422
            else:
                messages.success(
                    request,
                    _("Der Beitrag ist eingereicht.")
                    if action == "submit"
                    else _("Der Entwurf ist gespeichert."),
                )
                return redirect("innovation:entry_detail", entry_id=entry.pk)
        else:
            status = 422
            if questions is not None and action == "submit":
                errors = questions.clean(cast(QueryDict, typed)).errors
    return _detail_page(
        request, entry, entry_phase, form, questions, typed, values, errors, editable, status
    )


def _detail_page(
    request: HttpRequest,
    entry: Entry,
    entry_phase: EntryPhase | None,
    form: EntryDetailsForm,
    questions: Questions | None,
    typed: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    editable: bool,
    status: int,
) -> HttpResponse:
    nodes = questions.nodes(typed, values, errors) if questions is not None else []
    question_errors = rendering.error_list(nodes)
    phases = []
    for row in (
        EntryPhase.objects.filter(entry=entry).select_related("phase").order_by("phase__position")
    ):
        answers = entry_phase_answers(row)
        shown = None if editable and row.pk == getattr(entry_phase, "pk", None) else answers
        phases.append(
            {
                "row": row,
                "rows": answer_rows(
                    questions_of_version(answers.get("form_version")), answers["values"]
                )
                if shown is not None and row.submitted_at is not None
                else [],
            }
        )
    now = timezone.now()
    phase = entry.current_phase
    return render(
        request,
        "innovation/entries/detail.html",
        {
            "entry": entry,
            "organisation": organisation_name(entry.organisation_id),
            "team": entry_team(entry),
            "phase": phase,
            "entry_phase": entry_phase,
            "phases": phases,
            "open": phase_is_open(phase, now),
            "closed": now >= phase.closes_at,
            "editable": editable,
            "member": user_may_act_for_entry(user=request.user, entry=entry),
            "can_withdraw": entry.status != EntryStatus.WITHDRAWN
            and phase.decided_at is None
            and (entry_phase is None or entry_phase.result == PhaseResult.OPEN),
            "form": form,
            "questions": questions,
            "nodes": nodes,
            "question_errors": question_errors,
            "has_errors": bool(form.errors or question_errors),
        },
        status=status,
    )


# ---- staff ---------------------------------------------------------------------------------


@_staff
@require_http_methods(["GET", "POST"])
def entry_eligibility(request: HttpRequest, slug: str) -> HttpResponse:
    _require_staff(request)
    call = call_get_for_staff(user=request.user, slug=slug)
    entries = entries_for_eligibility(user=request.user, call=call)
    posted = None
    status = 200
    if request.method == "POST":
        entry_id = request.POST.get("entry", "")
        if not (entry_id.isascii() and entry_id.isdigit()):
            raise Http404
        posted = int(entry_id)
        form = EligibilityForm(request.POST, entry_id=posted)
        if form.is_valid():
            try:
                entry_eligibility_set(
                    actor=cast(User, request.user),
                    entry_id=posted,
                    eligible=form.cleaned_data["decision"] == "eligible",
                    reason=form.cleaned_data["reason"],
                )
            except EntryError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Die Prüfung ist gespeichert."))
                return redirect("innovation:entry_eligibility", slug=call.slug)
        status = 422
    rows = [
        {
            "entry": entry,
            "form": form
            if posted == entry.pk
            else EligibilityForm(
                entry_id=entry.pk,
                initial={
                    "decision": entry.eligibility if entry.eligibility != "pending" else None,
                    "reason": entry.eligibility_reason,
                },
            ),
        }
        for entry in entries
    ]
    return render(
        request,
        "innovation/entries/eligibility.html",
        {"call": call, "rows": rows},
        status=status,
    )


@_staff
@require_http_methods(["GET", "POST"])
def phase_decision(request: HttpRequest, phase_id: int) -> HttpResponse:
    _require_staff(request)
    phase = phase_get_for_staff(user=request.user, phase_id=phase_id)
    standings = phase_standings(phase, with_names=True)
    choices = [(s.entry.pk, s.entry.title) for s in standings if s.can_pass]
    form = DecisionForm(request.POST or None, choices=choices)
    status = 200
    problem = ""
    if request.method == "POST":
        actor = cast(User, request.user)
        action = request.POST.get("action", "")
        try:
            if action == "rule":
                phase_advance_by_rule(actor=actor, phase_id=phase.pk)
            elif action == "decide":
                if not form.is_valid():
                    raise EntryError("", code="form")
                phase_decide(
                    actor=actor,
                    phase_id=phase.pk,
                    advanced_entry_ids=form.cleaned_data["advanced"],
                    reason=form.cleaned_data["reason"],
                )
            else:
                raise Http404
        except EntryError as error:
            status = 409 if error.code == "decided" else 422
            if error.code != "form":
                if action == "decide" and error.field in form.fields:
                    form.add_error(error.field, error.message)
                else:
                    problem = str(error.message)
        else:
            messages.success(
                request, _("Die Phase ist entschieden. Alle Teilnehmenden bekommen eine E-Mail.")
            )
            return redirect("innovation:phase_decision", phase_id=phase.pk)
    return render(
        request,
        "innovation/entries/decision.html",
        {
            "phase": phase,
            "call": phase.call,
            "standings": standings,
            "form": form,
            "problem": problem,
            "decided": phase.decided_at is not None,
            "closed": timezone.now() >= phase.closes_at,
        },
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("beitraege/", entry_list, name="entry_list"),
    path("beitraege/<int:entry_id>/", entry_detail, name="entry_detail"),
    path("beitraege/pruefung/<slug:slug>/", entry_eligibility, name="entry_eligibility"),
    path("beitraege/phasen/<int:phase_id>/entscheidung/", phase_decision, name="phase_decision"),
    path("<slug:slug>/teilnehmen/", entry_start, name="entry_start"),
]
