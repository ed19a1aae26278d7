"""Finding the calls that fit: by theme, applicant type, region and amount, only calls still
taking applications, soonest deadline first, each with why it fits; profiles from a strategy
measure and from an organisation of the directory, and who may prefill the page from them;
wrong input gets a message at its field."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from rathaus.core.themes import Theme, mask_of
from rathaus.economy.constants import OrganisationKind
from rathaus.economy.tests.factories_directory import OrganisationFactory, membership
from rathaus.funding.constants import ApplicantType, CallStatus, Level, Region
from rathaus.funding.models import Call, CallDeadline, Programme
from rathaus.funding.selectors.matching import (
    MatchProfile,
    calls_matching,
    profile_for_measure,
    profile_for_organisation,
    regions_of_choice,
)

pytestmark = pytest.mark.django_db

URL = "/foerderung/passende-aufrufe/"
BERLIN = ZoneInfo("Europe/Berlin")


# ---- helpers (also used by test_calendar.py) -------------------------------------------------


def make_programme(code: str, **fields: Any) -> Programme:
    values: dict[str, Any] = {
        "name": f"Programm {code}",
        "funder": "Fördergeber",
        "level": Level.FEDERAL,
    }
    values.update(fields)
    return Programme.objects.create(code=code, **values)


def make_call(
    programme: Programme,
    identifier: str,
    *due: datetime,
    status: str = CallStatus.OPEN,
    zone: str = "Europe/Berlin",
    labels: tuple[str, ...] = (),
    title: str = "",
) -> Call:
    """A call with one deadline per ``due`` (in the order given), ``final_deadline`` the last."""
    call = Call.objects.create(
        programme=programme,
        identifier=identifier,
        title=title or f"Aufruf {identifier}",
        status=status,
        final_deadline=max(due) if due else None,
    )
    for position, moment in enumerate(due, start=1):
        CallDeadline.objects.create(
            call=call,
            position=position,
            due_at=moment,
            timezone=zone,
            label=labels[position - 1] if position <= len(labels) else "",
        )
    return call


def identifiers(profile: MatchProfile, **kwargs: Any) -> list[str]:
    return [m.call.identifier for m in calls_matching(profile, **kwargs).matches]


def themes(*values: str) -> int:
    return mask_of(values, Theme)


def applicants(*values: str) -> int:
    return mask_of(values, ApplicantType)


def text_of(html: str) -> str:
    """The page's text as read: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def field_error(html: str, name: str) -> str:
    """The error text linked to the field ``name`` by aria-describedby (fails if not linked)."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
    assert tag, f"no field {name}"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described and f"id_{name}_error" in described.group(1).split(), tag.group(0)
    error = re.search(rf'<p class="kern-error" id="id_{name}_error">(.*?)</p>', html, re.S)
    assert error
    return re.sub(r"<[^>]+>", "", error.group(1)).strip()


@pytest.fixture
def soon(funding: dict[str, Any]) -> datetime:
    return funding["now"] + timedelta(days=10)


# ---- the query -------------------------------------------------------------------------------


def test_a_call_whose_programme_shares_a_theme_is_listed_with_the_themes_in_common(
    funding: dict[str, Any], soon: datetime
) -> None:
    culture = make_programme("KULTUR", themes_mask=themes(Theme.CULTURE))
    make_call(culture, "KULTUR-1", soon)
    page = calls_matching(MatchProfile(themes_mask=themes(Theme.DATA, Theme.HEALTH)))
    assert [m.call.identifier for m in page.matches] == ["DIGITAL-2026-AI-01"]
    assert page.total == 1
    reasons = {r.label: r.text for r in page.matches[0].reasons}
    assert reasons == {"Gemeinsame Themen": "Daten und KI"}
    assert identifiers(MatchProfile(themes_mask=themes(Theme.CULTURE))) == ["KULTUR-1"]


def test_a_programme_without_themes_does_not_match_a_profile_that_names_themes(
    funding: dict[str, Any], soon: datetime
) -> None:
    make_call(make_programme("LEER"), "LEER-1", soon)
    assert identifiers(MatchProfile(themes_mask=themes(Theme.DATA))) == ["DIGITAL-2026-AI-01"]
    assert set(identifiers(MatchProfile())) == {"DIGITAL-2026-AI-01", "LEER-1"}


def test_closed_calls_and_calls_whose_deadline_passed_are_not_listed(
    funding: dict[str, Any],
) -> None:
    now = funding["now"]
    programme = funding["programme"]
    make_call(programme, "PASSED-OPEN", now - timedelta(hours=1))  # status not yet updated
    make_call(programme, "CLOSED-FUTURE", now + timedelta(days=5), status=CallStatus.CLOSED)
    make_call(programme, "FORTHCOMING", now + timedelta(days=90), status=CallStatus.FORTHCOMING)
    assert identifiers(MatchProfile()) == ["DIGITAL-2026-AI-01", "FORTHCOMING"]


def test_the_applicant_type_must_be_admitted_and_not_stated_matches_as_such(
    funding: dict[str, Any], soon: datetime
) -> None:
    open_to_all = make_programme("OFFEN")  # applicant_types_mask 0: not stated
    make_call(open_to_all, "OFFEN-1", soon)
    startups = make_programme("START", applicant_types_mask=applicants(ApplicantType.STARTUP))
    make_call(startups, "START-1", soon)

    page = calls_matching(MatchProfile(applicant_types_mask=applicants(ApplicantType.STARTUP)))
    assert [m.call.identifier for m in page.matches] == ["OFFEN-1", "START-1"]
    first, second = page.matches
    assert first.reasons[0].not_stated and "nicht angegeben" in first.reasons[0].text
    assert second.reasons[0].text == "Start-up" and not second.reasons[0].not_stated

    municipality = MatchProfile(applicant_types_mask=applicants(ApplicantType.MUNICIPALITY))
    assert identifiers(municipality) == ["OFFEN-1", "DIGITAL-2026-AI-01"]


def test_the_region_must_be_covered_and_a_land_includes_germany_and_the_eu(
    funding: dict[str, Any], soon: datetime
) -> None:
    saxony = make_programme("SAB", level=Level.STATE, regions_mask=mask_of([Region.SN], Region))
    make_call(saxony, "SAB-1", soon)
    anywhere = make_programme("UEBERALL")  # regions_mask 0: not stated
    make_call(anywhere, "UEBERALL-1", soon + timedelta(days=1))

    in_bavaria = MatchProfile(regions_mask=regions_of_choice(Region.BY))
    assert identifiers(in_bavaria) == ["UEBERALL-1", "DIGITAL-2026-AI-01"]
    in_saxony = calls_matching(MatchProfile(regions_mask=regions_of_choice(Region.SN)))
    assert [m.call.identifier for m in in_saxony.matches] == [
        "SAB-1",
        "UEBERALL-1",
        "DIGITAL-2026-AI-01",
    ]
    reasons = [m.reasons[0] for m in in_saxony.matches]
    assert reasons[0].text == "Sachsen"
    assert reasons[1].not_stated
    assert reasons[2].text == "Europäische Union"


def test_the_amount_must_lie_within_the_programmes_range_with_open_bounds(
    funding: dict[str, Any], soon: datetime
) -> None:
    small = make_programme("KLEIN", amount_max=Decimal("100000"))
    make_call(small, "KLEIN-1", soon)
    big = make_programme("GROSS", amount_min=Decimal("1000000"))
    make_call(big, "GROSS-1", soon + timedelta(days=1))
    unbounded = make_programme("FREI")
    make_call(unbounded, "FREI-1", soon + timedelta(days=2))

    assert identifiers(MatchProfile(amount=Decimal("50000"))) == ["KLEIN-1", "FREI-1"]
    assert identifiers(MatchProfile(amount=Decimal("100000"))) == ["KLEIN-1", "FREI-1"]
    page = calls_matching(MatchProfile(amount=Decimal("2000000")))
    assert [m.call.identifier for m in page.matches] == [
        "GROSS-1",
        "FREI-1",
        "DIGITAL-2026-AI-01",
    ]
    texts = [m.reasons[0].text for m in page.matches]
    assert texts[0] == "2.000.000 € liegt im Rahmen (ab 1.000.000 €)"
    assert texts[2] == "2.000.000 € liegt im Rahmen (500.000 € bis 5.000.000 €)"
    assert page.matches[1].reasons[0].not_stated
    assert identifiers(MatchProfile(amount=Decimal("6000000"))) == ["GROSS-1", "FREI-1"]


def test_all_criteria_apply_together(funding: dict[str, Any], soon: datetime) -> None:
    profile = MatchProfile(
        themes_mask=themes(Theme.SMART_CITY),
        applicant_types_mask=applicants(ApplicantType.SME),
        regions_mask=regions_of_choice(Region.SN),
        amount=Decimal("750000,00".replace(",", ".")),
    )
    page = calls_matching(profile)
    assert [m.call.identifier for m in page.matches] == ["DIGITAL-2026-AI-01"]
    assert [r.label for r in page.matches[0].reasons] == [
        "Gemeinsame Themen",
        "Antragsberechtigt",
        "Förderregion",
        "Betrag",
    ]
    no_sme = MatchProfile(
        themes_mask=profile.themes_mask, applicant_types_mask=applicants("startup")
    )
    assert identifiers(no_sme) == []


def test_calls_are_ordered_by_their_next_deadline_not_their_last(
    funding: dict[str, Any],
) -> None:
    now = funding["now"]
    programme = funding["programme"]
    # two-stage: the sketch is due in 3 days, the full proposal in 200
    make_call(
        programme,
        "ZWEISTUFIG",
        now - timedelta(days=10),
        now + timedelta(days=3),
        now + timedelta(days=200),
        labels=("Stichtag 1", "Skizze", "Vollantrag"),
    )
    make_call(programme, "EINSTUFIG", now + timedelta(days=5))
    page = calls_matching(MatchProfile())
    assert [m.call.identifier for m in page.matches] == [
        "ZWEISTUFIG",
        "EINSTUFIG",
        "DIGITAL-2026-AI-01",
    ]
    first = page.matches[0]
    assert first.next_deadline is not None and first.next_deadline.label == "Skizze"
    assert first.next_deadline.days_left in (2, 3, 4)
    assert [d.label for d in first.later_deadlines] == ["Vollantrag"]


def test_pages_of_matches_and_the_total_in_three_queries(
    funding: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    now = funding["now"]
    programme = funding["programme"]
    for i in range(30):
        make_call(programme, f"VIELE-{i:02d}", now + timedelta(days=1, hours=i))
    with django_assert_max_num_queries(3):
        first = calls_matching(MatchProfile(), limit=25)
    assert first.total == 31 and len(first.matches) == 25
    assert first.matches[0].call.identifier == "VIELE-00"
    rest = calls_matching(MatchProfile(), limit=25, offset=25)
    assert [m.call.identifier for m in rest.matches] == [
        "VIELE-25",
        "VIELE-26",
        "VIELE-27",
        "VIELE-28",
        "VIELE-29",
        "DIGITAL-2026-AI-01",
    ]
    assert calls_matching(MatchProfile(), offset=100).matches == []


# ---- profiles --------------------------------------------------------------------------------


def test_a_measures_profile_has_its_themes_the_city_as_applicant_its_regions_and_budget(
    funding: dict[str, Any], settings: Any
) -> None:
    settings.FUNDING_REGIONS = ["EU", "DE", "DE-SN"]
    profile = profile_for_measure(measure_id=funding["measure"].pk)
    assert profile is not None
    assert profile.themes_mask == themes(Theme.DATA)
    assert profile.applicant_types_mask == applicants(ApplicantType.MUNICIPALITY)
    assert profile.regions_mask == mask_of([Region.EU, Region.DE, Region.SN], Region)
    assert profile.amount == Decimal("2000000")
    assert profile.label == "Maßnahme LD-3.2 Urbane Datenplattform"
    assert identifiers(profile) == ["DIGITAL-2026-AI-01"]
    assert profile_for_measure(measure_id=999999) is None


def test_an_organisations_profile_has_its_kind_as_applicant_and_the_citys_regions(
    funding: dict[str, Any], soon: datetime
) -> None:
    startup = OrganisationFactory(name="Datenwerk GmbH", kind=OrganisationKind.STARTUP)
    profile = profile_for_organisation(organisation_id=startup.pk)
    assert profile is not None
    assert profile.applicant_types_mask == applicants(ApplicantType.STARTUP)
    assert profile.themes_mask == 0 and profile.amount is None
    assert profile.label == "Organisation Datenwerk GmbH"
    # the DIGITAL programme admits municipalities, SMEs and research, not start-ups
    assert identifiers(profile) == []
    make_call(
        make_programme("EXIST", applicant_types_mask=applicants(ApplicantType.STARTUP)),
        "EXIST-1",
        soon,
    )
    assert identifiers(profile) == ["EXIST-1"]

    kinds = {
        OrganisationKind.CORPORATE: ApplicantType.LARGE_COMPANY,
        OrganisationKind.PUBLIC_BODY: ApplicantType.MUNICIPALITY,
        OrganisationKind.NETWORK: ApplicantType.NONPROFIT,
    }
    for kind, applicant in kinds.items():
        organisation = OrganisationFactory(kind=kind)
        found = profile_for_organisation(organisation_id=organisation.pk)
        assert found is not None and found.applicant_types_mask == applicants(applicant)
    investor = OrganisationFactory(kind=OrganisationKind.INVESTOR)
    found = profile_for_organisation(organisation_id=investor.pk)
    assert found is not None and found.applicant_types_mask == 0  # not stated
    assert profile_for_organisation(organisation_id=999999) is None


# ---- the page --------------------------------------------------------------------------------


def test_anyone_can_search_and_sees_call_programme_deadline_amount_and_reasons(
    client: Client, funding: dict[str, Any]
) -> None:
    response = client.get(URL, {"themen": ["data", "culture"], "betrag": "1.500.000,00 €"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 passender Aufruf" in html
    assert "DIGITAL-2026-AI-01: Local digital twins" in html
    assert f'href="/foerderung/aufrufe/{funding["call"].pk}/"' in html
    assert "Digital Europe Programme" in html
    assert "Europäische Kommission" in html
    assert "500.000 € – 5.000.000 €" in html
    assert "Gemeinsame Themen: Daten und KI" in html
    assert "1.500.000 € liegt im Rahmen (500.000 € bis 5.000.000 €)" in html
    text = text_of(html)
    assert "17:00 (Europe/Brussels, UTC+0" in text
    assert "noch 28 Tage" in text
    assert 'value="1.500.000,00 €"' in html  # what was typed stays


def test_the_page_without_input_lists_every_call_still_taking_applications(
    client: Client, funding: dict[str, Any]
) -> None:
    html = client.get(URL).content.decode()
    assert "DIGITAL-2026-AI-01" in html
    assert "DIGITAL-2024-AI-01" not in html  # closed


def test_results_are_paged_by_25(client: Client, funding: dict[str, Any]) -> None:
    now = funding["now"]
    for i in range(30):
        make_call(funding["programme"], f"VIELE-{i:02d}", now + timedelta(days=1, hours=i))
    html = client.get(URL, {"themen": "data"}).content.decode()
    assert "31 passende Aufrufe" in html and "Seite 1 von 2" in html
    assert html.count('class="rh-result"') == 25
    assert 'href="?themen=data&amp;seite=2"' in html
    second = client.get(URL, {"themen": "data", "seite": "2"}).content.decode()
    assert second.count('class="rh-result"') == 6
    beyond = client.get(URL, {"themen": "data", "seite": "9"}).content.decode()
    assert beyond.count('class="rh-result"') == 6  # the last page


def test_an_amount_that_is_not_one_gets_a_message_at_its_field(
    client: Client, funding: dict[str, Any]
) -> None:
    response = client.get(URL, {"betrag": "abc", "themen": "data"})
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, "betrag") == "„abc“ ist kein Betrag (Beispiel: 1.234,56 €)."
    assert 'value="abc"' in html
    assert "Bitte prüfen Sie Ihre Angaben" in html
    assert "DIGITAL-2026-AI-01" not in html  # no list for input that could not be read
    negative = client.get(URL, {"betrag": "-5"}).content.decode()
    assert field_error(negative, "betrag") == "Der Betrag darf nicht negativ sein."


def test_an_unknown_theme_or_applicant_type_gets_a_message_at_its_field(
    client: Client, funding: dict[str, Any]
) -> None:
    response = client.get(URL, {"themen": ["data", "astrologie"], "antragsteller": "king"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<p class="kern-error" id="id_themen_error">.*„astrologie“ ist kein', html)
    assert 'aria-describedby="id_themen_helptext id_themen_error"' in html
    assert 'href="#id_themen_0"' in html  # the error summary leads to the boxes
    assert field_error(html, "antragsteller") == "„king“ ist keine bekannte Art von Antragsteller."


def test_staff_can_prefill_from_a_measure(client: Client, funding: dict[str, Any]) -> None:
    client.force_login(funding["staff"])
    response = client.get(URL, {"massnahme": funding["measure"].pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ausgefüllt aus den Angaben zu Maßnahme LD-3.2 Urbane Datenplattform" in html
    assert re.search(r'<input[^>]*value="data"[^>]*checked', html)
    assert re.search(r'<option value="municipality" selected>', html)
    assert re.search(r'<option value="DE-SN" selected>', html)
    assert 'value="2.000.000 €"' in html
    assert "DIGITAL-2026-AI-01" in html
    assert client.get(URL, {"massnahme": "999999"}).status_code == 404
    assert client.get(URL, {"massnahme": "x"}).status_code == 404


def test_a_citizen_cannot_prefill_from_a_measure(
    client: Client, funding: dict[str, Any], personas: dict[str, Any]
) -> None:
    assert client.get(URL, {"massnahme": funding["measure"].pk}).status_code == 403
    client.force_login(personas["citizen"])
    assert client.get(URL, {"massnahme": funding["measure"].pk}).status_code == 403


def test_a_member_can_prefill_from_their_own_organisation_but_not_from_another(
    client: Client, funding: dict[str, Any], personas: dict[str, Any]
) -> None:
    member = personas["organisation"]
    own = OrganisationFactory(name="Eigene KMU GmbH", kind=OrganisationKind.SME)
    other = OrganisationFactory(name="Fremde GmbH", kind=OrganisationKind.SME)
    membership(member, own)
    client.force_login(member)
    response = client.get(URL, {"organisation": own.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ausgefüllt aus den Angaben zu Organisation Eigene KMU GmbH" in html
    assert re.search(r'<option value="sme" selected>', html)
    assert "DIGITAL-2026-AI-01" in html
    assert client.get(URL, {"organisation": other.pk}).status_code == 403
    assert client.get(URL, {"organisation": "999999"}).status_code == 403  # nothing leaks
    client.logout()
    assert client.get(URL, {"organisation": own.pk}).status_code == 403
    client.force_login(funding["staff"])
    assert client.get(URL, {"organisation": other.pk}).status_code == 200
    assert client.get(URL, {"organisation": "999999"}).status_code == 404


def test_the_public_page_is_rate_limited(
    client: Client, funding: dict[str, Any], settings: Any
) -> None:
    settings.RATELIMIT_CITYDATA = "2/m"
    assert client.get(URL).status_code == 200
    assert client.get(URL).status_code == 200
    assert client.get(URL).status_code == 429
