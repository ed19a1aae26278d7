"""Filling in a form: start page, one step per page, summary. Server-side and without
JavaScript; what was typed is kept on every way through (next, back, errors, add/remove)."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.core.errors import error_response
from rathaus.core.jsondata import substitute
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.forms import rendering
from rathaus.forms.definition import FieldSpec, FormDefinition, Group, Item, Step
from rathaus.forms.models import FormDraft, FormVersion
from rathaus.forms.schema import validation_errors
from rathaus.forms.selectors import (
    definition_of,
    draft_for_token,
    draft_get_for_user,
    draft_upload_values,
    drafts_for_user,
    for_schema,
    form_list_published,
    form_published_version,
    places_for_postcode,
)
from rathaus.forms.services import (
    draft_attach_upload,
    draft_data,
    draft_from_resume_token,
    draft_save_step,
    draft_send_resume_link,
    draft_start,
)
from rathaus.forms.streets import suggest
from rathaus.forms.uploads import UploadRejected
from rathaus.forms.validation import StepResult, clean_items

SESSION_KEY = "rathaus_form_drafts"


class ResumeForm(django_forms.Form):
    email = django_forms.EmailField(
        label=gettext_lazy("E-Mail-Adresse"),
        widget=django_forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": gettext_lazy("Bitte geben Sie Ihre E-Mail-Adresse ein.")},
    )


def _session_token(request: HttpRequest, slug: str) -> str | None:
    token = request.session.get(SESSION_KEY, {}).get(slug)
    return str(token) if token else None


def _draft_or_none(request: HttpRequest, version: FormVersion) -> FormDraft | None:
    return draft_for_token(token=_session_token(request, version.form.slug), version=version)


def session_draft(
    request: HttpRequest, version: FormVersion
) -> tuple[str | None, FormDraft | None]:
    """The draft this browser is filling in for ``version`` (for the submit view): the token
    the session holds and the draft, if it still exists."""
    token = _session_token(request, version.form.slug)
    return token, draft_for_token(token=token, version=version)


@require_safe
def street_suggestions(request: HttpRequest) -> HttpResponse:
    """<option>s for the street field's <datalist> (htmx asks as the person types)."""
    if ratelimit_exceeded(scope="forms-streets", key=client_address(request), rate="600/m"):
        return error_response(request, 429)
    typed = str(next((value for value in request.GET.values() if value), ""))[:100]
    return render(request, "forms/streets.html", {"streets": suggest(typed)})


@require_safe
def place_lookup(request: HttpRequest) -> HttpResponse:
    """The places of a postcode as JSON (the postcode field asks as the person types)."""
    if ratelimit_exceeded(scope="forms-places", key=client_address(request), rate="600/m"):
        return error_response(request, 429)
    postcode = str(request.GET.get("plz", "")).strip()[:10]
    return JsonResponse({"postcode": postcode, "places": places_for_postcode(postcode)})


@require_safe
def form_index(request: HttpRequest) -> HttpResponse:
    """All published forms and, for a logged-in person, their unfinished drafts."""
    return render(
        request,
        "forms/index.html",
        {"forms": form_list_published(), "drafts": drafts_for_user(user=request.user)},
    )


@require_safe
def form_start(request: HttpRequest, slug: str) -> HttpResponse:
    version = form_published_version(slug=slug)
    definition = definition_of(version)
    return render(
        request,
        "forms/start.html",
        {
            "version": version,
            "title": rendering.text(definition.title),
            "steps": [rendering.text(step.title) for step in definition.steps],
            "draft": _draft_or_none(request, version),
        },
    )


@require_POST
def form_begin(request: HttpRequest, slug: str) -> HttpResponse:
    version = form_published_version(slug=slug)
    draft = _draft_or_none(request, version)
    if draft is None:
        draft = draft_start(version=version, user=request.user)  # type: ignore[arg-type]
        _bind(request, draft)
    return redirect("forms:step", slug=slug, number=draft.step_reached)


def _field_ids(items: list[Item]) -> set[str]:
    ids: set[str] = set()
    for item in items:
        if isinstance(item, Group) and item.repeat is None:
            ids |= _field_ids(item.items)
        elif not isinstance(item, Step) and item.kind != "text":
            ids.add(item.id)
    return ids


