"""The board of offers and needs and the network in Chromium: a visitor reads the city's
need, a member logs in, replies, writes an offer (correcting a mistake the page points out),
and looks at the network of relations; axe-core on every page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board() -> dict[str, Any]:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import UserFactory, with_role
    from rathaus.economy.constants import RelationKind, TermKind
    from rathaus.economy.models import Membership, Organisation, Term
    from rathaus.economy.services.board import post_create
    from rathaus.economy.services.relations import relation_propose

    ki = Term.objects.create(kind=TermKind.COMPETENCE, slug="ki", name="Künstliche Intelligenz")
    daten = Term.objects.create(kind=TermKind.COMPETENCE, slug="daten", name="Datenanalyse")

    def org(name: str, slug: str) -> Organisation:
        return Organisation.objects.create(
            name=name, name_key=slug, slug=slug, kind="startup", status="published"
        )

    alpha, hub = org("Alpha Labs", "alpha-labs"), org("Basislager Hub", "basislager")
    alpha.competences.set([ki, daten])
    alice = UserFactory(email="alice@example.org", first_name="Alice", last_name="Adler")
    Membership.objects.create(user=alice, organisation=alpha, role="admin")
    staff = with_role(UserFactory(email="staff@example.org"), Role.DEPARTMENT_STAFF)
    need = post_create(
        author=staff,
        kind="need",
        title="Wir suchen eine Lösung für Parkraumdaten",
        body="Die Stadt sucht Sensorik und Auswertung für freie Parkplätze.",
        competence_ids=[ki.pk, daten.pk],
        deadline=date(2099, 12, 31),
    )
    relation_propose(
        actor=staff,
        source_id=alpha.pk,
        kind=RelationKind.LOCATED_AT_HUB,
        target_id=hub.pk,
        starts_on=date(2023, 4, 1),
    )
    return {"need": need, "ki": ki}


def test_a_member_replies_to_the_citys_need_and_posts_an_offer(
    page: Any, live_server: Any, axe: Any, board: dict[str, Any], console_errors: list[str]
) -> None:
    from rathaus.accounts.tests.factories import PASSWORD

    page.goto(live_server.url + "/wirtschaft/marktplatz/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Marktplatz: Angebote und Gesuche")
    expect(page.get_by_role("status")).to_have_text("1 Beitrag")
    axe.check()
    page.get_by_label("Art").select_option("offer")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_text("Keine Beiträge mit diesen Filtern.")).to_be_visible()
    page.get_by_label("Art").select_option("need")
    page.get_by_role("button", name="Anzeigen").click()
    page.get_by_role("link", name="Wir suchen eine Lösung für Parkraumdaten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Wir suchen eine Lösung für Parkraumdaten"
    )
    expect(page.get_by_role("listitem").filter(has_text="Alpha Labs")).to_contain_text(
        "2 gemeinsame Kompetenzen"
    )
    axe.check()

    page.get_by_role("link", name="Melden Sie sich an, um zu antworten.").click()
    page.get_by_label("E-Mail-Adresse").fill("alice@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"**/wirtschaft/marktplatz/{board['need'].pk}/")
    page.get_by_label("Ihre Nachricht").fill("Wir haben genau das im Angebot.")
    page.get_by_role("button", name="Nachricht senden").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gespräch zu")
    expect(page.get_by_text("Wir haben genau das im Angebot.")).to_be_visible()
    axe.check()

    page.goto(live_server.url + "/wirtschaft/marktplatz/neu/")
    axe.check()
    page.get_by_label("Angebot", exact=True).check()
    page.get_by_label("Titel").fill("Wir bieten Parkplatz-Sensorik")
    page.get_by_label("Beschreibung").fill("Sensoren und Dashboard aus Leipzig.")
    page.get_by_label("Künstliche Intelligenz").check()
    page.get_by_label("Frist").fill("2001-01-01")
    page.get_by_role("button", name="Veröffentlichen").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Die Frist liegt in der Vergangenheit.")
    expect(page.get_by_label("Titel")).to_have_value("Wir bieten Parkplatz-Sensorik")
    expect(page.get_by_label("Frist")).to_have_attribute("aria-invalid", "true")
    axe.check()
    alert.get_by_role("link").click()
    expect(page.get_by_label("Frist")).to_be_focused()
    page.get_by_label("Frist").fill("2099-06-30")
    page.get_by_role("button", name="Veröffentlichen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wir bieten Parkplatz-Sensorik")
    expect(page.get_by_role("status").first).to_contain_text("Ihr Beitrag ist veröffentlicht.")
    axe.check()

    page.goto(live_server.url + "/wirtschaft/marktplatz/wochenuebersicht/")
    page.get_by_label("Wochenübersicht per E-Mail erhalten").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status").first).to_contain_text("Sie erhalten die Wochenübersicht.")
    axe.check()
    # the page with the mistake answers 400 on purpose; nothing else (e.g. a refused script)
    assert [e for e in console_errors if "status of 400" not in e] == []


def test_the_network_has_a_picture_with_a_text_alternative_and_a_table(
    page: Any, live_server: Any, axe: Any, board: dict[str, Any], console_errors: list[str]
) -> None:
    page.goto(live_server.url + "/wirtschaft/netzwerk/")
    picture = page.get_by_role("img", name="Netzwerk der digitalen Wirtschaft")
    expect(picture).to_be_visible()
    table = page.get_by_role("table", name="Beziehungen im Netzwerk")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Alpha Labs")
    expect(table.get_by_role("row").nth(1)).to_contain_text("sitzt im Hub")
    expect(table.get_by_role("row").nth(1)).to_contain_text("seit 01.04.2023")
    axe.check()
    page.get_by_label("Netzwerk um eine Organisation zeigen").select_option("basislager")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Netzwerk von Basislager Hub")
    axe.check()
    assert not console_errors
