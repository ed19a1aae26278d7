"""The directory's pages: registering (honeypot, rate limit, duplicates), moderation,
the list with search, filters and the map's data, a profile, editing, members, claims,
the logo upload and the exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from PIL import Image

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.models import Area
from rathaus.core.outbox import process_batch
from rathaus.economy.constants import EntryStatus, MemberRole, TermKind, Visibility
from rathaus.economy.models import Claim, Organisation
from rathaus.economy.tests.factories_directory import (
    OrganisationFactory,
    TermFactory,
    membership,
    shadow,
)

pytestmark = pytest.mark.django_db

REGISTER = "/wirtschaft/verzeichnis/eintragen/"


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(**overrides: str) -> dict[str, str]:
    values = {
        "name": "Leipziger Datenwerk GmbH",
        "kind": "startup",
        "city": "Leipzig",
        "visibility_contact": "members",
        "visibility_email": "public",
        "visibility_phone": "public",
        "visibility_address": "public",
    }
    values.update(overrides)
    return values


def test_start_page_links_the_four_parts(client: Client) -> None:
    page = client.get("/wirtschaft/").content.decode()
    for link in (
        "/wirtschaft/verzeichnis/",
        "/wirtschaft/veranstaltungen/",
        "/wirtschaft/raeume/",
        "/wirtschaft/marktplatz/",
    ):
        assert f'href="{link}"' in page


def test_registering_needs_a_login(client: Client) -> None:
    response = client.get(REGISTER)
    assert response.status_code == 302 and "/konto/anmelden/" in response["Location"]


def test_person_registers_and_sees_the_entry_waiting(personas: dict[str, Any]) -> None:
    client = logged_in(personas["citizen"])
    response = client.post(REGISTER, form(register_number="hrb 4711"), follow=True)
    entry = Organisation.objects.get()
    assert entry.status == EntryStatus.PENDING and entry.register_number == "HRB 4711"
    assert "wartet auf die Prüfung" in response.content.decode()
    assert Client().get(f"/wirtschaft/verzeichnis/{entry.slug}/").status_code == 404


def test_bad_input_is_explained_and_kept(personas: dict[str, Any]) -> None:
    client = logged_in(personas["citizen"])
    response = client.post(
        REGISTER, form(register_number="Amtsgericht", postal_code="041", lat="51,3", name="X Y")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Registernummer wie" in page and "fünf Ziffern" in page
    assert "Breite und Länge zusammen" in page
    assert 'value="X Y"' in page  # nothing typed is lost
    assert 'aria-describedby="id_postal_code_error"' in page
    assert not Organisation.objects.exists()


def test_honeypot_stores_nothing(personas: dict[str, Any]) -> None:
    client = logged_in(personas["citizen"])
    response = client.post(REGISTER, form(website_url="http://spam.example"))
    assert response.status_code == 302
    assert not Organisation.objects.exists()


def test_registering_is_rate_limited(personas: dict[str, Any], settings: Any) -> None:
    from rathaus.economy.views import directory

    client = logged_in(personas["citizen"])
    statuses = [
        client.post(REGISTER, form(name=f"Firma Nummer {n}")).status_code
        for n in range(int(directory.REGISTER_RATE.split("/")[0]) + 1)
    ]
    assert statuses[-1] == 429 and 429 not in statuses[:-1]


def test_duplicate_shows_the_existing_entry_and_offers_to_claim_it(
    personas: dict[str, Any],
) -> None:
    existing = shadow(name="Leipziger Datenwerk AG")
    client = logged_in(personas["citizen"])
    page = client.post(REGISTER, form()).content.decode()
    assert f"/wirtschaft/verzeichnis/{existing.slug}/" in page
    assert f"/wirtschaft/verzeichnis/{existing.slug}/uebernehmen/" in page
    assert Organisation.objects.count() == 1
    # "it is another organisation": registered, with the pair for staff
    client.post(REGISTER, {**form(), "andere_organisation": str(existing.pk)})
    assert Organisation.objects.get(status=EntryStatus.PENDING).duplicate_of == existing


def test_a_duplicate_of_an_entry_that_is_not_public_reveals_neither_its_name_nor_state(
    personas: dict[str, Any],
) -> None:
    hidden = OrganisationFactory(
        name="Geheimprojekt Quanten GmbH", register_number="HRB 999", status=EntryStatus.PENDING
    )
    client = logged_in(personas["citizen"])
    for typed in (form(register_number="HRB 999"), form(name="Geheimprojekt Quanten UG")):
        page = client.post(REGISTER, typed).content.decode()
        assert "schon einen Eintrag, der nicht öffentlich ist" in page
        assert hidden.slug not in page and "wartet" not in page.split('id="duplicate"')[1][:600]
    assert (
        "Geheimprojekt Quanten GmbH"
        not in client.post(REGISTER, form(register_number="HRB 999")).content.decode()
    )
    assert Organisation.objects.count() == 1


def test_staff_moderate_on_the_page_and_a_rejection_needs_a_note(
    personas: dict[str, Any],
) -> None:
    entry = OrganisationFactory(status=EntryStatus.PENDING, name="Prüfling")
    entrant = UserFactory(email="gruenderin@example.org", preferred_language="en")
    membership(entrant, entry)
    staff = logged_in(personas["department"])
    assert "Prüfling" in staff.get("/wirtschaft/verzeichnis/pruefung/").content.decode()
    url = f"/wirtschaft/verzeichnis/pruefung/{entry.pk}/"
    response = staff.post(url, {f"m{entry.pk}-decision": "reject", f"m{entry.pk}-note": ""})
    assert response.status_code == 400 and "Bitte begründen" in response.content.decode()
    staff.post(url, {f"m{entry.pk}-decision": "publish", f"m{entry.pk}-note": "Willkommen!"})
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PUBLISHED
    assert Client().get(f"/wirtschaft/verzeichnis/{entry.slug}/").status_code == 200
    # the entrant hears of it, in their account's language, with the note
    process_batch(worker_id="test", limit=10)
    (notice,) = [m for m in mail.outbox if m.to == ["gruenderin@example.org"]]
    assert notice.subject == "Published: Prüfling" and "Willkommen!" in notice.body
    assert f"/wirtschaft/verzeichnis/{entry.slug}/" in notice.body
    assert (
        logged_in(personas["citizen"]).get("/wirtschaft/verzeichnis/pruefung/").status_code == 403
    )


@pytest.fixture
def directory() -> dict[str, Any]:
    ki = TermFactory(kind=TermKind.COMPETENCE, slug="ki", name="Künstliche Intelligenz")
    mobility = TermFactory(kind=TermKind.SECTOR, slug="mobilitaet", name="Mobilität")
    area = Area.objects.create(uri="https://example.org/ot/1", kind="ortsteil", name="Plagwitz")
    return {
        "ki": ki,
        "area": area,
        "robots": OrganisationFactory(
            name="Robotik Werk",
            description="Wir bauen Lieferroboter.",
            hiring=True,
            lat=51.33,
            lon=12.33,
            area=area,
            terms=[ki, mobility],
        ),
        "bakery": OrganisationFactory(
            name="Bäckerei Digital", kind="sme", lat=51.331, lon=12.331, seeking_partners=True
        ),
        "hidden": OrganisationFactory(
            name="Versteckt GmbH",
            lat=51.40,
            lon=12.40,
            visibility={"address": Visibility.MEMBERS},
            terms=[ki],
        ),
        "pending": OrganisationFactory(name="Robotik Neu", status=EntryStatus.PENDING),
    }


def test_list_searches_and_filters_published_entries(
    client: Client, directory: dict[str, Any]
) -> None:
    def names(query: str) -> list[str]:
        response = client.get("/wirtschaft/verzeichnis/" + query)
        assert response.status_code == 200
        return [o.name for o in response.context["result"].organisations]

    assert names("") == ["Bäckerei Digital", "Robotik Werk", "Versteckt GmbH"]
    assert names("?q=robotik") == ["Robotik Werk"]  # the pending one is not found
    assert names("?q=Lieferroboter") == ["Robotik Werk"]  # description
    assert names("?q=intelligenz") == ["Robotik Werk", "Versteckt GmbH"]  # competence
    assert names("?kompetenz=ki&stellt_ein=on") == ["Robotik Werk"]
    assert names("?sucht_partner=on") == ["Bäckerei Digital"]
    assert names("?art=sme") == ["Bäckerei Digital"]
    assert names(f"?ortsteil={directory['area'].pk}") == ["Robotik Werk"]
    assert names("?branche=mobilitaet") == ["Robotik Werk"]
    # a choice that does not exist: a message, not a 500
    page = client.get("/wirtschaft/verzeichnis/?art=rakete").content.decode()
    assert "Bitte einen Eintrag aus der Liste" in page


def test_map_clusters_nearby_entries_and_leaves_out_hidden_addresses(
    client: Client, directory: dict[str, Any]
) -> None:
    data = client.get("/wirtschaft/verzeichnis/").context["map_data"]
    assert [c["count"] for c in data["clusters"]] == [2]
    names = {e["name"] for e in data["clusters"][0]["entries"]}
    assert names == {"Robotik Werk", "Bäckerei Digital"}


def test_list_is_paginated(client: Client) -> None:
    for n in range(25):
        OrganisationFactory(name=f"Firma {n:02d}")
    first = client.get("/wirtschaft/verzeichnis/")
    second = client.get("/wirtschaft/verzeichnis/?seite=2")
    assert len(first.context["result"].organisations) == 20
    assert [o.name for o in second.context["result"].organisations][0] == "Firma 20"
    assert 'rel="next"' in first.content.decode()
    assert client.get("/wirtschaft/verzeichnis/?seite=999999999").status_code == 200


def test_csv_export_has_public_fields_only_and_is_formula_safe(client: Client) -> None:
    OrganisationFactory(
        name="=HYPERLINK(1)",
        phone="0341 1",
        email="geheim@example.org",
        visibility={"email": Visibility.ORGANISATION},
    )
    body = b"".join(client.get("/wirtschaft/verzeichnis/export.csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0]["name"] == "'=HYPERLINK(1)"
    assert rows[0]["email"] == "" and rows[0]["phone"] == "0341 1"
    data = json.loads(client.get("/wirtschaft/verzeichnis/export.json").content)
    assert data["organisations"][0]["email"] == ""


def test_profile_shows_description_in_english_with_german_fallback(client: Client) -> None:
    entry = OrganisationFactory(description="Auf Deutsch.", description_en="In English.")
    plain = OrganisationFactory(description="Nur Deutsch.")
    assert "Auf Deutsch." in client.get(f"/wirtschaft/verzeichnis/{entry.slug}/").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(f"/wirtschaft/verzeichnis/{entry.slug}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "In English." in english.content.decode()
    fallback = client.get(f"/wirtschaft/verzeichnis/{plain.slug}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Nur Deutsch." in fallback.content.decode()


def test_admin_edits_profile_and_uploads_a_logo(personas: dict[str, Any]) -> None:
    admin = personas["citizen"]
    entry = OrganisationFactory(name="Alt GmbH")
    membership(admin, entry)
    client = logged_in(admin)
    edit = f"/wirtschaft/verzeichnis/{entry.slug}/bearbeiten/"
    assert 'value="Alt GmbH"' in client.get(edit).content.decode()
    client.post(edit, form(name="Neu GmbH", contact_name="Erika Muster"))
    entry.refresh_from_db()
    assert entry.name == "Neu GmbH" and entry.name_key == "neu"
    assert logged_in(UserFactory()).get(edit).status_code == 403

    upload = f"/wirtschaft/verzeichnis/{entry.slug}/logo/"
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(upload, {"logo": SimpleUploadedFile("x.png", b"not an image")})
    assert bad.status_code == 400 and "kein lesbares Bild" in bad.content.decode()
    out = io.BytesIO()
    Image.new("RGB", (50, 50)).save(out, format="WEBP")
    client.post(upload, {"logo": SimpleUploadedFile("x.webp", out.getvalue())})
    entry.refresh_from_db()
    logo = Client().get(f"/wirtschaft/verzeichnis/{entry.slug}/logo.png")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"


def test_members_page_invites_alike_with_or_without_an_account_and_keeps_the_last_admin(
    personas: dict[str, Any],
) -> None:
    admin = personas["citizen"]
    entry = OrganisationFactory()
    own = membership(admin, entry)
    newcomer = UserFactory(email="neu@example.org")
    client = logged_in(admin)
    url = f"/wirtschaft/verzeichnis/{entry.slug}/mitglieder/"
    answers = []
    for address in ("neu@example.org", "keiner@example.org"):
        response = client.post(
            url, {"action": "add", "email": address, "role": MemberRole.MEMBER}, follow=True
        )
        page = response.content.decode()
        assert response.status_code == 200
        answers.append(page.split("Die Einladung an ", 1)[1].split("<", 1)[0].replace(address, "…"))
        assert "Einladung an" in page and address in page  # listed as open
    # the same answer whether or not the address has an account: nothing to learn from it
    assert answers[0] == answers[1]
    assert entry.memberships.count() == 1
    process_batch(worker_id="test", limit=10)
    invite = next(m for m in mail.outbox if m.to == ["neu@example.org"])
    link = invite.body.split("/wirtschaft/einladung/", 1)[1].split("/", 1)[0]
    accept = f"/wirtschaft/einladung/{link}/"
    # a visitor sees what it is about and is asked to log in; nothing happens on GET
    shown = Client().get(accept).content.decode()
    assert entry.name in shown and "Anmelden und Einladung annehmen" in shown
    assert Client().post(accept).status_code == 302
    joined = logged_in(newcomer).post(accept, follow=True)
    assert f"Sie sind jetzt Mitglied von „{entry.name}“" in joined.content.decode()
    assert entry.memberships.filter(user=newcomer, role=MemberRole.MEMBER).exists()
    assert Client().get(accept).status_code == 404  # used up
    assert Client().get("/wirtschaft/einladung/erfunden/").status_code == 404
    bad = client.post(url, {"action": "add", "email": "kein-adresse", "role": "member"})
    assert bad.status_code == 400 and "E-Mail-Adresse angeben" in bad.content.decode()
    page = client.post(url, {"action": "remove", "membership": own.pk}, follow=True)
    assert "letzte Person" in page.content.decode()
    assert entry.memberships.filter(pk=own.pk).exists()
    assert Client().get(url).status_code == 302  # log-in first
    assert logged_in(UserFactory()).get(url).status_code == 403


def test_claim_page_and_staff_approval(personas: dict[str, Any]) -> None:
    entry = shadow(name="Schatten AG")
    claimant = logged_in(personas["citizen"])
    url = f"/wirtschaft/verzeichnis/{entry.slug}/uebernehmen/"
    short = claimant.post(url, {"evidence": "ich"})
    assert short.status_code == 400 and "mindestens 10" in short.content.decode()
    claimant.post(url, {"evidence": "Ich bin Gründerin der Schatten AG."})
    claim = Claim.objects.get()
    assert "Gründerin" not in claim.evidence_encrypted  # kept encrypted
    assert claimant.get(f"/wirtschaft/verzeichnis/{entry.slug}/bearbeiten/").status_code == 403
    staff = logged_in(personas["department"])
    queue = staff.get("/wirtschaft/verzeichnis/pruefung/").content.decode()
    assert "Schatten AG" in queue and "Ich bin Gründerin der Schatten AG." in queue
    staff.post(
        f"/wirtschaft/verzeichnis/uebernahmen/{claim.pk}/", {f"c{claim.pk}-decision": "approve"}
    )
    assert claimant.get(f"/wirtschaft/verzeichnis/{entry.slug}/bearbeiten/").status_code == 200
    process_batch(worker_id="test", limit=10)
    (notice,) = [m for m in mail.outbox if m.to == [personas["citizen"].email]]
    assert notice.subject == "Übernahme bestätigt: Schatten AG"
    assert "Sie verwalten jetzt den Eintrag" in notice.body


def test_superscript_digits_in_numbers_get_the_first_page_not_an_error(client: Any) -> None:
    """Review finding: "²".isdigit() is true, int("²") fails: a 500."""
    response = client.get("/wirtschaft/verzeichnis/?seite=%C2%B2")
    assert response.status_code == 200
