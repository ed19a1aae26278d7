"""The receipt (Eingangsbestätigung): a PDF/A-3b, tagged PDF/UA-1 document with every answer,
the attachments with their SHA-256 and the submission's JSON attached as its source
(core.pdf, template ``pdf/receipt.typ``). Made once and kept (encrypted), so the citizen gets
the same document on the confirmation page, from the status page and from the worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from rathaus.core import blobs
from rathaus.core.jsondata import substitute
from rathaus.core.pdf import render_pdf
from rathaus.forms import rendering
from rathaus.forms.selectors import definition_of
from rathaus.submissions.models import Submission
from rathaus.submissions.selectors import submission_data, submission_status_code
from rathaus.submissions.services import receipt_name, receipt_store

TEMPLATE = Path(__file__).resolve().parent / "pdf" / "receipt.typ"
LONG_TEXT = 1200  # characters: a longer answer may run over a page break


def status_path(submission: Submission, code: str | None = None) -> str:
    """The status page's path with its secret (``code``, when the caller has it already)."""
    code = submission_status_code(submission) if code is None else code
    return reverse("submissions:status", kwargs={"reference": submission.reference, "code": code})


def receipt_data(submission: Submission) -> dict[str, Any]:
    """Everything the receipt shows, as data for the template (in the submission's language)."""
    definition = definition_of(submission.version)
    data = submission_data(submission)
    attachments = list(submission.attachments.all())
    names = {f"upload:{a.token}": {"filename": a.filename} for a in attachments}
    received = timezone.localtime(submission.submitted_at)
    sections = rendering.summary_sections(definition, substitute(data, names))
    return {
        "lang": submission.language if submission.language in ("de", "en") else "de",
        "city": settings.CITY_NAME,
        "sender": _("Stadt %(city)s") % {"city": settings.CITY_NAME},
        "office": submission.office.name if submission.office else "",
        "title": _("Eingangsbestätigung"),
        "form": rendering.text(definition.title),
        "service": submission.service.name if submission.service else "",
        "reference": submission.reference,
        "received": formats.date_format(received, "DATETIME_FORMAT"),
        "status_url": settings.SITE_URL.rstrip("/") + status_path(submission),
        "status_code": submission_status_code(submission),
        "sections": [
            {
                "title": section["title"],
                "rows": [{**row, "long": len(row["value"]) > LONG_TEXT} for row in section["rows"]],
            }
            for section in sections
        ],
        "attachments": [
            {"filename": a.filename, "size": a.size, "sha256": a.sha256, "field": a.field_id}
            for a in attachments
        ],
        "source": json.dumps(
            {
                "reference": submission.reference,
                "form": submission.version.form.slug,
                "version": submission.version.number,
                "submitted_at": submission.submitted_at.isoformat(),
                "data": data,
            },
            ensure_ascii=False,
            indent=1,
        ),
        "labels": {
            "intro": _(
                "Ihr Antrag ist bei uns eingegangen. Bitte bewahren Sie diese Bestätigung auf."
            ),
            "reference": _("Aktenzeichen"),
            "received": _("Eingegangen am"),
            "service": _("Leistung"),
            "form": _("Formular"),
            "office": _("Zuständige Stelle"),
            "answers": _("Ihre Angaben"),
            "question": _("Angabe"),
            "answer": _("Ihre Antwort"),
            "attachments": _("Anlagen"),
            "file": _("Datei"),
            "checksum": _("Prüfsumme (SHA-256)"),
            "no_attachments": _("Keine Anlagen."),
            "status": _("Stand Ihres Antrags"),
            "status_text": _(
                "Den Stand Ihres Antrags sehen Sie unter dieser Adresse, mit dem Aktenzeichen "
                "und diesem Code:"
            ),
            "code": _("Code"),
            "source": _("Die Daten Ihres Antrags sind dieser PDF-Datei als JSON-Datei beigefügt."),
            "page": _("Seite"),
        },
    }


def _kept(submission: Submission) -> bytes | None:
    if not submission.receipt_token:
        return None
    try:
        return blobs.read(receipt_name(submission.receipt_token))
    except FileNotFoundError:
        return None


def receipt_pdf(submission: Submission) -> bytes:
    """The receipt: the kept one, or made now and kept."""
    kept = _kept(submission)
    if kept is not None:
        return kept
    with translation.override(submission.language or "de"):
        pdf = render_pdf(TEMPLATE, data=receipt_data(submission), created=submission.submitted_at)
    receipt_store(submission=submission, pdf=pdf)
    # another process may have stored its copy first: use that
    return _kept(submission) or pdf
