"""The official form, filled in: when a submission's service has an official PDF form with
fields (AcroForm) and a mapping ``{PDF field: our field id}``, the answers go into its fields
(pypdf), so the citizen "gets the form", ready to print or sign. An answer longer than its
field can show goes to an annex page (typst) and the field says where to find it: nothing is
cut off."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject

from rathaus.core.pdf import render_pdf
from rathaus.forms import rendering
from rathaus.forms.definition import fields_of
from rathaus.forms.selectors import definition_of
from rathaus.submissions.models import Submission
from rathaus.submissions.selectors import submission_data

ANNEX = Path(__file__).resolve().parent / "pdf" / "annex.typ"
FONT_SIZE = 10.0  # what the demo form and most official forms use; an estimate for capacity


def _capacity(widget: DictionaryObject) -> int:
    """How many characters a text field shows, estimated from its size."""
    rect: Any = widget["/Rect"]
    x1, y1, x2, y2 = (float(v) for v in rect)
    per_line = max(int(abs(x2 - x1) / (FONT_SIZE * 0.5)), 1)
    multiline = int(widget.get("/Ff", 0)) & 4096
    lines = max(int(abs(y2 - y1) / (FONT_SIZE * 1.25)), 1) if multiline else 1
    return per_line * lines


def _widgets(reader: PdfReader) -> dict[str, DictionaryObject]:
    found: dict[str, DictionaryObject] = {}
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            widget = annotation.get_object()
            name = widget.get("/T") or widget.get("/Parent", {}).get("/T")
            if name is not None and "/Rect" in widget:
                found[str(name)] = widget
    return found


def has_official_form(submission: Submission) -> bool:
    service = submission.service
    return bool(service and service.official_form and service.official_form_mapping)


def official_form_pdf(submission: Submission) -> bytes | None:
    """The service's official form with the submission's answers; None when there is none."""
    service = submission.service
    if service is None or not has_official_form(submission):
        return None
    with service.official_form.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    definition = definition_of(submission.version)
    answers = rendering.answer_texts(definition, submission_data(submission))
    widgets = _widgets(reader)
    values: dict[str, str] = {}
    annex: list[dict[str, Any]] = []
    labels = {spec.id: rendering.text(spec.label) for spec in fields_of(definition)}
    for pdf_field, field_id in service.official_form_mapping.items():
        text = answers.get(str(field_id), "")
        widget = widgets.get(str(pdf_field))
        if widget is None or not text:
            continue
        if len(text) > _capacity(widget):
            number = len(annex) + 1
            annex.append(
                {"number": number, "label": labels.get(field_id, str(field_id)), "value": text}
            )
            text = f"siehe Anlage, Nr. {number}"  # the official form is German
        values[str(pdf_field)] = text
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        writer.update_page_form_field_values(page, values, auto_regenerate=False)
    writer.set_need_appearances_writer(True)
    if annex:
        with translation.override(submission.language or "de"):
            data = {
                "lang": submission.language if submission.language in ("de", "en") else "de",
                "title": _("Anlage zum Antrag %(reference)s") % {"reference": submission.reference},
                "sender": _("Stadt %(city)s") % {"city": settings.CITY_NAME},
                "intro": _("Diese Angaben waren für ihr Feld im Formular zu lang."),
                "entries": annex,
            }
        annex_pdf = render_pdf(ANNEX, data=data, created=submission.submitted_at)
        writer.append(PdfReader(io.BytesIO(annex_pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
