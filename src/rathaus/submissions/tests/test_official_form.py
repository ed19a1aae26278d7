"""The official form, filled in: the demo dog tax PDF (AcroForm) gets the answers in its
fields, as people read them; what does not fit goes to an annex page, never cut off."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest
from django.test import Client

from rathaus.submissions.demo import load_demo_official_forms
from rathaus.submissions.handover import export_submission
from rathaus.submissions.models import Submission
from rathaus.submissions.selectors import submission_status_code
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]
LONG_NAME = "Müller-Lüdenscheidt-Freifrau von und zu Hohenzollern-Sigmaringen"


def _submit(client: Client, family_name: str) -> Submission:
    client.post("/formulare/hund-anmelden/beginnen/")
    client.post(
        "/formulare/hund-anmelden/schritt/1/",
        {
            "vorname": "Erika",
            "familienname": family_name,
            "strasse": "Markt 1",
            "plz": "04109",
            "iban": "DE02120300000000202051",
        },
    )
    client.post(
        "/formulare/hund-anmelden/schritt/2/",
        {
            "hundename": "Bello",
            "rasse": "dackel",
            "gehalten_seit": "01.03.2025",
            "gefaehrlich": "nein",
        },
    )
    client.post(
        "/formulare/hund-anmelden/schritt/3/",
        {
            "zustimmung": "on",
            "weitere_hunde__count": "2",
            "weitere_hunde__0__weiterer_name": "Rex",
            "weitere_hunde__1__weiterer_name": "Fifi",
        },
    )
    client.post("/antraege/absenden/hund-anmelden/")
    return Submission.objects.latest("pk")


def _fields(pdf: bytes) -> dict[str, Any]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return {name: field.get("/V") for name, field in (reader.get_fields() or {}).items()}


def test_the_citizen_gets_the_official_form_filled_in(client: Client) -> None:
    assert load_demo_official_forms() == 1 and load_demo_official_forms() == 0
    submission = _submit(client, "Mustermann")
    page = client.get(f"/antraege/{submission.reference}/eingegangen/").content.decode()
    code = submission_status_code(submission)
    url = f"/antraege/{submission.reference}/status/{code}/formular.pdf"
    assert url in page
    pdf = client.get(url).content
    fields = _fields(pdf)
    assert fields["Halter_Vorname"] == "Erika" and fields["Halter_Name"] == "Mustermann"
    assert fields["Halter_Ort"] == "Leipzig"  # filled in from the postcode
    assert fields["Hund_Rasse"] == "Dackel"  # the label, not the code
    assert fields["Hund_seit"] == "01.03.2025" and fields["Hund_gefaehrlich"] == "nein"
    assert fields["Weitere_Hunde"] == "Rex; Fifi"
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    # the office gets it too, as a report beside the receipt
    purposes = sorted(f.purpose for f in export_submission(submission).files)
    assert purposes == ["form", "report"]


def test_an_answer_too_long_for_its_field_goes_to_an_annex(client: Client) -> None:
    load_demo_official_forms()
    submission = _submit(client, LONG_NAME)
    code = submission_status_code(submission)
    pdf = client.get(f"/antraege/{submission.reference}/status/{code}/formular.pdf").content
    assert _fields(pdf)["Halter_Name"] == "siehe Anlage, Nr. 1"
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    annex = " ".join(reader.pages[1].extract_text().split())
    assert LONG_NAME in annex and "Familienname" in annex


def test_without_an_official_form_there_is_no_link(client: Client) -> None:
    submission = _submit(client, "Mustermann")
    page = client.get(f"/antraege/{submission.reference}/eingegangen/").content.decode()
    assert "formular.pdf" not in page
    code = submission_status_code(submission)
    assert (
        client.get(f"/antraege/{submission.reference}/status/{code}/formular.pdf").status_code
        == 404
    )
