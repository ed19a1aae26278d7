"""The city's funding applications under /foerderung/verwaltung/antraege/ (department staff
only): the list with filters, an application's page with everything about it, the form to
create or change one, the go/no-go decision, the steps of its status, its consortium and its
documents. Thin: the gate (selectors/gate.py) and the selectors (selectors/applications.py)
read, the services (services/applications.py) check the rules, write and audit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from rathaus.forms.uploads import sanitise_filename
from rathaus.funding.constants import ApplicationStatus, DocumentKind, GoDecision, Role
from rathaus.funding.forms_applications import (
    CITY,
    MORE_ROWS,
    ApplicationFilterForm,
    ApplicationForm,
    DecisionForm,
    DocumentForm,
    MemberFormSet,
    TransitionForm,
    member_initial,
    typed_rows,
)
from rathaus.funding.models import Application
from rathaus.funding.selectors.applications import (
    application_consortium,
    application_document_get_for_staff,
    application_documents,
    application_history,
    application_list_for_staff,
    application_measure_ids,
    application_measures,
    application_next_deadline,
    application_next_steps,
    application_rate,
    application_warnings,
    application_years,
    call_choices,
    city_name,
    measure_choices,
    office_choices,
    organisation_choices,
    responsible_choices,
)
from rathaus.funding.selectors.gate import application_get_for_staff
from rathaus.funding.services.applications import (
    NOT_YET_SUBMITTED,
    ApplicationError,
    application_create,
    application_decide,
    application_document_read,
    application_document_upload,
    application_transition,
    application_update,
    consortium_set,
)
from rathaus.funding.views import actor_of, staff_page

PAGE_SIZE = 25


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


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *, failed: bool
) -> HttpResponse:
    return render(request, template, context, status=422 if failed else 200)


# ---- the list ------------------------------------------------------------------------------


@staff_page
@require_safe
def application_list(request: HttpRequest) -> HttpResponse:
    form = ApplicationFilterForm(request.GET, years=application_years(user=request.user))
    applications = application_list_for_staff(user=request.user, **form.filters())
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(
        request,
        "funding/applications/list.html",
        {
            "form": form,
            "page": page,
            "previous_url": _query(request, seite=page.number - 1) if page.has_previous() else "",
            "next_url": _query(request, seite=page.number + 1) if page.has_next() else "",
        },
    )


# ---- the application -----------------------------------------------------------------------


def _application_form(request: HttpRequest, application: Application | None) -> HttpResponse:
    user = request.user
    if application is not None:
        initial = ApplicationForm.initial_from(
            application, application_measure_ids(application=application)
        )
    else:
        initial = {"role": Role.COORDINATOR, "responsible": user.pk}
        call_id = request.GET.get("aufruf", "")
        if call_id.isascii() and call_id.isdigit() and len(call_id) < 19:
            initial["call"] = int(call_id)  # from a call's page
    form = ApplicationForm(
        _posted(request),
        initial=initial,
        calls=call_choices(
            user=user, keep_call_id=application.call_id if application is not None else None
        ),
        offices=office_choices(user=user),
        people=responsible_choices(
            user=user,
            keep_user_id=application.responsible_id if application is not None else None,
        ),
        measures=measure_choices(user=user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            if application is None:
                saved = application_create(actor=actor_of(request), data=form.to_data())
            else:
                saved = application_update(
                    actor=actor_of(request), application=application, data=form.to_data()
                )
        except ApplicationError as error:
            form.show_error(error)
        else:
            if application_warnings(saved):
                # the warnings are shown at the form, to be looked at once more
                messages.success(
                    request, _("Der Antrag ist gespeichert. Bitte beachten Sie die Hinweise.")
                )
                return redirect("funding:application_edit", application_id=saved.pk)
            messages.success(request, _("Der Antrag ist gespeichert."))
            return redirect("funding:application_detail", application_id=saved.pk)
    return _page(
        request,
        "funding/applications/form.html",
        {
            "form": form,
            "application": application,
            "warnings": application_warnings(application) if application is not None else [],
        },
        failed=bool(form.errors),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def application_create_view(request: HttpRequest) -> HttpResponse:
    return _application_form(request, None)


@staff_page
@require_http_methods(["GET", "POST"])
def application_edit(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get_for_staff(user=request.user, application_id=application_id)
    return _application_form(request, application)


def _decision_form(application: Application, data: Any = None) -> DecisionForm:
    initial: dict[str, Any] = {"note": application.decision_note}
    if application.decision != GoDecision.PENDING:
        initial["decision"] = application.decision
    return DecisionForm(data, initial=initial)


def _step_forms(
    application: Application, bound: TransitionForm | None = None
) -> list[TransitionForm]:
    """A form for every step the application can take now (``bound`` in place of its own)."""
    initial = TransitionForm.initial_from(application)
    forms = [
        TransitionForm(to_status=status, initial=initial)
        for status in application_next_steps(application)
    ]
    if bound is not None:
        forms = [bound if f.to_status == bound.to_status else f for f in forms]
    return forms


@staff_page
@require_safe
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get_for_staff(user=request.user, application_id=application_id)
    return render(request, "funding/applications/detail.html", _detail_context(application))


def _detail_context(application: Application) -> dict[str, Any]:
    rows, share_sum = application_consortium(application=application)
    documents = application_documents(application=application)
    return {
        "application": application,
        "programme": application.call.programme,
        "next_deadline": application_next_deadline(call=application.call),
        "measures": application_measures(application=application),
        "consortium": rows,
        "share_sum": share_sum,
        "warnings": application_warnings(application),
        "rate": application_rate(application),
        "history": application_history(application=application),
        "documents": documents,
        "letters": [d for d in documents if d.kind == DocumentKind.LETTER],
        "steps": _step_forms(application),
        "decision_open": application.status in NOT_YET_SUBMITTED,
    }


# ---- the decision --------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def application_decision(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get_for_staff(user=request.user, application_id=application_id)
    form = _decision_form(application, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            application_decide(
                actor=actor_of(request),
                application=application,
                decision=form.cleaned_data["decision"],
                decided_on=form.cleaned_data["decided_on"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            form.show_error(error)
        else:
            messages.success(request, _("Die Entscheidung ist eingetragen."))
            return redirect("funding:application_detail", application_id=application.pk)
    return _page(
        request,
        "funding/applications/decision.html",
        {
            "application": application,
            "form": form,
            "decision_open": application.status in NOT_YET_SUBMITTED,
        },
        failed=bool(form.errors),
    )


# ---- the status ----------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def application_transition_view(request: HttpRequest, application_id: int) -> HttpResponse:
    """GET: the steps the application can take now, each a small form. POST (``schritt``
    names the step): take it, or show why not at the step's form."""
    application = application_get_for_staff(user=request.user, application_id=application_id)
    bound: TransitionForm | None = None
    if request.method == "POST":
        to_status = request.POST.get("schritt", "")
        if to_status not in ApplicationStatus.values:
            messages.error(request, _("Bitte wählen Sie einen der angebotenen Schritte."))
            return redirect("funding:application_detail", application_id=application.pk)
        bound = TransitionForm(request.POST, to_status=to_status)
        if bound.is_valid():
            try:
                application_transition(
                    actor=actor_of(request),
                    application=application,
                    to_status=to_status,
                    **bound.values(),
                )
            except ApplicationError as error:
                if error.code in ("stale", "not_allowed"):
                    # the application's page shows how it stands now
                    messages.error(request, str(error.message))
                    return redirect("funding:application_detail", application_id=application.pk)
                bound.show_error(error)
            else:
                messages.success(
                    request,
                    _("Der Status ist jetzt „%(status)s“.")
                    % {"status": ApplicationStatus(to_status).label},
                )
                return redirect("funding:application_detail", application_id=application.pk)
    steps = _step_forms(application, bound)
    return _page(
        request,
        "funding/applications/transition.html",
        {"application": application, "steps": steps, "failed_step": bound},
        failed=bound is not None and bool(bound.errors),
    )


