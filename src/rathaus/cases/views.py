"""The back office's pages (/verwaltung/vorgaenge/): the inbox of an office with its saved
views, filters, search and bulk assignment, the workload for leads, the case page with the
application, its files, notes, history, questions and decision letter and the actions its
status allows, and the statistics; and, under /antraege/, the citizen's side of a case's
mailbox. Every case is opened through ``selectors.case_get_for_user`` (the citizen's through
the submissions' status-link and account gates), every inbox through ``case_inbox``."""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import office_ids_led
from rathaus.accounts.views import second_factor_required
from rathaus.cases import selectors
from rathaus.cases.forms import (
    SEPARATE_FORMS,
    VIEW_LABELS,
    AnswerForm,
    AssignForm,
    BulkAssignForm,
    ClassifyForm,
    DecisionForm,
    InboxFilterForm,
    NoteForm,
    QueryForm,
    StatisticsForm,
    TransitionForm,
    whole_number,
)
from rathaus.cases.letters import (
    fee_range,
    letter_pdf,
    letter_templates,
)
from rathaus.cases.models import Case
from rathaus.cases.services import (
    MAX_ANSWER_FILES,
    CaseConflict,
    CaseRefused,
    case_accessed,
    case_answer,
    case_assign,
    case_classify,
    case_decide,
    case_note_add,
    case_query_ask,
    case_transition,
)
from rathaus.cases.statistics import (
    case_statistics,
    statistics_office_ids,
    statistics_rows,
)
from rathaus.cases.workflow import allowed_after
from rathaus.core.csvsafe import csv_cell as _cell
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.forms.definition import MAX_UPLOAD_BYTES
from rathaus.forms.uploads import (
    UploadRejected,
    accepted_types,
    read_upload,
    sanitise_filename,
    size_text,
    types_text,
)
from rathaus.submissions.models import Submission
from rathaus.submissions.receipt import receipt_pdf
from rathaus.submissions.selectors import submission_get_for_user
from rathaus.submissions.views import by_status_link

INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg"}  # what a browser shows safely


def caseworkers(view: Any) -> Any:
    return login_required(second_factor_required(view))


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran
    return user


@caseworkers
@require_safe
def office_list(request: HttpRequest) -> HttpResponse:
    offices = list(selectors.case_offices_for_user(user=_user(request)))
    if len(offices) == 1:
        return redirect("cases:inbox", office_id=offices[0].pk)
    if not offices:
        raise PermissionDenied
    return render(request, "cases/offices.html", {"offices": offices})


def _office(request: HttpRequest, office_id: int) -> tuple[Office, list[Office]]:
    return selectors.case_office_for_user(user=_user(request), office_id=office_id)


def _query(request: HttpRequest, **changes: Any) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return "?" + query.urlencode() if query else "?"


@caseworkers
@require_safe
def inbox(request: HttpRequest, office_id: int) -> HttpResponse:
    user = _user(request)
    office, offices = _office(request, office_id)
    members = selectors.office_members(office_id=office.pk)
    form = InboxFilterForm(request.GET, office=office, members=members)
    filters = form.filters(user)
    cases = selectors.case_inbox(user=user, office_id=office.pk, **filters)
    page = selectors.case_inbox_page(cases, number=form.cleaned_data.get("seite", 1))
    today = timezone.localdate()
    rows = [
        {"case": case, "overdue_days": selectors.overdue_since(case, today)} for case in page.cases
    ]
    view = form.cleaned_data.get("ansicht") or ""
    return render(
        request,
        "cases/inbox.html",
        {
            "office": office,
            "offices": offices,
            "form": form,
            "page": page,
            "rows": rows,
            "views": [
                {"label": label, "url": "?" + (f"ansicht={key}" if key else ""), "on": key == view}
                for key, label in VIEW_LABELS
            ],
            "previous_url": _query(request, seite=page.number - 1) if page.number > 1 else "",
            "next_url": _query(request, seite=page.number + 1) if page.has_next else "",
            "bulk": BulkAssignForm(members=members),
            "is_lead": office.pk in office_ids_led(user=user),
            "here": request.get_full_path(),
        },
    )


