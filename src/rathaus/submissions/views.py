"""The citizen's side of a submission: "Absenden", the confirmation with the reference number
and the receipt, the status page (by link with its secret code, or from the account)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_blocked, ratelimit_exceeded
from rathaus.forms.models import Upload
from rathaus.forms.selectors import for_schema, form_published_version
from rathaus.forms.services import draft_data, draft_finish
from rathaus.forms.uploads import read_upload, sanitise_filename
from rathaus.forms.views import session_draft
from rathaus.submissions.models import Submission
from rathaus.submissions.official import has_official_form, official_form_pdf
from rathaus.submissions.receipt import receipt_pdf, status_path
from rathaus.submissions.selectors import (
    submission_by_status_link,
    submission_data,
    submission_get_for_user,
    submission_released_documents,
    submission_status_code,
    submission_timeline,
    submissions_for_user,
)
from rathaus.submissions.services import (
    StoredFile,
    SubmissionRefused,
    email_of,
    submission_create,
)

SUBMITTED_KEY = "rathaus_submitted"  # session: reference numbers this browser just submitted


class LookupForm(django_forms.Form):
    reference = django_forms.CharField(
        label=gettext_lazy("Aktenzeichen"),
        max_length=40,
        help_text=gettext_lazy("Steht oben auf Ihrer Eingangsbestätigung, z. B. L-2026-7K3M-9QX4."),
        error_messages={"required": gettext_lazy("Bitte geben Sie das Aktenzeichen ein.")},
        widget=django_forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    code = django_forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        help_text=gettext_lazy("Steht auf Ihrer Eingangsbestätigung unter „Stand Ihres Antrags“."),
        error_messages={"required": gettext_lazy("Bitte geben Sie den Code ein.")},
        widget=django_forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _email_of(version: Any, data: dict[str, Any], request: HttpRequest) -> str:
    """Where the confirmation goes: the form's first e-mail answer, else the account's."""
    return email_of(version, data) or str(getattr(request.user, "email", "") or "")


@require_POST
def form_submit(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Absenden" on the summary page. The draft's token is the idempotency key: a double
    click, a reload or a retry gives the one submission that was made."""
    version = form_published_version(slug=slug)
    token, draft = session_draft(request, version)
    key = f"web:{token}" if token else None
    if key and (done := Submission.objects.filter(idempotency_key=key).first()):
        return _confirmed(request, done)
    if draft is None:
        return redirect("forms:start", slug=slug)
    if ratelimit_exceeded(
        scope="submit", key=client_address(request), rate=settings.RATELIMIT_SUBMIT
    ):
        return error_response(request, 429)
    data = for_schema(draft_data(draft))
    uploads = {
        u.token: StoredFile(u.token, u.filename, u.content_type, u.size, u.sha256)
        for u in Upload.objects.filter(draft=draft)
    }
    try:
        with transaction.atomic():
            submission, _created = submission_create(
                version=version,
                data=data,
                files=uploads,
                user=request.user if request.user.is_authenticated else None,
                email=_email_of(version, data, request),
                language=get_language() or "de",
                idempotency_key=key,
            )
            draft_finish(draft=draft, kept_tokens={a.token for a in submission.attachments.all()})
    except SubmissionRefused:
        messages.error(request, _("Es fehlen noch Angaben. Bitte prüfen Sie die Übersicht."))
        return redirect("forms:summary", slug=slug)
    return _confirmed(request, submission)


def _confirmed(request: HttpRequest, submission: Submission) -> HttpResponse:
    submitted = list(request.session.get(SUBMITTED_KEY, []))[-9:]
    if submission.reference not in submitted:
        request.session[SUBMITTED_KEY] = [*submitted, submission.reference]
    return redirect("submissions:confirmation", reference=submission.reference)