# ---- the consortium ------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def application_consortium_view(request: HttpRequest, application_id: int) -> HttpResponse:
    """The consortium as rows to fill in; saved all at once (``consortium_set``). On a
    refusal every row stays as typed."""
    application = application_get_for_staff(user=request.user, application_id=application_id)
    rows, share_sum = application_consortium(application=application)
    organisations = organisation_choices(
        user=request.user,
        keep=[r.member.organisation_id for r in rows if r.member.organisation_id is not None],
    )
    choices = [(CITY, city_name()), *((str(pk), name) for pk, name in organisations)]
    initial = [member_initial(row.member) for row in rows] or [
        {"member": CITY, "role": application.role}
    ]
    if request.method == "POST" and "mehr_zeilen" in request.POST:
        # more empty rows, with what was typed so far; nothing is checked or saved yet
        formset = MemberFormSet(initial=typed_rows(request.POST), members=choices, extra=MORE_ROWS)
        return render(
            request,
            "funding/applications/consortium.html",
            {
                "application": application,
                "formset": formset,
                "consortium": rows,
                "share_sum": share_sum,
            },
        )
    formset = MemberFormSet(_posted(request), initial=initial, members=choices)
    errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        filled = [form for form in formset.forms if not form.is_blank()]
        try:
            consortium_set(
                actor=actor_of(request),
                application=application,
                members=[form.to_data() for form in filled],
            )
        except ApplicationError as error:
            if error.row is not None:
                filled[error.row].show_error(error)
            else:
                errors.append(str(error.message))
        else:
            messages.success(request, _("Das Konsortium ist gespeichert."))
            return redirect("funding:application_detail", application_id=application.pk)
    failed = request.method == "POST"  # still here: refused
    return _page(
        request,
        "funding/applications/consortium.html",
        {
            "application": application,
            "formset": formset,
            "errors": errors,
            "failed": failed,
            "consortium": rows,
            "share_sum": share_sum,
        },
        failed=failed,
    )