@caseworkers
@require_POST
def bulk_assign(request: HttpRequest, office_id: int) -> HttpResponse:
    user = _user(request)
    office, _offices = _office(request, office_id)
    members = selectors.office_members(office_id=office.pk)
    form = BulkAssignForm(request.POST, members=members)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = reverse("cases:inbox", kwargs={"office_id": office.pk})
    chosen = [n for n in map(whole_number, request.POST.getlist("case")) if n][:100]
    if not form.is_valid() or not chosen:
        messages.error(request, _("Bitte wählen Sie mindestens einen Vorgang aus."))
        return redirect(back)
    assignee = form.chosen()
    done, failed = 0, []
    for case_id in chosen:
        try:
            case = selectors.case_get_for_user(user=user, case_id=case_id)
        except (PermissionDenied, Http404):
            failed.append(_("Vorgang %(id)s: nicht gefunden.") % {"id": case_id})
            continue
        version = whole_number(request.POST.get(f"version-{case_id}")) or -1
        try:
            case_assign(case=case, assignee=assignee, actor=user, version=version)
            done += 1
        except (CaseConflict, CaseRefused) as refused:
            failed.append(f"{case.reference}: {refused.message}")
    if done:
        messages.success(
            request,
            ngettext("%(count)d Vorgang zugewiesen.", "%(count)d Vorgänge zugewiesen.", done)
            % {"count": done},
        )
    for text in failed:
        messages.error(request, text)
    return redirect(back)


@caseworkers
@require_safe
def workload(request: HttpRequest, office_id: int) -> HttpResponse:
    office, _offices = _office(request, office_id)
    rows = selectors.case_workload(user=_user(request), office_id=office.pk)
    return render(request, "cases/workload.html", {"office": office, "rows": rows})


def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    transition: TransitionForm | None = None,
    assign: AssignForm | None = None,
    note: NoteForm | None = None,
    query: QueryForm | None = None,
    decide: DecisionForm | None = None,
    classify: ClassifyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    allowed = sorted(allowed_after(case.status))
    can_ask = "query" in allowed
    templates = letter_templates(case=case)
    members = selectors.case_office_members(case=case)
    return render(
        request,
        "cases/case.html",
        {
            "case": case,
            "applicant": selectors.case_applicant(case=case),
            "overdue_days": selectors.overdue_since(case),
            "sections": selectors.case_application(case=case),
            "attachments": list(case.submission.attachments.all()),
            "notes": selectors.case_notes(case=case),
            "history": selectors.case_history(case=case),
            "timeline": selectors.case_citizen_timeline(case=case),
            "tags": list(case.tags.all()),
            "transition": transition
            or (
                TransitionForm(case=case, allowed=allowed)
                if [s for s in allowed if s not in SEPARATE_FORMS]
                else None
            ),
            "decide": decide
            or (
                DecisionForm(case=case, templates=templates, fee_range=fee_range(case))
                if "decided" in allowed
                else None
            ),
            "has_templates": templates.exists(),
            "is_member": _user(request) in members,  # members is read once, for the form too
            "query": query or (QueryForm(case=case) if can_ask else None),
            "messages_": selectors.case_messages(case=case),
            "assign": assign or AssignForm(case=case, members=members),
            "classify": classify or (ClassifyForm(case=case) if allowed else None),
            "note": note or NoteForm(),
            "closed": not allowed,
        },
        status=status,
    )


@caseworkers
@require_safe
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_user(user=_user(request), case_id=case_id)
    case_accessed(case=case, actor=_user(request), what="page")
    return _case_page(request, case)


