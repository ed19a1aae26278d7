"""Submitting the dog registration as a citizen: one submission per draft whatever is clicked,
a reference number, the receipt PDF, the e-mail, the status page; nothing half-written."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pypdf
import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rathaus.catalog.models import Service
from rathaus.core import blobs
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import process_batch
from rathaus.core.services import outbox_message_create
from rathaus.forms.demo import load_demo_forms
from rathaus.forms.models import FormDraft, Upload
from rathaus.forms.postcodes import LEIPZIG_FILE
from rathaus.forms.services import postcodes_import
from rathaus.forms.uploads import upload_name, upload_store
from rathaus.submissions.models import Attachment, IssuedReference, StatusEvent, Submission
from rathaus.submissions.references import normalise
from rathaus.submissions.selectors import submission_data, submission_status_code

pytestmark = pytest.mark.django_db
REFERENCE = re.compile(r"L-20\d\d-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")
HOSTILE = '#read("/etc/passwd") #include "x" #eval("1") {{ x }} $a$ \\ *fett*'


@pytest.fixture
def demo_forms() -> None:
    Service.objects.get_or_create(leika_key="99102013000000", defaults={"name": "Hundesteuer"})
    postcodes_import(path=LEIPZIG_FILE)
    load_demo_forms()


def fill_in_dog_form(
    client: Client, *, name: str = "Erika", family_name: str = HOSTILE, with_file: bool = False
) -> None:
    client.post("/formulare/hund-anmelden/beginnen/")
    client.post(
        "/formulare/hund-anmelden/schritt/1/",
        {
            "vorname": name,
            "familienname": family_name,
            "strasse": "Markt 1",
            "plz": "04109",
            "email": "erika@example.org",
            "iban": "DE02 1203 0000 0000 2020 51",
        },
    )
    step2: dict[str, Any] = {
        "hundename": "Bello",
        "rasse": "dackel",
        "gehalten_seit": "01.03.2025",
        "gefaehrlich": "ja" if with_file else "nein",
    }
    if with_file:
        step2["bescheid"] = SimpleUploadedFile("bescheid.pdf", b"%PDF-1.7\nWesenstest bestanden")
    assert client.post("/formulare/hund-anmelden/schritt/2/", step2).status_code == 302
    done = client.post(
        "/formulare/hund-anmelden/schritt/3/",
        {
            "zustimmung": "on",
            "weitere_hunde__count": "1",
            "weitere_hunde__0__weiterer_name": "Rex",
        },
    )
    assert done["Location"] == "/formulare/hund-anmelden/pruefen/"


def test_submitting_gives_a_reference_number_a_receipt_and_the_rows_for_later(
    client: Client, demo_forms: None
) -> None:
    fill_in_dog_form(client, with_file=True)
    summary = client.get("/formulare/hund-anmelden/pruefen/").content.decode()
    assert 'action="/antraege/absenden/hund-anmelden/"' in summary and "Absenden" in summary
    response = client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    assert REFERENCE.fullmatch(submission.reference)
    assert response["Location"] == f"/antraege/{submission.reference}/eingegangen/"
    page = client.get(response["Location"]).content.decode()
    assert submission.reference in page and "eingangsbestaetigung.pdf" in page
    assert submission_status_code(submission) in page
    # the draft is gone, its file now belongs to the submission (still encrypted on disk)
    assert not FormDraft.objects.exists() and not Upload.objects.exists()
    attachment = Attachment.objects.get(submission=submission)
    assert attachment.field_id == "bescheid" and attachment.filename == "bescheid.pdf"
    assert b"Wesenstest" not in blobs.fetch(upload_name(attachment.token)).raw
    # audit entry and the outbox rows were written with it
    assert AuditEntry.objects.filter(action="submission.create", object_id=str(submission.pk))
    topics = set(OutboxMessage.objects.values_list("topic", flat=True))
    assert {"submissions.receipt", "submissions.confirmation"} <= topics
    # encrypted at rest: no answer readable in the row
    row = Submission.objects.values().get()
    assert "Erika" not in json.dumps(row, default=str) and "erika@" not in json.dumps(
        row, default=str
    )
    assert submission_data(submission)["vorname"] == "Erika"


def test_a_double_click_a_reload_and_a_retry_make_one_submission(
    client: Client, demo_forms: None
) -> None:
    fill_in_dog_form(client)
    first = client.post("/antraege/absenden/hund-anmelden/")
    again = client.post("/antraege/absenden/hund-anmelden/")
    assert first["Location"] == again["Location"]
    assert Submission.objects.count() == 1 and IssuedReference.objects.count() == 1
    assert client.get(first["Location"]).status_code == 200  # reload of the confirmation
    # a browser that did not submit is not shown the confirmation
    assert Client().get(first["Location"])["Location"] == "/antraege/status/"


def test_the_receipt_is_pdf_a_3b_tagged_with_every_answer_literally_and_the_json_inside(
    client: Client, demo_forms: None
) -> None:
    fill_in_dog_form(client, with_file=True)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    code = submission_status_code(submission)
    response = client.get(
        f"/antraege/{submission.reference}/status/{code}/eingangsbestaetigung.pdf"
    )
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in (submission.reference, "Erika", "Dackel", "Rex", "Hundesteuer"):
        assert expected in text, expected
    assert HOSTILE in " ".join(text.split())  # template code in an answer stays text
    attachment = Attachment.objects.get()
    assert "bescheid.pdf" in text and attachment.sha256 in text.replace("\n", "")
    # PDF/A-3b and PDF/UA-1, tagged, in German, with a title
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "B" in re.findall(r"pdfaid:conformance[=>\"]+([AB])", xmp)
    assert re.search(r"pdfuaid:part[=>\"]+1", xmp)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "de" and root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    assert "Eingangsbestätigung" in (reader.metadata.title or "")
    # the submission's JSON, attached as the document's source
    ((name, contents),) = reader.attachments.items()
    attached = json.loads(contents[0])
    assert name == f"antrag-{submission.reference}.json"
    assert (
        attached["data"]["familienname"] == HOSTILE
        and attached["reference"] == submission.reference
    )
    spec = root["/Names"]["/EmbeddedFiles"]["/Names"][1].get_object()
    assert spec["/AFRelationship"] == "/Source"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"
    # the same document every time (kept, not made again)
    again = client.get(f"/antraege/{submission.reference}/status/{code}/eingangsbestaetigung.pdf")
    assert again.content == response.content


def test_the_confirmation_email_goes_out_through_the_outbox(
    client: Client, demo_forms: None
) -> None:
    fill_in_dog_form(client)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    assert not mail.outbox  # nothing is sent from inside the request
    process_batch(worker_id="test", limit=10)
    (message,) = mail.outbox
    assert message.to == ["erika@example.org"] and submission.reference in message.subject
    link = re.search(r"http\S+/antraege/\S+/status/\S+/", message.body)
    assert link is not None
    status = Client().get(link.group(0).split("8000", 1)[-1])
    assert status.status_code == 200 and "eingegangen" in status.content.decode()
    submission.refresh_from_db()
    assert submission.receipt_token  # the worker made the receipt too


def test_on_postgresql_the_statement_that_takes_a_submission_is_prepared(
    client: Client, demo_forms: None
) -> None:
    """Prepared, it costs the database half as much; it must go on working as such."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for number in range(7):
        citizen = Client()
        fill_in_dog_form(citizen, name=f"Erika {number}")
        assert citizen.post("/antraege/absenden/hund-anmelden/").status_code == 302
    assert Submission.objects.count() == 7
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['WITH p AS (INSERT INTO "submissions_submission"%'],
        )
        assert cursor.fetchone()[0] == 1