# ---- documents -----------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def application_documents_view(request: HttpRequest, application_id: int) -> HttpResponse:
    """The application's documents, and a form to add one."""
    application = application_get_for_staff(user=request.user, application_id=application_id)
    form = DocumentForm(_posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            document = application_document_upload(
                actor=actor_of(request),
                application=application,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                file=form.cleaned_data["file"],
            )
        except ApplicationError as error:
            form.show_error(error)
        else:
            messages.success(
                request,
                _("„%(title)s“ ist gespeichert.") % {"title": document.title},
            )
            return redirect("funding:application_documents", application_id=application.pk)
    return _page(
        request,
        "funding/applications/documents.html",
        {
            "application": application,
            "form": form,
            "documents": application_documents(application=application),
        },
        failed=bool(form.errors),
    )


@staff_page
@require_safe
def application_document(request: HttpRequest, application_id: int, document_id: int) -> Any:
    """A document, always as a download under its sanitised name (never shown inline)."""
    document = application_document_get_for_staff(
        user=request.user, application_id=application_id, document_id=document_id
    )
    try:
        content = application_document_read(actor=actor_of(request), document=document)
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(
            as_attachment=True, filename=sanitise_filename(document.file_name)
        )
        or "attachment"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


BASE = "verwaltung/antraege/"
ONE = BASE + "<int:application_id>/"

urlpatterns: list[URLPattern] = [
    path(BASE, application_list, name="application_list"),
    path(BASE + "neu/", application_create_view, name="application_create"),
    path(ONE, application_detail, name="application_detail"),
    path(ONE + "bearbeiten/", application_edit, name="application_edit"),
    path(ONE + "entscheidung/", application_decision, name="application_decision"),
    path(ONE + "status/", application_transition_view, name="application_transition"),
    path(ONE + "konsortium/", application_consortium_view, name="application_consortium"),
    path(ONE + "dokumente/", application_documents_view, name="application_documents"),
    path(ONE + "dokumente/<int:document_id>/", application_document, name="application_document"),
]