@require_safe
def confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    """Shown to the browser that submitted (the session knows the reference)."""
    if reference not in request.session.get(SUBMITTED_KEY, []):
        return redirect("submissions:lookup")
    submission = Submission.objects.select_related("version__form", "service").get(
        reference=reference
    )
    return render(
        request,
        "submissions/confirmation.html",
        {
            "submission": submission,
            "status_url": request.build_absolute_uri(status_path(submission)),
            "code": submission_status_code(submission),
            "receipt_url": reverse(
                "submissions:receipt",
                kwargs={"reference": reference, "code": submission_status_code(submission)},
            ),
            "official_url": reverse(
                "submissions:official_form",
                kwargs={"reference": reference, "code": submission_status_code(submission)},
            )
            if has_official_form(submission)
            else "",
        },
    )


NOT_FOUND = gettext_lazy(
    "Wir finden keinen Antrag mit diesem Aktenzeichen und diesem Code. Bitte prüfen Sie beide."
)


def _find(request: HttpRequest, reference: str, code: str) -> Submission | HttpResponse | None:
    """The status-link gate, throttled on failures: the submission, a 429 answer, or None for
    every kind of wrong alike (no such number, wrong code, malformed)."""
    client = client_address(request)
    rate = settings.RATELIMIT_STATUS_FAILURES
    if ratelimit_blocked(scope="status-failures", key=client, rate=rate):
        return error_response(request, 429)
    submission = submission_by_status_link(reference=reference, code=code)
    if submission is None:
        ratelimit_exceeded(scope="status-failures", key=client, rate=rate)
    return submission