def test_outbox_rows_written_before_the_upgrade_are_still_delivered(
    client: Client, demo_forms: None
) -> None:
    """Rows queued by an older release name the submission by id, not by reference:
    migration 0008 gives them today's shape."""
    from importlib import import_module

    from django.apps import apps

    fill_in_dog_form(client)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    OutboxMessage.objects.all().delete()
    outbox_message_create(
        topic="submissions.confirmation", payload={"submission_id": submission.pk}
    )
    import_module("rathaus.submissions.migrations.0008_queued_messages").todays_shape(apps, None)
    process_batch(worker_id="test", limit=10)
    (message,) = mail.outbox
    assert submission.reference in message.subject


def test_the_status_page_needs_the_right_code_and_wrong_guesses_are_throttled(
    client: Client, demo_forms: None
) -> None:
    fill_in_dog_form(client)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    code = submission_status_code(submission)
    visitor = Client()
    page = visitor.get(f"/antraege/{submission.reference}/status/{code}/")
    assert page.status_code == 200 and "Verlauf" in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer" and "no-store" in page["Cache-Control"]
    wrong_code = visitor.get(f"/antraege/{submission.reference}/status/{code}x/")
    other = "L-2026-2222-2222"
    wrong_number = visitor.get(f"/antraege/{other}/status/{code}/")
    assert wrong_code.status_code == wrong_number.status_code == 404
    assert _main(wrong_code) == _main(wrong_number)  # nothing given away
    # typed in from the receipt: lower case and without dashes is fine
    typed = visitor.post(
        "/antraege/status/",
        {"reference": submission.reference.lower().replace("-", ""), "code": code},
    )
    assert typed["Location"] == f"/antraege/{submission.reference}/status/{code}/"
    for _ in range(10):
        visitor.post("/antraege/status/", {"reference": submission.reference, "code": "falsch"})
    blocked = visitor.get(f"/antraege/{submission.reference}/status/{code}/")
    assert blocked.status_code == 429


