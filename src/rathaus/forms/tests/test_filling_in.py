"""Filling in a form as a citizen: steps, errors, back and next, groups, files, summary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rathaus.catalog.models import Service
from rathaus.forms.demo import load_demo_forms
from rathaus.forms.models import FormDraft, Upload
from rathaus.forms.postcodes import LEIPZIG_FILE
from rathaus.forms.services import postcodes_import

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture
def demo_forms() -> None:
    # The full catalogue may be there already (session fixture of the catalogue tests).
    Service.objects.get_or_create(leika_key="99102013000000", defaults={"name": "Hundesteuer"})
    Service.objects.get_or_create(
        leika_key="99108001001000", defaults={"name": "Bewohnerparkausweis Erteilung"}
    )
    postcodes_import(path=LEIPZIG_FILE)
    load_demo_forms()


def _begin(client: Client, slug: str) -> Any:
    return client.post(f"/formulare/{slug}/beginnen/")


STEP1 = {
    "vorname": "Erika",
    "familienname": "Mustermann",
    "strasse": "Markt 1",
    "plz": "04109",
    "iban": "DE02 1203 0000 0000 2020 51",
}


def test_the_service_page_leads_to_the_form_and_the_form_starts_at_step_one(
    client: Client, demo_forms: None
) -> None:
    assert Service.objects.get(leika_key="99102013000000").form_url == "/formulare/hund-anmelden/"
    start = client.get("/formulare/hund-anmelden/")
    assert "Hund anmelden" in start.content.decode() and "3 Schritte" in start.content.decode()
    response = _begin(client, "hund-anmelden")
    assert response["Location"] == "/formulare/hund-anmelden/schritt/1/"
    page = client.get(response["Location"]).content.decode()
    assert "Schritt 1 von 3" in page
    assert 'autocomplete="given-name"' in page and 'autocomplete="postal-code"' in page


def test_errors_are_listed_on_top_linked_to_fields_and_what_was_typed_stays(
    client: Client, demo_forms: None
) -> None:
    _begin(client, "hund-anmelden")
    response = client.post(
        "/formulare/hund-anmelden/schritt/1/",
        {**STEP1, "plz": "4109", "ort": "Leipzig", "iban": "DE00 1234"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#plz"' in html and "fünf Ziffern" in html
    assert "IBAN ist nicht gültig" in html
    assert (
        'aria-describedby="plz_hint plz_error"' in html or 'aria-describedby=" plz_error"' in html
    )
    assert 'value="Mustermann"' in html  # nothing typed is lost
    assert html.count('aria-invalid="true"') == 2


def test_next_and_back_keep_the_input_and_a_skipped_step_is_refused(
    client: Client, demo_forms: None
) -> None:
    _begin(client, "hund-anmelden")
    assert client.get("/formulare/hund-anmelden/schritt/3/")["Location"].endswith("/schritt/1/")
    assert client.post("/formulare/hund-anmelden/schritt/1/", STEP1)["Location"].endswith(
        "/schritt/2/"
    )
    back = client.post(
        "/formulare/hund-anmelden/schritt/2/", {"hundename": "Bello", "action": "back"}
    )
    assert back["Location"].endswith("/schritt/1/")
    assert 'value="Erika"' in client.get("/formulare/hund-anmelden/schritt/1/").content.decode()
    assert 'value="Bello"' in client.get("/formulare/hund-anmelden/schritt/2/").content.decode()


def test_a_condition_shows_the_upload_only_when_needed_and_the_file_is_checked(
    client: Client, demo_forms: None
) -> None:
    _begin(client, "hund-anmelden")
    client.post("/formulare/hund-anmelden/schritt/1/", STEP1)
    step2 = {
        "hundename": "Bello",
        "rasse": "dackel",
        "gehalten_seit": "01.03.2025",
        "gefaehrlich": "nein",
    }
    assert client.post("/formulare/hund-anmelden/schritt/2/", step2).status_code == 302
    needs_file = client.post("/formulare/hund-anmelden/schritt/2/", {**step2, "gefaehrlich": "ja"})
    assert needs_file.status_code == 422 and "Datei hoch" in needs_file.content.decode()
    fake = SimpleUploadedFile(
        "../../etc/bescheid.pdf", b"MZ this is no pdf", content_type="application/pdf"
    )
    rejected = client.post(
        "/formulare/hund-anmelden/schritt/2/", {**step2, "gefaehrlich": "ja", "bescheid": fake}
    )
    assert "Datei dieser Art hoch: PDF, PNG oder JPEG" in rejected.content.decode()
    empty = SimpleUploadedFile("leer.pdf", b"", content_type="application/pdf")
    assert (
        "leer"
        in client.post(
            "/formulare/hund-anmelden/schritt/2/", {**step2, "gefaehrlich": "ja", "bescheid": empty}
        ).content.decode()
    )
    good = SimpleUploadedFile("../../Bescheid\x07.png", PNG, content_type="image/png")
    ok = client.post(
        "/formulare/hund-anmelden/schritt/2/", {**step2, "gefaehrlich": "ja", "bescheid": good}
    )
    assert ok.status_code == 302
    upload = Upload.objects.get()
    assert upload.filename == "Bescheid.png" and upload.content_type == "image/png"


def test_repeatable_group_entries_are_added_and_removed_without_javascript(
    client: Client, demo_forms: None
) -> None:
    _begin(client, "hund-anmelden")
    client.post("/formulare/hund-anmelden/schritt/1/", STEP1)
    client.post(
        "/formulare/hund-anmelden/schritt/2/",
        {
            "hundename": "Bello",
            "rasse": "dackel",
            "gehalten_seit": "2025-03-01",
            "gefaehrlich": "nein",
        },
    )
    page = client.post(
        "/formulare/hund-anmelden/schritt/3/",
        {"weitere_hunde__count": "0", "action": "add:weitere_hunde"},
    )
    assert 'name="weitere_hunde__0__weiterer_name"' in page.content.decode()
    two = client.post(
        "/formulare/hund-anmelden/schritt/3/",
        {
            "weitere_hunde__count": "1",
            "weitere_hunde__0__weiterer_name": "Rex",
            "action": "add:weitere_hunde",
        },
    )
    assert (
        'value="Rex"' in two.content.decode()
        and 'name="weitere_hunde__1__weiterer_name"' in two.content.decode()
    )
    removed = client.post(
        "/formulare/hund-anmelden/schritt/3/",
        {
            "weitere_hunde__count": "2",
            "weitere_hunde__0__weiterer_name": "Rex",
            "weitere_hunde__1__weiterer_name": "Fifi",
            "action": "remove:weitere_hunde:0",
        },
    )
    html = removed.content.decode()
    assert 'value="Fifi"' in html and 'value="Rex"' not in html


def test_summary_shows_everything_with_change_links_and_the_draft_is_encrypted(
    client: Client, demo_forms: None
) -> None:
    _begin(client, "hund-anmelden")
    client.post("/formulare/hund-anmelden/schritt/1/", STEP1)
    client.post(
        "/formulare/hund-anmelden/schritt/2/",
        {
            "hundename": "Bello",
            "rasse": "dackel",
            "gehalten_seit": "01.03.2025",
            "gefaehrlich": "nein",
        },
    )
    done = client.post(
        "/formulare/hund-anmelden/schritt/3/", {"zustimmung": "on", "weitere_hunde__count": "0"}
    )
    assert done["Location"] == "/formulare/hund-anmelden/pruefen/"
    html = client.get(done["Location"]).content.decode()
    for text in ("Erika", "Dackel", "01.03.2025", "DE02120300000000202051", "vollständig"):
        assert text in html, text
    assert len(re.findall(r'href="/formulare/hund-anmelden/schritt/\d/"', html)) == 3
    stored = FormDraft.objects.get().data_encrypted
    assert "Erika" not in stored and "Mustermann" not in stored


def test_another_browser_cannot_see_the_draft(client: Client, demo_forms: None) -> None:
    _begin(client, "hund-anmelden")
    client.post("/formulare/hund-anmelden/schritt/1/", STEP1)
    stranger = Client()
    assert (
        stranger.get("/formulare/hund-anmelden/schritt/1/")["Location"]
        == "/formulare/hund-anmelden/"
    )
    assert (
        stranger.get("/formulare/hund-anmelden/pruefen/")["Location"] == "/formulare/hund-anmelden/"
    )


@pytest.mark.parametrize("slug", ["bewohnerparkausweis", "gewerbeanmeldung"])
def test_every_step_of_the_fim_demo_forms_renders(
    client: Client, demo_forms: None, slug: str
) -> None:
    from rathaus.forms.models import FormDraft as Draft

    _begin(client, slug)
    Draft.objects.update(step_reached=10)
    number = 1
    while True:
        response = client.get(f"/formulare/{slug}/schritt/{number}/")
        if response.status_code == 302:
            break
        assert response.status_code == 200
        assert f"Schritt {number} von" in response.content.decode()
        number += 1
    assert number > 3


def test_api_lists_published_forms_and_gives_definition_and_schema(
    client: Client, demo_forms: None, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(4):
        forms = client.get("/api/v1/forms").json()
    hund = next(f for f in forms if f["slug"] == "hund-anmelden")
    assert hund["services"] == ["99102013000000"]
    body = client.get("/api/v1/forms/hund-anmelden").json()
    assert body["definition"]["format"] == "rathaus-form/1"
    assert body["data_schema"]["additionalProperties"] is False
    assert client.get("/api/v1/forms/gibt-es-nicht").status_code == 404


def test_resume_link_by_email_continues_on_another_device(client: Client, demo_forms: None) -> None:
    from django.core import mail

    from rathaus.core.models import OutboxMessage
    from rathaus.core.outbox import process_batch

    _begin(client, "hund-anmelden")
    client.post("/formulare/hund-anmelden/schritt/1/", STEP1)
    sent = client.post("/formulare/hund-anmelden/spaeter/", {"email": "erika@example.org"})
    assert "Postfach" in sent.content.decode()
    assert "erika@example.org" not in str(OutboxMessage.objects.get().payload)  # encrypted
    process_batch(worker_id="test")
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)  # type: ignore[union-attr]
    path = link.split("8000", 1)[1]
    phone = Client()
    assert "Weiter ausfüllen" in phone.get(path).content.decode()  # GET alone changes nothing
    continued = phone.post(path)
    assert continued["Location"] == "/formulare/hund-anmelden/schritt/2/"
    assert 'value="Erika"' in phone.get("/formulare/hund-anmelden/schritt/1/").content.decode()
    assert Client().post(path.replace("fortsetzen/", "fortsetzen/x")).status_code == 400


def test_logged_in_people_find_their_drafts_and_others_cannot_open_them(
    client: Client, demo_forms: None, personas: dict[str, Any]
) -> None:
    client.force_login(personas["citizen"])
    _begin(client, "hund-anmelden")
    client.post("/formulare/hund-anmelden/schritt/1/", STEP1)
    draft = FormDraft.objects.get()
    page = client.get("/formulare/").content.decode()
    assert "Ihre angefangenen Formulare" in page and "Hund anmelden" in page
    other = Client()
    other.force_login(personas["caseworker"])
    assert other.post(f"/formulare/entwurf/{draft.pk}/").status_code == 404
    fresh = Client()
    fresh.force_login(personas["citizen"])
    assert (
        fresh.post(f"/formulare/entwurf/{draft.pk}/")["Location"]
        == "/formulare/hund-anmelden/schritt/2/"
    )


def test_the_worker_deletes_expired_drafts_with_their_files(
    client: Client, demo_forms: None
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from rathaus.core import blobs
    from rathaus.core.outbox import run_periodic
    from rathaus.forms.uploads import upload_name

    _begin(client, "hund-anmelden")
    client.post("/formulare/hund-anmelden/schritt/1/", STEP1)
    step2 = {
        "hundename": "Bello",
        "rasse": "dackel",
        "gehalten_seit": "01.03.2025",
        "gefaehrlich": "ja",
        "bescheid": SimpleUploadedFile("b.png", PNG, content_type="image/png"),
    }
    client.post("/formulare/hund-anmelden/schritt/2/", step2)
    upload = Upload.objects.get()
    assert blobs.exists(upload_name(upload.token))
    FormDraft.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    run_periodic({})
    assert not FormDraft.objects.exists() and not Upload.objects.exists()
    assert not blobs.exists(upload_name(upload.token))


def test_street_suggestions_come_from_leipzigs_street_directory(client: Client) -> None:
    html = client.get("/formulare/strassen/", {"strasse": "Karl-Lieb"}).content.decode()
    assert '<option value="Karl-Liebknecht-Straße">' in html
    assert client.get("/formulare/strassen/", {"strasse": "x"}).content.decode().strip() == ""
    assert "<script" not in client.get("/formulare/strassen/", {"q": "<script>"}).content.decode()