def by_status_link(request: HttpRequest, reference: str, code: str) -> Submission | HttpResponse:
    """The gate for pages behind the status link (the cases app's mailbox uses it too):
    wrong gets the lookup form with the one message that gives nothing away, failures are
    throttled."""
    found = _find(request, reference, code)
    if found is not None:
        return found
    context = {"form": LookupForm(), "not_found": NOT_FOUND}
    return render(request, "submissions/lookup.html", context, status=404)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    """A file for the citizen only: downloaded, never cached on the way."""
    response = HttpResponse(content, content_type=content_type)
    disposition = content_disposition_header(as_attachment=True, filename=filename)
    response["Content-Disposition"] = disposition or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def status(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    found = by_status_link(request, reference, code)
    if not isinstance(found, Submission):
        return found
    kwargs = {"reference": found.reference, "code": code}
    return _status_page(
        request,
        found,
        receipt_url=reverse("submissions:receipt", kwargs=kwargs),
        official_url=reverse("submissions:official_form", kwargs=kwargs),
        document_url=lambda pk: reverse(
            "submissions:document", kwargs={**kwargs, "document_id": pk}
        ),
        messages_url=reverse("cases_citizen:mailbox", kwargs=kwargs),
    )


@require_safe
def receipt(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    found = by_status_link(request, reference, code)
    if not isinstance(found, Submission):
        return found
    return _pdf(found)


def _pdf(submission: Submission) -> HttpResponse:
    filename = f"eingangsbestaetigung-{submission.reference}.pdf"
    return _download(receipt_pdf(submission), "application/pdf", filename)


@require_safe
def official_form(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    found = by_status_link(request, reference, code)
    if not isinstance(found, Submission):
        return found
    return _official(found)


def _official(submission: Submission) -> HttpResponse:
    pdf = official_form_pdf(submission)
    if pdf is None:
        raise Http404
    return _download(pdf, "application/pdf", f"formular-{submission.reference}.pdf")


@require_safe
def document(request: HttpRequest, reference: str, code: str, document_id: int) -> HttpResponse:
    found = by_status_link(request, reference, code)
    if not isinstance(found, Submission):
        return found
    return _document(found, document_id)


def _document(submission: Submission, document_id: int) -> HttpResponse:
    """A document the office released to the citizen (only released ones, only their own)."""
    released = submission_released_documents(submission).filter(pk=document_id).first()
    if released is None:
        raise Http404
    try:
        content = read_upload(released.token)
    except FileNotFoundError:
        raise Http404 from None
    return _download(content, released.content_type, sanitise_filename(released.filename))


@require_http_methods(["GET", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    """Reference number and code from the receipt, typed in (no link at hand)."""
    form = LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = _find(request, form.cleaned_data["reference"], form.cleaned_data["code"])
        if isinstance(found, Submission):
            return redirect(status_path(found))
        if found is not None:
            return found  # throttled
        form.add_error(None, NOT_FOUND)
    return render(
        request, "submissions/lookup.html", {"form": form}, status=422 if form.errors else 200
    )


@login_required
@require_safe
def my_submissions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "submissions/mine.html",
        {"submissions": submissions_for_user(user=request.user)[:100]},
    )


@login_required
@require_safe
def my_data(request: HttpRequest) -> HttpResponseBase:
    """A copy of everything the person submitted: one ZIP with the answers as JSON, each
    receipt and each attachment (GDPR Art. 15 and 20)."""
    if ratelimit_exceeded(scope="my-data", key=str(request.user.pk), rate="10/h"):
        return error_response(request, 429)
    buffer = tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = []
        for submission in submissions_for_user(user=request.user).prefetch_related(
            "attachments", "events"
        ):
            folder = submission.reference
            entries.append(
                {
                    "reference": submission.reference,
                    "form": submission.version.form.title,
                    "service": submission.service.name if submission.service else "",
                    "submitted_at": submission.submitted_at.isoformat(),
                    "status": submission.status,
                    "timeline": [
                        {**event, "at": event["at"].isoformat()}
                        for event in submission_timeline(submission)
                    ],
                    "data": submission_data(submission),
                    "attachments": [
                        f"{folder}/{index}-{a.filename}"
                        for index, a in enumerate(submission.attachments.all(), start=1)
                    ],
                }
            )
            archive.writestr(f"{folder}/eingangsbestaetigung.pdf", receipt_pdf(submission))
            for index, attachment in enumerate(submission.attachments.all(), start=1):
                archive.writestr(
                    f"{folder}/{index}-{attachment.filename}", read_upload(attachment.token)
                )
        archive.writestr("antraege.json", json.dumps(entries, ensure_ascii=False, indent=2))
    buffer.seek(0)
    response = FileResponse(
        buffer, content_type="application/zip", as_attachment=True, filename="meine-antraege.zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def my_status(request: HttpRequest, reference: str) -> HttpResponse:
    submission = submission_get_for_user(user=request.user, reference=reference)
    return _status_page(
        request,
        submission,
        receipt_url=reverse("submissions:my_receipt", args=[reference]),
        official_url=reverse("submissions:my_official_form", args=[reference]),
        document_url=lambda pk: reverse("submissions:my_document", args=[reference, pk]),
        messages_url=reverse("cases_citizen:my_mailbox", args=[reference]),
    )


@login_required
@require_safe
def my_official_form(request: HttpRequest, reference: str) -> HttpResponse:
    return _official(submission_get_for_user(user=request.user, reference=reference))


@login_required
@require_safe
def my_document(request: HttpRequest, reference: str, document_id: int) -> HttpResponse:
    return _document(submission_get_for_user(user=request.user, reference=reference), document_id)


@login_required
@require_safe
def my_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    return _pdf(submission_get_for_user(user=request.user, reference=reference))


def _status_page(
    request: HttpRequest,
    submission: Submission,
    *,
    receipt_url: str,
    official_url: str,
    document_url: Callable[[int], str],
    messages_url: str = "",
) -> HttpResponse:
    response = render(
        request,
        "submissions/status.html",
        {
            "submission": submission,
            "timeline": submission_timeline(submission),
            "documents": [
                {
                    "title": d.title,
                    "released_at": d.released_at,
                    "url": document_url(d.pk),
                }
                for d in submission_released_documents(submission)
            ],
            "receipt_url": receipt_url,
            "official_url": official_url if has_official_form(submission) else "",
            # the mailbox with the office (cases app) once an office handles the submission
            "messages_url": messages_url if submission.office_id else "",
        },
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"  # the code is in the address
    return response