def _file_slots(items: list[Item], typed: Any, prefix: str = "") -> list[tuple[str, FieldSpec]]:
    """(input name, field) of every file input on the page, also in each repeated entry."""
    found: list[tuple[str, FieldSpec]] = []
    for item in items:
        if isinstance(item, Group) and item.repeat is None:
            found += _file_slots(item.items, typed, prefix)
        elif isinstance(item, Group):
            count = str(typed.get(f"{prefix}{item.id}__count") or "0")
            for index in range(min(int(count) if count.isdigit() else 0, 50)):
                found += _file_slots(item.items, typed, f"{prefix}{item.id}__{index}__")
        elif isinstance(item, FieldSpec) and item.type == "file":
            found.append((f"{prefix}{item.id}", item))
    return found


def _attach_files(
    request: HttpRequest,
    draft: FormDraft,
    step: Step,
    typed: Any,
    data: dict[str, Any],
    errors: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Check and store the files sent with a step. Every file input then holds, in ``typed``,
    the reference of its file: the new one, or the one kept from before (named by the page's
    hidden ``__kept`` input, accepted only when it belongs to this draft). Returns the values
    to keep by reference."""
    known = draft_upload_values(draft=draft)
    for name, spec in _file_slots(step.items, typed):
        posted_kept = str(typed.get(f"{name}__kept", ""))
        typed.pop(name, None)  # a file arrives as a file, never as text
        value = None
        upload = request.FILES.get(name)
        if upload is not None:
            try:
                value = draft_attach_upload(draft=draft, spec=spec, file=upload)
                known[value["upload"]] = value
            except UploadRejected as exc:
                errors[name] = str(exc)
        if value is None:
            saved = data.get(spec.id) if name == spec.id else None
            fallback = saved.get("upload", "") if isinstance(saved, dict) else ""
            value = known.get(posted_kept) or known.get(fallback)
        if value is not None:
            typed[name] = value["upload"]
    return known


@require_http_methods(["GET", "POST"])
def form_step(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = form_published_version(slug=slug)
    draft = _draft_or_none(request, version)
    if draft is None:
        return redirect("forms:start", slug=slug)
    definition = definition_of(version)
    furthest = min(draft.step_reached, len(definition.steps))
    if not 1 <= number <= len(definition.steps):
        return redirect("forms:step", slug=slug, number=furthest)
    if number > furthest:  # a step skipped by editing the address
        messages.info(request, _("Bitte füllen Sie die Schritte der Reihe nach aus."))
        return redirect("forms:step", slug=slug, number=furthest)
    step = definition.steps[number - 1]
    data = draft_data(draft)
    typed: Any = None
    errors: dict[str, str] = {}
    counts: dict[str, int] = {}
    if request.method == "POST":
        action = request.POST.get("action", "next")
        typed = request.POST.copy()
        known_files = _attach_files(request, draft, step, typed, data, errors)
        for key, value in typed.items():
            if key.endswith("__count") and value.isdigit():
                counts[key.removesuffix("__count")] = min(int(value), 50)
        if action.startswith("add:"):
            counts[action[4:]] = counts.get(action[4:], 0) + 1
        elif action.startswith("remove:"):
            group, _sep, index = action[7:].rpartition(":")
            counts[group] = max(counts.get(group, 1) - 1, 0)
            _shift_entries(typed, group, int(index) if index.isdigit() else 0, counts[group])
        for key, value in counts.items():
            typed[f"{key}__count"] = str(value)
        result = StepResult()
        clean_items(step.items, typed, data, definition, result)
        result.values = substitute(result.values, known_files)  # files keep their metadata
        errors = {**result.errors, **errors}
        if action == "back":
            valid = {k: v for k, v in result.values.items() if k not in errors}
            draft_save_step(draft=draft, values=valid, field_ids=set(valid), step_reached=number)
            return redirect("forms:step", slug=slug, number=max(number - 1, 1))
        if action == "next" and not errors:
            draft_save_step(
                draft=draft,
                values=result.values,
                field_ids=_field_ids(step.items),
                step_reached=number + 1 if number < len(definition.steps) else number,
            )
            if number < len(definition.steps):
                return redirect("forms:step", slug=slug, number=number + 1)
            return redirect("forms:summary", slug=slug)
        if action != "next":
            errors = {}  # adding or removing an entry is not a check yet
        data = {**data, **result.values}
    nodes = rendering.build(step.items, definition, data, typed, errors, counts)
    return render(
        request,
        "forms/step.html",
        {
            "version": version,
            "title": rendering.text(definition.title),
            "step_title": rendering.text(step.title),
            "number": number,
            "total": len(definition.steps),
            "steps": [rendering.text(s.title) for s in definition.steps],
            "nodes": nodes,
            "errors": rendering.error_list(nodes),
        },
        status=422 if errors else 200,
    )


def _shift_entries(typed: Any, group: str, removed: int, remaining: int) -> None:
    """Move the inputs of the entries after a removed one up by one."""
    prefix = f"{group}__"
    entries: dict[int, dict[str, list[str]]] = {}
    for key in list(typed.keys()):
        if key.startswith(prefix) and key != f"{group}__count":
            index_text, _sep, rest = key[len(prefix) :].partition("__")
            if index_text.isdigit():
                entries.setdefault(int(index_text), {})[rest] = typed.getlist(key)
                del typed[key]
    kept = [entries.get(i, {}) for i in sorted(entries) if i != removed]
    for index, fields in enumerate(kept[:remaining]):
        for rest, values in fields.items():
            typed.setlist(f"{prefix}{index}__{rest}", values)


def _bind(request: HttpRequest, draft: FormDraft) -> None:
    tokens = dict(request.session.get(SESSION_KEY, {}))
    tokens[draft.version.form.slug] = draft.token
    request.session[SESSION_KEY] = tokens


@require_http_methods(["GET", "POST"])
def form_resume_request(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Später weitermachen": the resume link by e-mail (no account needed)."""
    version = form_published_version(slug=slug)
    draft = _draft_or_none(request, version)
    if draft is None:
        return redirect("forms:start", slug=slug)
    form = ResumeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if ratelimit_exceeded(
            scope="forms-resume", key=client_address(request), rate=settings.RATELIMIT_MAGIC_LINK
        ):
            return error_response(request, 429)
        draft_send_resume_link(
            draft=draft, email=form.cleaned_data["email"], language=get_language() or "de"
        )
        return render(
            request,
            "forms/resume_sent.html",
            {"version": version, "days": settings.FORM_DRAFT_DAYS},
        )
    return render(
        request,
        "forms/resume_request.html",
        {"form": form, "version": version, "title": version.form.title},
    )


@require_http_methods(["GET", "POST"])
def form_resume(request: HttpRequest, token: str) -> HttpResponse:
    """The resume link: GET shows a button (mail scanners must not use it), POST continues."""
    draft = draft_from_resume_token(token=token)
    if draft is None:
        return render(request, "forms/resume_invalid.html", status=400)
    if request.method == "POST":
        _bind(request, draft)
        return redirect("forms:step", slug=draft.version.form.slug, number=draft.step_reached)
    return render(request, "forms/resume_confirm.html", {"title": draft.version.form.title})


@login_required
@require_POST
def form_continue_own(request: HttpRequest, draft_id: int) -> HttpResponse:
    """From "Mein Konto": continue one's own draft."""
    draft = draft_get_for_user(user=request.user, draft_id=draft_id)
    _bind(request, draft)
    return redirect("forms:step", slug=draft.version.form.slug, number=draft.step_reached)


@require_safe
def form_summary(request: HttpRequest, slug: str) -> HttpResponse:
    version = form_published_version(slug=slug)
    draft = _draft_or_none(request, version)
    if draft is None:
        return redirect("forms:start", slug=slug)
    definition = definition_of(version)
    data = draft_data(draft)
    problems = validation_errors(f"version:{version.pk}", version.json_schema, for_schema(data))
    return render(
        request,
        "forms/summary.html",
        {
            "version": version,
            "title": rendering.text(definition.title),
            "sections": _summary(definition, data, slug),
            "complete": not problems,
            "total": len(definition.steps),
        },
    )


def _summary(definition: FormDefinition, data: dict[str, Any], slug: str) -> list[dict[str, Any]]:
    return [
        {
            **section,
            "change_url": reverse("forms:step", kwargs={"slug": slug, "number": section["number"]}),
        }
        for section in rendering.summary_sections(definition, data)
    ]
