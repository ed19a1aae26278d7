"""The editors' pages of strategies, fields of action, measures and milestones: who sees
them, what they show, and that a refusal is shown at its field (nothing written)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from rathaus.core.models import AuditEntry
from rathaus.strategy.constants import MeasureStatus, TrafficLight
from rathaus.strategy.models import Measure, Milestone, Strategy

pytestmark = pytest.mark.django_db

BASE = "/strategie/verwaltung/"


def measure_post(measure: Measure, **changes: Any) -> dict[str, Any]:
    measure.refresh_from_db()
    data: dict[str, Any] = {
        "code": measure.code,
        "title": measure.title,
        "description": measure.description,
        "strategy_ids": [str(pk) for pk in measure.strategies.values_list("pk", flat=True)],
        "field_ids": [str(pk) for pk in measure.fields_of_action.values_list("pk", flat=True)],
        "parent_id": measure.parent_id or "",
        "weight": "" if measure.weight is None else measure.weight,
        "external_id": measure.external_id or "",
        "office_id": measure.office_id or "",
        "responsible_id": measure.responsible_id or "",
        "status": measure.status,
        "traffic_light": measure.traffic_light,
        "status_reason": measure.status_reason,
        "progress_mode": measure.progress_mode,
        "progress": measure.progress,
        "planned_start": measure.planned_start or "",
        "planned_end": measure.planned_end or "",
        "actual_start": measure.actual_start or "",
        "actual_end": measure.actual_end or "",
        "planned_budget": "1.500.000,00" if measure.planned_budget else "",
        "spent_budget": "600.000,00" if measure.spent_budget else "",
    }
    data.update(changes)
    return data


def test_staff_home_shows_strategies_with_their_pages_and_stale_entries(
    plan: dict[str, Any], staff_client: Client, personas: dict[str, Any]
) -> None:
    Measure.objects.filter(pk=plan["ld1"].pk).update(created_at="2020-01-01T00:00:00Z")
    response = staff_client.get(BASE)
    assert response.status_code == 200
    content = response.content.decode()
    digital = plan["digital"].pk
    for url in (
        f"{BASE}strategien/{digital}/massnahmen/",
        f"{BASE}strategien/{digital}/handlungsfelder/",
        f"{BASE}strategien/{digital}/kennzahlen/",
        f"{BASE}strategien/{digital}/entwurf/",
        f"{BASE}strategien/{digital}/veroeffentlichen/",
        f"{BASE}import/",
    ):
        assert url in content
    assert "Lange nicht aktualisiert" in content
    person = personas["caseworker"]
    # the stale measure with its responsible person
    assert escape(person.get_full_name() or person.email) in content.split("Lange nicht", 1)[1]


def test_responsible_person_sees_only_own_measures(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    response = responsible_client.get(BASE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "LD-1 75 kommunale" in content
    assert "LD-3" not in content
    assert "Neue Strategie" not in content


def test_people_without_measures_are_refused(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(personas["caseworker_other"])
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}massnahmen/{plan['ld1'].pk}/").status_code == 403
    assert client.get(f"{BASE}strategien/{plan['digital'].pk}/massnahmen/").status_code == 403
    assert client.get(f"{BASE}meilensteine/{plan['slipped'].pk}/").status_code == 403
    assert client.get(f"{BASE}meilensteine/999999/").status_code == 403
    assert client.post(f"{BASE}massnahmen/{plan['ld1'].pk}/aktuell/").status_code == 403
    assert Client().get(BASE).status_code == 302  # to the login


def test_responsible_person_may_not_open_staff_pages(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    for url in (
        f"{BASE}strategien/neu/",
        f"{BASE}strategien/{plan['digital'].pk}/",
        f"{BASE}strategien/{plan['digital'].pk}/handlungsfelder/",
        f"{BASE}handlungsfelder/{plan['fields']['1'].pk}/",
        f"{BASE}massnahmen/neu/",
        f"{BASE}massnahmen/{plan['ld3'].pk}/",
    ):
        assert responsible_client.get(url).status_code == 403, url


def test_every_staff_page_renders(plan: dict[str, Any], staff_client: Client) -> None:
    digital, ld1, ld2 = plan["digital"], plan["ld1"], plan["ld2"]
    for url in (
        f"{BASE}strategien/neu/",
        f"{BASE}strategien/{digital.pk}/",
        f"{BASE}strategien/{digital.pk}/handlungsfelder/",
        f"{BASE}handlungsfelder/{plan['fields']['1.1'].pk}/",
        f"{BASE}strategien/{digital.pk}/massnahmen/",
        f"{BASE}strategien/{digital.pk}/massnahmen/?status=running&seite=1",
        f"{BASE}massnahmen/neu/?strategie={digital.pk}",
        f"{BASE}massnahmen/neu/?teil_von={ld2.pk}",
        f"{BASE}massnahmen/{ld1.pk}/",
        f"{BASE}massnahmen/{ld2.pk}/gewichte/",
        f"{BASE}massnahmen/{ld1.pk}/meilensteine/neu/",
        f"{BASE}meilensteine/{plan['slipped'].pk}/",
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert b"csrfmiddlewaretoken" in response.content
    assert staff_client.get(f"{BASE}massnahmen/999999/").status_code == 404
    assert staff_client.get(f"{BASE}strategien/999999/").status_code == 404


def test_measure_list_shows_sub_measures_under_parent_and_filters(
    plan: dict[str, Any], staff_client: Client
) -> None:
    url = f"{BASE}strategien/{plan['digital'].pk}/massnahmen/"
    content = staff_client.get(url).content.decode()
    assert content.index("LD-2 Urbane") < content.index("LD-2.1") < content.index("LD-3")
    assert "Gewicht 60 %" in content
    assert "gefährdet" in content  # a traffic light as a word
    delayed = staff_client.get(url + "?status=delayed").content.decode()
    assert "LD-3" in delayed and "LD-1 " not in delayed
    in_field = staff_client.get(url + f"?feld={plan['fields']['1'].pk}").content.decode()
    assert "LD-1" in in_field and "LD-3" not in in_field  # LD-1 is in 1.1, below 1


def test_measure_page_shows_milestones_slip_sub_measures_and_funding(
    plan: dict[str, Any], staff_client: Client
) -> None:
    from decimal import Decimal

    from rathaus.funding.constants import Level
    from rathaus.funding.models import Application, ApplicationMeasure, Call, Programme

    programme = Programme.objects.create(name="EFRE", code="EFRE", funder="EU", level=Level.EU)
    call = Call.objects.create(programme=programme, identifier="EFRE-1", title="Smart")
    application = Application.objects.create(
        call=call, title="Online-Dienste", requested_funding=Decimal("500000")
    )
    ApplicationMeasure.objects.create(application=application, measure_id=plan["ld1"].pk)
    content = staff_client.get(f"{BASE}massnahmen/{plan['ld1'].pk}/").content.decode()
    assert "verschoben von 31.12.2025 auf 31.03.2026: Schnittstelle zum Fachverfahren" in content
    assert "Antragsassistent in Betrieb" in content
    assert f"/foerderung/verwaltung/antraege/{application.pk}/" in content
    assert "Noch aktuell" in content
    parent = staff_client.get(f"{BASE}massnahmen/{plan['ld2'].pk}/").content.decode()
    assert "LD-2.1" in parent and "Summe der Gewichte: 100 %" in parent


def test_staff_edit_measure_via_form(plan: dict[str, Any], staff_client: Client) -> None:
    ld1 = plan["ld1"]
    response = staff_client.post(
        f"{BASE}massnahmen/{ld1.pk}/",
        measure_post(
            ld1,
            status=MeasureStatus.DELAYED,
            traffic_light=TrafficLight.YELLOW,
            status_reason="Schnittstelle fehlt",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    ld1.refresh_from_db()
    assert ld1.status == MeasureStatus.DELAYED and ld1.traffic_light == TrafficLight.YELLOW
    assert ld1.planned_budget == Decimal("1500000")
    assert AuditEntry.objects.filter(action="strategy.measure.update").exists()


def test_bad_input_shown_at_field_and_nothing_written(
    plan: dict[str, Any], staff_client: Client
) -> None:
    ld1 = plan["ld1"]
    response = staff_client.post(f"{BASE}massnahmen/{ld1.pk}/", measure_post(ld1, progress=101))
    assert response.status_code == 422
    assert "Der Fortschritt ist eine Zahl von 0 bis 100 %." in response.content.decode()
    assert 'id="id_progress_error"' in response.content.decode()
    no_reason = measure_post(ld1, traffic_light=TrafficLight.RED, status_reason="")
    response = staff_client.post(f"{BASE}massnahmen/{ld1.pk}/", no_reason)
    assert response.status_code == 422
    assert 'id="id_status_reason_error"' in response.content.decode()
    ld1.refresh_from_db()
    assert ld1.progress == 40 and ld1.traffic_light == TrafficLight.GREEN


def test_responsible_person_edits_own_measure_but_structure_stays(
    plan: dict[str, Any], responsible_client: Client, offices: dict[str, Any]
) -> None:
    ld1 = plan["ld1"]
    page = responsible_client.get(f"{BASE}massnahmen/{ld1.pk}/").content.decode()
    assert 'name="code"' in page and "disabled" in page
    # a tampered post of a disabled field is ignored: the current value counts
    response = responsible_client.post(
        f"{BASE}massnahmen/{ld1.pk}/",
        measure_post(ld1, progress=50, code="HACK", office_id=offices["standesamt"].pk),
    )
    assert response.status_code == 302
    ld1.refresh_from_db()
    assert (ld1.progress, ld1.code, ld1.office) == (50, "LD-1", offices["ordnungsamt"])


def test_weights_page_refuses_sum_not_100(plan: dict[str, Any], staff_client: Client) -> None:
    ld2, (first, second) = plan["ld2"], plan["subs"]
    url = f"{BASE}massnahmen/{ld2.pk}/gewichte/"
    response = staff_client.post(url, {f"weight_{first.pk}": 50, f"weight_{second.pk}": 40})
    assert response.status_code == 422
    assert "Die Gewichte der Teilmaßnahmen ergeben 90 %, nicht 100 %." in response.content.decode()
    response = staff_client.post(url, {f"weight_{first.pk}": 50, f"weight_{second.pk}": 50})
    assert response.status_code == 302
    ld2.refresh_from_db()
    assert ld2.progress == 25


def test_confirm_still_current(plan: dict[str, Any], responsible_client: Client) -> None:
    ld1 = plan["ld1"]
    assert responsible_client.get(f"{BASE}massnahmen/{ld1.pk}/aktuell/").status_code == 405
    response = responsible_client.post(f"{BASE}massnahmen/{ld1.pk}/aktuell/")
    assert response.status_code == 302
    ld1.refresh_from_db()
    assert ld1.reviewed_at is not None


def test_milestone_form_slip_without_reason_then_with(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    slipped = plan["slipped"]
    url = f"{BASE}meilensteine/{slipped.pk}/"
    data = {"title": slipped.title, "planned_date": "30.09.2026", "status": "open"}
    response = responsible_client.post(url, data)
    assert response.status_code == 422
    assert 'id="id_slip_reason_error"' in response.content.decode()
    response = responsible_client.post(url, {**data, "slip_reason": "Personal fehlt"})
    assert response.status_code == 302
    slipped.refresh_from_db()
    assert slipped.slip_reason == "Personal fehlt"


def test_milestone_before_start_refused_on_page(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    url = f"{BASE}massnahmen/{plan['ld1'].pk}/meilensteine/neu/"
    response = responsible_client.post(
        url, {"title": "Zu früh", "planned_date": "2023-06-01", "status": "open"}
    )
    assert response.status_code == 422
    assert "vor dem Beginn der Maßnahme" in response.content.decode()
    assert not Milestone.objects.filter(title="Zu früh").exists()


def test_strategy_and_field_forms(plan: dict[str, Any], staff_client: Client) -> None:
    response = staff_client.post(
        f"{BASE}strategien/neu/",
        {"name": "SPARCS", "slug": "sparcs", "kind": "eu_project", "status": "adopted"},
    )
    assert response.status_code == 422
    assert 'id="id_council_decision_number_error"' in response.content.decode()
    response = staff_client.post(
        f"{BASE}strategien/neu/",
        {"name": "SPARCS", "slug": "sparcs", "kind": "eu_project", "status": "draft"},
    )
    assert response.status_code == 302
    sparcs = Strategy.objects.get(slug="sparcs")
    url = f"{BASE}strategien/{sparcs.pk}/handlungsfelder/"
    assert (
        staff_client.post(url, {"code": "1", "title": "Energie", "position": 0}).status_code == 302
    )
    field = sparcs.fields.get()
    response = staff_client.post(
        f"{BASE}handlungsfelder/{plan['fields']['1'].pk}/", {"loeschen": "1"}
    )
    assert response.status_code == 422
    assert "Unterfelder" in response.content.decode()
    response = staff_client.post(f"{BASE}handlungsfelder/{field.pk}/", {"loeschen": "1"})
    assert response.status_code == 302
    assert not sparcs.fields.exists()


def test_forms_need_csrf(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["department"])
    response = client.post(f"{BASE}massnahmen/{plan['ld1'].pk}/aktuell/")
    assert response.status_code == 403
    plan["ld1"].refresh_from_db()
    assert plan["ld1"].reviewed_at is None