def _refused(
    request: HttpRequest, case: Case, error: CaseRefused | CaseConflict, **forms: Any
) -> HttpResponse:
    """The case page again with the reason (409 when someone else was quicker; the inbox when
    the case has meanwhile gone to an office the user does not work in)."""
    messages.error(request, error.message)
    try:
        fresh = selectors.case_get_for_user(user=_user(request), case_id=case.pk)
    except PermissionDenied:
        return redirect("cases:offices")
    return _case_page(
        request, fresh, status=409 if isinstance(error, CaseConflict) else 400, **forms
    )


@caseworkers
@require_POST
def case_change_status(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    form = TransitionForm(request.POST, case=case, allowed=sorted(allowed_after(case.status)))
    if not form.is_valid():
        return _case_page(request, case, transition=form, status=400)
    data = form.cleaned_data
    office_before = case.office_id
    try:
        case_transition(
            case=case,
            to=data["to"],
            actor=user,
            version=data["version"],
            citizen_text=data["citizen_text"],
            office=data["office"] if data["to"] == "forwarded" else None,
        )
    except (CaseRefused, CaseConflict) as error:
        return _refused(request, case, error, transition=form)
    messages.success(request, _("Der Status ist geändert."))
    if data["to"] == "forwarded":  # the case belongs to the other office now: back to ours
        return redirect("cases:inbox", office_id=office_before)
    return redirect("cases:case", case_id=case.pk)


@caseworkers
@require_POST
def case_change_assignee(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    members = selectors.case_office_members(case=case)
    post = request.POST.copy()
    if post.get("mir"):
        if user not in members:  # a lead from above is not a member: nothing to assign
            messages.error(request, _("Sie gehören nicht zur zuständigen Stelle."))
            return _case_page(request, case, status=400)
        post["assignee"] = str(user.pk)
    form = AssignForm(post, case=case, members=members)
    if not form.is_valid():
        return _case_page(request, case, assign=form, status=400)
    try:
        case_assign(
            case=case, assignee=form.chosen(), actor=user, version=form.cleaned_data["version"]
        )
    except (CaseRefused, CaseConflict) as error:
        return _refused(request, case, error)
    messages.success(request, _("Die Zuweisung ist geändert."))
    return redirect("cases:case", case_id=case.pk)


@caseworkers
@require_POST
def case_change_classification(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    form = ClassifyForm(request.POST, case=case)
    if not form.is_valid():
        return _case_page(request, case, classify=form, status=400)
    try:
        case_classify(
            case=case,
            actor=user,
            version=form.cleaned_data["version"],
            priority=form.cleaned_data["priority"],
            tags=form.tag_list(),
        )
    except (CaseRefused, CaseConflict) as error:
        return _refused(request, case, error, classify=form)
    messages.success(request, _("Priorität und Schlagwörter sind gespeichert."))
    return redirect("cases:case", case_id=case.pk)


@caseworkers
@require_POST
def case_add_note(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, note=form, status=400)
    try:
        case_note_add(case=case, author=user, text=form.cleaned_data["text"])
    except CaseRefused as error:
        return _refused(request, case, error, note=form)
    messages.success(request, _("Die Notiz ist gespeichert."))
    return redirect(reverse("cases:case", kwargs={"case_id": case.pk}) + "#notizen")


@caseworkers
@require_POST
def case_ask(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    form = QueryForm(request.POST, case=case)
    if not form.is_valid():
        return _case_page(request, case, query=form, status=400)
    try:
        case_query_ask(
            case=case,
            actor=user,
            version=form.cleaned_data["version"],
            text=form.cleaned_data["text"],
            documents=form.document_list(),
        )
    except (CaseRefused, CaseConflict) as error:
        return _refused(request, case, error, query=form)
    messages.success(request, _("Die Rückfrage ist gestellt; die Person wird benachrichtigt."))
    return redirect(reverse("cases:case", kwargs={"case_id": case.pk}) + "#nachrichten")


@caseworkers
@require_POST
def case_decision(request: HttpRequest, case_id: int) -> HttpResponse:
    """ "Vorschau" shows the letter as it would be issued (nothing is written); "Bescheid
    erlassen" issues it."""
    user = _user(request)
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    form = DecisionForm(
        request.POST, case=case, templates=letter_templates(case=case), fee_range=fee_range(case)
    )
    if not form.is_valid():
        return _case_page(request, case, decide=form, status=400)
    data = form.cleaned_data
    if "vorschau" in request.POST:
        try:
            pdf = letter_pdf(
                case=case,
                template=data["template"],
                decision=data["decision"],
                text=data["text"],
                fee=data.get("fee"),
            )
        except CaseRefused as refused:
            messages.error(request, refused.message)
            return _case_page(request, case, decide=form, status=400)
        case_accessed(case=case, actor=user, what="letter preview")
        return _file(pdf, "application/pdf", f"vorschau-{case.reference}.pdf", inline=True)
    try:
        case_decide(
            case=case,
            actor=user,
            version=data["version"],
            decision=data["decision"],
            text=data["text"],
            template=data["template"],
            fee=data.get("fee"),
        )
    except (CaseRefused, CaseConflict) as error:
        return _refused(request, case, error, decide=form)
    messages.success(
        request, _("Der Bescheid ist erlassen und auf der Statusseite bereitgestellt.")
    )
    return redirect("cases:case", case_id=case.pk)


def _file(content: bytes, content_type: str, filename: str, inline: bool) -> HttpResponse:
    """A file of an application for the office: never cached on the way; shown in the
    browser only when it is a type the browser displays safely, and then sandboxed."""
    inline = inline and content_type in INLINE_TYPES
    response = HttpResponse(content, content_type=content_type)
    disposition = content_disposition_header(as_attachment=not inline, filename=filename)
    response["Content-Disposition"] = disposition or "attachment"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; object-src 'self'"
    return response


@caseworkers
@require_safe
def case_attachment(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponse:
    case = selectors.case_get_for_user(user=_user(request), case_id=case_id)
    attachment = case.submission.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    try:
        content = read_upload(attachment.token)
    except FileNotFoundError:
        raise Http404 from None
    case_accessed(case=case, actor=_user(request), what=f"attachment {attachment.pk}")
    inline = request.GET.get("herunterladen") != "1"
    return _file(
        content, attachment.content_type, sanitise_filename(attachment.filename), inline=inline
    )


@caseworkers
@require_safe
def case_receipt(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_user(user=_user(request), case_id=case_id)
    if case.submission.anonymised_at is not None:
        raise Http404
    case_accessed(case=case, actor=_user(request), what="receipt")
    return _file(
        receipt_pdf(case.submission),
        "application/pdf",
        f"eingangsbestaetigung-{case.reference}.pdf",
        inline=True,
    )


CHART_HEIGHT = 160


def _chart(months: list[tuple[Any, Any]]) -> dict[str, Any]:
    """Bars for cases received and closed per month, drawn as SVG on the server (the table
    beside it holds the same numbers)."""
    top = max([1, *(max(row.received, row.closed) for _m, row in months)])
    bars = []
    for index, (month, row) in enumerate(months):
        x = 40 + index * 36
        for offset, value, kind in ((0, row.received, "received"), (14, row.closed, "closed")):
            height = round(value / top * CHART_HEIGHT)
            bars.append(
                {
                    "x": x + offset,
                    "y": 10 + CHART_HEIGHT - height,
                    "height": height,
                    "kind": kind,
                    "month": month,
                    "value": value,
                }
            )
    return {"bars": bars, "top": top, "width": 40 + len(months) * 36 + 10}


@caseworkers
@require_safe
def statistics(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    allowed = statistics_office_ids(user=user)  # 403 for anyone but leads and the department
    offices = Office.objects.order_by("name")
    if allowed is not None:
        offices = offices.filter(pk__in=allowed)
    form = StatisticsForm(request.GET, offices=offices)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    months = data.get("monate") or 12
    office = data.get("stelle")
    end = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)
    start = end
    for _step in range(months):
        start = (start - timedelta(days=1)).replace(day=1)
    office_id = office.pk if office else None
    if request.GET.get("format") == "csv":
        rows = statistics_rows(user=user, start=start, end=end, office_id=office_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="vorgaenge-statistik.csv"'
        response.write("\ufeff")  # so that spreadsheet programs read it as UTF-8
        columns = ["month", "office", "service", "received", "closed"]
        columns += ["median_days", "p90_days", "online_share"]
        columns += ["pending_at_month_end", "overdue_at_month_end"]
        writer = csv.DictWriter(response, fieldnames=columns, delimiter=";")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
        return response
    figures = case_statistics(user=user, start=start, end=end, office_id=office_id)
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "cases/statistics.html",
        {
            "form": form,
            "figures": figures,
            "chart": _chart(figures.months),
            "chart_height": CHART_HEIGHT,
            "office": office,
            "csv_url": "?" + query.urlencode(),
        },
    )


# -- the citizen's side of the mailbox (behind the status link or the account) --------------


def _mailbox(
    request: HttpRequest, submission: Submission, *, here: str, status_url: str
) -> HttpResponse:
    case = selectors.case_of_submission(submission=submission)
    if case is None:  # the office has not opened it yet (outbox): nothing to show yet
        return render(
            request,
            "cases/mailbox.html",
            {"submission": submission, "status_url": status_url, "messages_": []},
        )
    # bound on every POST: an answer with files only has no other field
    form = AnswerForm(request.POST if request.method == "POST" else None)
    status, files_error = 200, ""
    if request.method == "POST":
        if ratelimit_exceeded(
            scope="answer", key=client_address(request), rate=settings.RATELIMIT_ANSWER
        ):
            return error_response(request, 429)
        if form.is_valid():
            try:
                case_answer(
                    case=case,
                    text=form.cleaned_data["text"],
                    files=request.FILES.getlist("files"),
                )
            except (CaseRefused, CaseConflict) as error:
                form.add_error(None, error.message)
            except UploadRejected as rejected:
                files_error = str(rejected)
            else:
                messages.success(request, _("Ihre Antwort ist bei der Stelle eingegangen."))
                return redirect(here)
        status = 400
    response = render(
        request,
        "cases/mailbox.html",
        {
            "case": case,
            "submission": submission,
            "messages_": [
                {**m, "author": None} for m in selectors.case_messages(case=case)
            ],  # the citizen sees "die Stelle", not the caseworker's name
            "form": form,
            "files_error": files_error,
            "open_question": case.status == "query",
            "status_url": status_url,
            "accepted": types_text(()),
            "accept": ",".join(accepted_types(())),
            "max_files": MAX_ANSWER_FILES,
            "max_size": size_text(MAX_UPLOAD_BYTES),
        },
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    # the code is in the address: never sent to other sites; same-origin, because with no
    # referrer at all browsers send "Origin: null" and the answer fails the CSRF check
    response["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "POST"])
def mailbox(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    submission = by_status_link(request, reference, code)
    if not isinstance(submission, Submission):
        return submission  # the lookup form, or 429
    kwargs = {"reference": submission.reference, "code": code}
    return _mailbox(
        request,
        submission,
        here=reverse("cases_citizen:mailbox", kwargs=kwargs),
        status_url=reverse("submissions:status", kwargs=kwargs),
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_mailbox(request: HttpRequest, reference: str) -> HttpResponse:
    submission = submission_get_for_user(user=request.user, reference=reference)
    return _mailbox(
        request,
        submission,
        here=reverse("cases_citizen:my_mailbox", args=[submission.reference]),
        status_url=reverse("submissions:my_status", args=[submission.reference]),
    )
