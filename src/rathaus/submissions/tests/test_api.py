"""POST /api/v1/forms/{slug}/submissions: what another front-end sees. The same checks as the
web form with errors per field in German and English, files as multipart parts, and one
submission per Idempotency-Key."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pypdf
import pytest
from django.test import Client
from django.utils import timezone

from rathaus.core import blobs
from rathaus.forms.constants import VersionStatus
from rathaus.forms.models import FormVersion
from rathaus.submissions.models import Attachment, Submission
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]
URL = "/api/v1/forms/hund-anmelden/submissions"
VALID: dict[str, Any] = {
    "vorname": "Erika",
    "familienname": "Mustermann",
    "strasse": "Markt 1",
    "plz": "04109",
    "ort": "Leipzig",
    "email": "erika@example.org",
    "iban": "DE02120300000000202051",
    "hundename": "Bello",
    "rasse": "dackel",
    "gehalten_seit": "2025-03-01",
    "gefaehrlich": False,
    "zustimmung": True,
    "weitere_hunde": [{"weiterer_name": "Rex"}],
}


def _post(client: Client, data: Any, **headers: str) -> Any:
    return client.post(URL, json.dumps(data), content_type="application/json", headers=headers)


def test_a_valid_submission_gets_its_reference_status_link_and_receipt(client: Client) -> None:
    response = _post(client, VALID)
    assert response.status_code == 201, response.content
    body = response.json()
    submission = Submission.objects.get()
    assert body["reference"] == submission.reference
    status = Client().get(body["status_url"].removeprefix("http://testserver"))
    assert status.status_code == 200 and submission.reference in status.content.decode()
    receipt = Client().get(body["receipt_url"].removeprefix("http://testserver"))
    text = pypdf.PdfReader(io.BytesIO(receipt.content)).pages[0].extract_text()
    assert "Bello" in text and submission.reference in text


def test_the_same_idempotency_key_gives_the_first_answer_and_nothing_new(client: Client) -> None:
    first = _post(client, VALID, **{"Idempotency-Key": "kiosk-7-0815"})
    again = _post(client, VALID, **{"Idempotency-Key": "kiosk-7-0815"})
    assert first.status_code == again.status_code == 201
    assert first.json()["reference"] == again.json()["reference"]
    assert again["Idempotent-Replayed"] == "true" and Submission.objects.count() == 1
    other = _post(client, VALID, **{"Idempotency-Key": "kiosk-7-0816"})
    assert other.json()["reference"] != first.json()["reference"]
    # whoever knows only the key gets nothing of the first submission
    guessed = _post(client, {}, **{"Idempotency-Key": "kiosk-7-0815"})
    assert guessed.status_code == 409 and "status_url" not in guessed.json()
    assert guessed.json()["error"] == "idempotency_conflict"
    assert Submission.objects.count() == 2


def test_every_problem_is_named_per_field_in_german_and_english(client: Client) -> None:
    bad = {
        **VALID,
        "vorname": "",  # an empty text is not an answer
        "plz": "4109",
        "iban": "DE03120300000000202051",  # check digits wrong
        "rasse": "wolf",  # not in the code list
        "hundename": "B" * 200,
        "gehalten_seit": "01.03.2025",  # the API takes ISO dates
        "erfunden": "x",
        "weitere_hunde": [{"weiterer_name": "Rex", "chip": "123"}],
    }
    del bad["familienname"]
    response = _post(client, bad)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error" and set(body["messages"]) == {"de", "en"}
    by_field = {e["field"]: e for e in body["errors"]}
    assert by_field["familienname"]["messages"]["de"] == "Bitte füllen Sie dieses Feld aus."
    assert by_field["vorname"]["messages"]["en"] == "Please fill in this field."
    assert by_field["plz"]["messages"] == {
        "de": "Eine Postleitzahl hat fünf Ziffern.",
        "en": "A postcode has five digits.",
    }
    assert "angebotenen" in by_field["rasse"]["messages"]["de"]
    assert "40" in by_field["hundename"]["messages"]["de"]
    assert "JJJJ-MM-TT" in by_field["gehalten_seit"]["messages"]["de"]
    assert "erfunden" in by_field and "weitere_hunde/0/chip" in by_field
    assert not Submission.objects.exists()
    # IBAN check digits are checked once the rest is right, as in the web form
    iban = _post(client, {**VALID, "iban": "DE03120300000000202051"})
    assert [e["field"] for e in iban.json()["errors"]] == ["iban"]


def test_files_come_as_multipart_parts_checked_by_content(client: Client) -> None:
    data = {**VALID, "gefaehrlich": True, "bescheid": "part:nachweis"}
    good = client.post(
        URL,
        {"data": json.dumps(data), "nachweis": io.BytesIO(b"%PDF-1.7\nWesenstest")},
    )
    assert good.status_code == 201, good.content
    attachment = Attachment.objects.get()
    assert attachment.field_id == "bescheid" and attachment.content_type == "application/pdf"
    files_before = blobs.names(blobs.UPLOADS)
    fake = client.post(URL, {"data": json.dumps(data), "nachweis": io.BytesIO(b"MZ\x90 not a pdf")})
    assert fake.status_code == 422
    (error,) = fake.json()["errors"]
    assert error["field"] == "bescheid"
    assert error["messages"]["en"].startswith("Please upload a file of this kind")
    assert blobs.names(blobs.UPLOADS) == files_before  # nothing of it kept
    missing = client.post(URL, {"data": json.dumps(data)})
    assert missing.json()["errors"][0]["field"] == "bescheid"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 422),
        (b"", "application/json", 422),
        (b"[" * 100_000, "application/json", 400),  # nested too deep
        (b'{"vorname": "Er\\u0000ika"}', "application/json", 400),  # no column stores NUL
    ],
)
def test_malformed_bodies_get_a_clear_answer(
    client: Client, body: bytes, content_type: str, status: int
) -> None:
    response = client.post(URL, body, content_type=content_type)
    assert response.status_code == status
    assert set(response.json()["messages"]) == {"de", "en"}


@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain", "application/x"])
def test_a_nul_character_in_the_data_is_refused_however_it_is_sent(
    client: Client, content_type: str
) -> None:
    data = json.dumps({**VALID, "vorname": "Er\u0000ika"})
    if content_type == "multipart/form-data":
        response = client.post(URL, {"data": data})
    else:
        response = client.post(URL, data, content_type=content_type)
    assert response.status_code == 400
    assert set(response.json()["messages"]) == {"de", "en"}
    assert not Submission.objects.exists()
    # a backslash followed by "u0000" is just text
    text = json.dumps({**VALID, "vorname": "Er\\u0000ika"})
    assert client.post(URL, text, content_type="text/plain").status_code == 201


@pytest.mark.parametrize(
    "data",
    [
        {"vorname": "Er\u0000ika"},
        {"gehalten_seit": {"from": "2025-03-01", "to": "2025-03-0\u00001"}},
        {"weitere_hunde": [{"weiterer_name": "Rex", "urlaub": {"from": "\u0000"}}]},
    ],
)
def test_a_nul_the_api_refuses_before_any_form_is_looked_up_is_outside_the_documented_body(
    client: Client, data: dict[str, Any]
) -> None:
    """Regression: schemathesis flaked (ST202, "schema-valid request rejected") when it put a
    NUL into a date range's `from`/`to`, which the OpenAPI document allowed: the middleware
    answers 400 for any NUL before routing, so not even an unknown form gets its 404."""
    unknown = "/api/v1/forms/gibt-es-nicht/submissions"
    without_nul = json.loads(json.dumps(data).replace("\\u0000", ""))
    response = client.post(unknown, json.dumps(data), content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["messages"]) == {"de", "en"}
    answer = client.post(unknown, json.dumps(without_nul), content_type="application/json")
    assert answer.status_code == 404
    document = client.get("/api/v1/openapi.json").json()
    body = document["paths"]["/api/v1/forms/{slug}/submissions"]["post"]["requestBody"]
    schema = {**body["content"]["application/json"]["schema"], "components": document["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid(data)
    assert validator.is_valid(without_nul)


def test_a_version_superseded_a_moment_ago_takes_no_submission(client: Client) -> None:
    """Which version is current is kept a few seconds per process; another process that
    publishes a newer one meanwhile is noticed where the submission is written."""
    assert _post(client, VALID).status_code == 201
    old = FormVersion.objects.get(form__slug="hund-anmelden")
    newer = FormVersion.objects.create(  # published by another app node: no signal here
        form=old.form,
        number=old.number + 1,
        status=VersionStatus.PUBLISHED,
        definition=old.definition,
        json_schema=old.json_schema,
        published_at=timezone.now(),
    )
    refused = _post(client, VALID)
    assert refused.status_code == 422, refused.content
    assert refused.json()["errors"][0]["messages"]["en"] == "This form is not published."
    assert Submission.objects.count() == 1
    again = _post(client, VALID)  # the next request asks again and goes to the new version
    assert again.status_code == 201
    assert Submission.objects.get(reference=again.json()["reference"]).version == newer


def test_a_version_taken_back_behind_the_app_takes_no_submission(client: Client) -> None:
    """Nothing in Rathaus turns a published version back, but whoever does it in the
    database is obeyed at once, not after the few seconds the current version is kept."""
    assert _post(client, VALID).status_code == 201
    FormVersion.objects.filter(form__slug="hund-anmelden").update(status=VersionStatus.DRAFT)
    refused = _post(client, VALID)
    assert refused.status_code == 422, refused.content
    assert (
        refused.json()["errors"][0]["messages"]["de"] == "Dieses Formular ist nicht veröffentlicht."
    )
    assert Submission.objects.count() == 1


def test_an_unknown_or_unpublished_form_is_404(client: Client) -> None:
    assert _post_to(client, "/api/v1/forms/gibt-es-nicht/submissions").status_code == 404


def _post_to(client: Client, url: str) -> Any:
    return client.post(url, json.dumps(VALID), content_type="application/json")