def _main(response: Any) -> str:
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main)


def test_a_reference_number_has_a_check_character_and_is_never_given_twice(
    client: Client, demo_forms: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_in_dog_form(client)
    client.post("/antraege/absenden/hund-anmelden/")
    first = Submission.objects.get().reference
    assert normalise(first) == first
    positions = [i for i, ch in enumerate(first) if ch != "-"][1:]  # year, body, check
    for position in positions:
        for wrong in "23456789ABCDEFGHJKMNPQRSTUVWXYZ":
            if wrong != first[position] and not (position < 7 and not wrong.isdigit()):
                changed = first[:position] + wrong + first[position + 1 :]
                assert normalise(changed) is None, changed
    for left, right in zip(positions[4:], positions[5:], strict=False):
        if first[left] != first[right]:
            swapped = list(first)
            swapped[left], swapped[right] = first[right], first[left]
            assert normalise("".join(swapped)) is None
    # retention deletes the submission; the number stays taken
    Submission.objects.all().delete()
    draws = iter([first, first, "L-2026-2345-6789"])
    from rathaus.submissions import services

    monkeypatch.setattr(services, "new_reference", lambda prefix, year: next(draws))
    fill_in_dog_form(Client(), name="Max")
    other = Client()
    fill_in_dog_form(other, name="Max")
    other.post("/antraege/absenden/hund-anmelden/")
    assert Submission.objects.get().reference == "L-2026-2345-6789"


def test_nothing_is_half_written_when_something_fails(
    client: Client, demo_forms: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.submissions import services

    fill_in_dog_form(client)
    # the database refuses the last row written with the submission (its outbox row for
    # the receipt): everything before it in the same write must be gone too
    monkeypatch.setattr(services, "new_reference", lambda prefix, year: "L-2026-2345-6789")
    blocker = outbox_message_create(
        topic="test", payload={}, idempotency_key="receipt:L-2026-2345-6789"
    )
    client.raise_request_exception = False
    response = client.post("/antraege/absenden/hund-anmelden/")
    assert response.status_code == 500
    assert not Submission.objects.exists() and not IssuedReference.objects.exists()
    assert not StatusEvent.objects.exists()
    assert not AuditEntry.objects.filter(action="submission.create").exists()
    assert FormDraft.objects.exists()  # the citizen's input is still there
    blocker.delete()
    assert client.post("/antraege/absenden/hund-anmelden/").status_code == 302
    assert Submission.objects.get().reference == "L-2026-2345-6789"


def test_logged_in_people_see_their_submissions_and_nobody_elses(
    client: Client, demo_forms: None, personas: dict[str, Any]
) -> None:
    citizen = personas["citizen"]
    client.force_login(citizen)
    fill_in_dog_form(client)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    assert submission.user == citizen
    listing = client.get("/antraege/meine/").content.decode()
    assert submission.reference in listing
    assert client.get(f"/antraege/meine/{submission.reference}/").status_code == 200
    pdf = client.get(f"/antraege/meine/{submission.reference}/eingangsbestaetigung.pdf")
    assert pdf.content.startswith(b"%PDF")
    stranger = Client()
    stranger.force_login(personas["organisation"])
    assert stranger.get(f"/antraege/meine/{submission.reference}/").status_code == 404
    assert submission.reference not in stranger.get("/antraege/meine/").content.decode()


def test_the_citizen_gets_the_documents_the_office_released_and_only_those(
    client: Client, demo_forms: None
) -> None:
    from django.utils import timezone

    from rathaus.core.crypto import encrypt_json
    from rathaus.submissions.constants import SubmissionStatus
    from rathaus.submissions.models import ReleasedDocument, StatusEvent

    fill_in_dog_form(client)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    code = submission_status_code(submission)
    documents = []
    for title, released in (("Steuerbescheid", timezone.now()), ("Entwurf", None)):
        token = upload_store(b"%PDF-1.7 " + title.encode())
        documents.append(
            ReleasedDocument.objects.create(
                submission=submission,
                title=title,
                filename=f"{title}.pdf",
                token=token,
                content_type="application/pdf",
                size=10,
                released_at=released,
            )
        )
    StatusEvent.objects.create(
        submission=submission,
        status=SubmissionStatus.DECIDED,
        message_encrypted=encrypt_json("Ihr Hund ist angemeldet."),
    )
    page = client.get(f"/antraege/{submission.reference}/status/{code}/").content.decode()
    assert "Steuerbescheid" in page and "Entwurf" not in page
    assert "entschieden" in page and "Ihr Hund ist angemeldet." in page
    base = f"/antraege/{submission.reference}/status/{code}/dokumente"
    assert client.get(f"{base}/{documents[0].pk}/").content == b"%PDF-1.7 Steuerbescheid"
    assert client.get(f"{base}/{documents[1].pk}/").status_code == 404  # not released
    assert client.get(f"/antraege/{submission.reference}/status/x/dokumente/1/").status_code == 404


def test_a_form_version_that_is_not_published_takes_no_submission(demo_forms: None) -> None:
    from rathaus.forms.constants import VersionStatus
    from rathaus.forms.models import FormVersion
    from rathaus.submissions.services import SubmissionRefused, submission_create

    version = FormVersion.objects.get(form__slug="hund-anmelden")
    FormVersion.objects.filter(pk=version.pk).update(status=VersionStatus.DRAFT)
    version.refresh_from_db()
    with pytest.raises(SubmissionRefused, match="not published"):
        submission_create(version=version, data={}, files={}, user=None)
    assert not Submission.objects.exists()


def test_the_status_code_never_reaches_the_access_log(
    client: Client, demo_forms: None, caplog: pytest.LogCaptureFixture
) -> None:
    fill_in_dog_form(client)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.get()
    code = submission_status_code(submission)
    with caplog.at_level("INFO", logger="rathaus.access"):
        client.get(f"/antraege/{submission.reference}/status/{code}/")
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    assert "antraege" in logged and code not in logged
