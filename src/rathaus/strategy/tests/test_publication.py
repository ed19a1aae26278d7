"""Publishing a strategy: the snapshot (complete, without personal data, in a constant number
of queries), numbered publications with an audit entry, the draft preview and the publish page
for staff, and the open-data dataset that follows the newest publication."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rathaus.citydata.models import Dataset
from rathaus.citydata.publishing import REFRESH_TOPIC, publish_open_data
from rathaus.core.models import Area, AuditEntry, OutboxMessage
from rathaus.core.outbox import HANDLERS
from rathaus.strategy.constants import MeasureStatus, MilestoneStatus
from rathaus.strategy.models import (
    Measure,
    Milestone,
    ObservationCorrection,
    Publication,
)
from rathaus.strategy.selectors.public import state_clear_cache
from rathaus.strategy.selectors.snapshot import snapshot_changes, strategy_snapshot
from rathaus.strategy.services.publication import strategy_publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_states() -> None:
    state_clear_cache()


def _measures(strategy: Any, count: int, prefix: str) -> None:
    for n in range(count):
        measure = Measure.objects.create(code=f"{prefix}-{n}", title=f"Maßnahme {n}")
        measure.strategies.add(strategy)
        Milestone.objects.create(
            measure=measure,
            title="Start",
            planned_date=date(2025, 1, 1),
            baseline_date=date(2025, 1, 1),
        )


def test_snapshot_holds_fields_measures_milestones_and_kpis(plan: dict[str, Any]) -> None:
    data = strategy_snapshot(strategy=plan["digital"])
    assert data["strategy"]["council_decision_number"] == "VII-DS-01234"
    assert data["strategy"]["council_decision_date"] == "2024-03-20"
    codes = [m["code"] for m in data["measures"]]
    assert codes == ["LD-1", "LD-2", "LD-2.1", "LD-2.2", "LD-3"]
    ld1 = data["measures"][0]
    assert ld1["office"]["name"] == "Ordnungsamt"
    assert ld1["fields"] == ["1.1"]
    assert ld1["planned_budget"] == "1500000"
    slipped = [x for x in ld1["milestones"] if x["slipped"]]
    assert slipped[0]["slip_reason"] == "Schnittstelle zum Fachverfahren fehlt noch"
    assert data["measures"][2]["parent"] == "LD-2"
    fields = {f["code"]: f for f in data["fields"]}
    # field 1 holds LD-1 through its sub-field 1.1; field 2 the mean of LD-2 (30) and LD-3 (10)
    assert fields["1"]["progress"] == 40
    assert fields["1.1"]["progress"] == 40
    assert fields["2"]["progress"] == 20
    assert fields["2"]["status_counts"] == {"running": 1, "delayed": 1}
    assert fields["2"]["light_counts"] == {"green": 1, "yellow": 1}
    kpi = data["indicators"][0]
    assert kpi["measures"] == ["LD-1"]
    assert [o["value"] for o in kpi["observations"]] == ["12", "31", "44.5"]
    assert kpi["observations"][2]["provisional"] is True


def test_snapshot_has_no_personal_data(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    text = repr(strategy_snapshot(strategy=plan["digital"]))
    person = personas["caseworker"]
    for value in (person.email, person.last_name, person.first_name):
        assert value not in text


def test_snapshot_counts_a_measure_in_a_field_and_its_subfield_once(
    plan: dict[str, Any],
) -> None:
    plan["ld1"].fields_of_action.add(plan["fields"]["1"])
    fields = {f["code"]: f for f in strategy_snapshot(strategy=plan["digital"])["fields"]}
    assert fields["1"]["measure_count"] == 1


def test_snapshot_marks_corrected_observations(plan: dict[str, Any]) -> None:
    observation = plan["kpi"].observations.get(period=date(2024, 1, 1))
    ObservationCorrection.objects.create(
        observation=observation,
        value_before="30",
        provisional_before=False,
        value_after="31",
        reason="Tippfehler",
        changed_at="2025-02-03T10:00:00+00:00",
    )
    kpi = strategy_snapshot(strategy=plan["digital"])["indicators"][0]
    corrected = [o for o in kpi["observations"] if o["corrected"]]
    assert [(o["period"], o["corrected_at"]) for o in corrected] == [("2024-01-01", "2025-02-03")]


def test_snapshot_query_count_does_not_grow_with_the_measures(
    plan: dict[str, Any], django_assert_num_queries: Any
) -> None:
    strategy = plan["triangulum"]
    _measures(strategy, 3, "S")
    with CaptureQueriesContext(connection) as small:
        strategy_snapshot(strategy=strategy)
    _measures(strategy, 30, "B")
    with django_assert_num_queries(len(small.captured_queries)):
        data = strategy_snapshot(strategy=strategy)
    assert len(data["measures"]) == 34  # LD-1 is in Triangulum too


def test_snapshot_gives_districts_of_ortsteile(plan: dict[str, Any]) -> None:
    district = Area.objects.create(
        uri="https://example.org/sb/1", kind="stadtbezirk", name="Alt-West"
    )
    quarter = Area.objects.create(
        uri="https://example.org/ot/1", kind="ortsteil", name="Lindenau", parent=district
    )
    plan["ld3"].areas.add(quarter)
    ld3 = next(
        m for m in strategy_snapshot(strategy=plan["digital"])["measures"] if m["code"] == "LD-3"
    )
    assert ld3["areas"] == [
        {
            "id": quarter.pk,
            "name": "Lindenau",
            "kind": "ortsteil",
            "district_id": district.pk,
            "district_name": "Alt-West",
        }
    ]


def test_publish_numbers_publications_and_writes_audit_and_outbox(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    first = strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk)
    second = strategy_publish(
        actor=personas["department"], strategy_id=plan["digital"].pk, note="  Neue Werte  "
    )
    assert (first.number, second.number) == (1, 2)
    assert second.note == "Neue Werte"
    assert second.data["measures"][0]["code"] == "LD-1"
    entry = AuditEntry.objects.filter(action="strategy.publication.create").latest("pk")
    assert entry.object_id == str(second.pk)
    assert OutboxMessage.objects.filter(topic=REFRESH_TOPIC).count() == 2


def test_only_department_staff_publish(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        strategy_publish(actor=personas["caseworker"], strategy_id=plan["digital"].pk)
    assert not Publication.objects.exists()


def test_changes_since_the_newest_publication(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    before = strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk).data
    Measure.objects.filter(pk=plan["ld3"].pk).update(status=MeasureStatus.RUNNING)
    Milestone.objects.filter(pk=plan["slipped"].pk).update(
        status=MilestoneStatus.DONE, actual_date=date(2026, 3, 1)
    )
    new = Measure.objects.create(code="LD-4", title="Neu")
    new.strategies.add(plan["digital"])
    plan["kpi"].observations.create(period=date(2026, 1, 1), value="50")
    changes = snapshot_changes(before=before, after=strategy_snapshot(strategy=plan["digital"]))
    assert changes["measures_added"] == ["LD-4"]
    assert changes["measures_status_changed"] == ["LD-3"]
    assert changes["milestones_reached"] == 1
    assert changes["observations_new"] == 1
    assert changes["first"] is False


# ---- staff pages ------------------------------------------------------------------------------


def test_draft_shows_the_current_state_with_a_banner(
    plan: dict[str, Any], staff_client: Client
) -> None:
    response = staff_client.get(reverse("strategy:draft", args=[plan["digital"].pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Entwurf – nicht veröffentlicht" in text
    assert "75 kommunale Verwaltungsleistungen online" in text
    assert not Publication.objects.exists()


def test_draft_and_publish_are_for_staff_only(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    for name in ("strategy:draft", "strategy:publish"):
        response = responsible_client.get(reverse(name, args=[plan["digital"].pk]))
        assert response.status_code == 403
    response = responsible_client.post(reverse("strategy:publish", args=[plan["digital"].pk]))
    assert response.status_code == 403
    assert not Publication.objects.exists()


def test_publish_page_shows_changes_and_publishes(
    plan: dict[str, Any], staff_client: Client
) -> None:
    url = reverse("strategy:publish", args=[plan["digital"].pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "5 Maßnahmen kommen hinzu" in response.content.decode()
    response = staff_client.post(url, {"note": "Erster Stand"})
    assert response.status_code == 302
    publication = Publication.objects.get()
    assert (publication.number, publication.note) == (1, "Erster Stand")
    response = staff_client.get(url)
    assert "0 Maßnahmen kommen hinzu" in response.content.decode()


def test_publish_refuses_a_note_too_long(plan: dict[str, Any], staff_client: Client) -> None:
    url = reverse("strategy:publish", args=[plan["digital"].pk])
    response = staff_client.post(url, {"note": "x" * 2001})
    assert response.status_code == 200
    assert not Publication.objects.exists()


def test_publish_unknown_strategy_is_404(staff_client: Client, plan: dict[str, Any]) -> None:
    response = staff_client.get(reverse("strategy:publish", args=[999999]))
    assert response.status_code == 404


# ---- open data --------------------------------------------------------------------------------


def test_open_data_dataset_follows_the_newest_publication(
    plan: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk)
    # the worker delivers the message the publication queued
    message = OutboxMessage.objects.get(topic=REFRESH_TOPIC)
    HANDLERS[REFRESH_TOPIC](message)
    dataset = Dataset.objects.get(source=f"strategy:{plan['digital'].pk}")
    files = {d.file_name: d for d in dataset.distributions.all()}
    assert set(files) == {"massnahmen.csv", "kennzahlen.csv"}
    assert dataset.landing_page.endswith("/strategie/leipzig-digital/")
    rows = list(csv.reader(io.StringIO(files["massnahmen.csv"].file.read().decode())))
    assert rows[0][0] == "code"
    assert [r[0] for r in rows[1:]] == ["LD-1", "LD-2", "LD-2.1", "LD-2.2", "LD-3"]
    kpi_rows = list(csv.reader(io.StringIO(files["kennzahlen.csv"].file.read().decode())))
    assert len(kpi_rows) == 4
    # the dashboard links to the catalogue's dataset
    response = client.get(reverse("strategy:dashboard", args=["leipzig-digital"]))
    assert f'href="/offene-daten/{dataset.slug}/"' in response.content.decode()
    # a second publication changes the files; the unpublished Triangulum has no dataset
    Measure.objects.filter(pk=plan["ld3"].pk).update(title="Digitaler Zwilling Leipzig")
    strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk)
    publish_open_data(only=["strategy"])
    distribution = dataset.distributions.get(file_name="massnahmen.csv")
    assert "Digitaler Zwilling Leipzig" in distribution.file.read().decode()
    assert Dataset.objects.filter(source__startswith="strategy:").count() == 1
