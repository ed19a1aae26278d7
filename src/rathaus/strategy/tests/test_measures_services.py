"""The rules of strategies, fields of action, measures, sub-measures (weights, roll-up) and
milestones, as the services enforce them for every caller (forms, CSV import)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from rathaus.core.models import AuditEntry
from rathaus.economy.constants import EntryStatus
from rathaus.economy.tests.factories_directory import OrganisationFactory
from rathaus.strategy.constants import (
    MeasureStatus,
    MilestoneStatus,
    ProgressMode,
    StrategyStatus,
    TrafficLight,
)
from rathaus.strategy.models import FieldOfAction, Measure, Milestone, Strategy
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.measures import (
    FieldData,
    MeasureData,
    MeasureLinks,
    MilestoneData,
    StrategyData,
    field_create,
    field_delete,
    field_update,
    measure_confirm,
    measure_create,
    measure_update,
    measure_weights_set,
    milestone_create,
    milestone_update,
    strategy_create,
    strategy_update,
)

pytestmark = pytest.mark.django_db


def data_of(measure: Measure, **changes: Any) -> MeasureData:
    """The MeasureData of a measure as it is, with changes."""
    measure.refresh_from_db()
    data = MeasureData(
        code=measure.code,
        title=measure.title,
        strategy_ids=list(measure.strategies.values_list("pk", flat=True)),
        description=measure.description,
        field_ids=list(measure.fields_of_action.values_list("pk", flat=True)),
        parent_id=measure.parent_id,
        weight=measure.weight,
        external_id=measure.external_id,
        office_id=measure.office_id,
        responsible_id=measure.responsible_id,
        area_ids=list(measure.areas.values_list("pk", flat=True)),
        partner_ids=list(measure.partners.values_list("organisation_id", flat=True)),
        themes_mask=measure.themes_mask,
        status=measure.status,
        traffic_light=measure.traffic_light,
        status_reason=measure.status_reason,
        progress=measure.progress,
        progress_mode=measure.progress_mode,
        planned_start=measure.planned_start,
        planned_end=measure.planned_end,
        actual_start=measure.actual_start,
        actual_end=measure.actual_end,
        planned_budget=measure.planned_budget,
        spent_budget=measure.spent_budget,
    )
    return replace(data, **changes)


def refused(field: str, call: Any, **kwargs: Any) -> str:
    with pytest.raises(StrategyError) as caught:
        call(**kwargs)
    assert caught.value.field == field, caught.value.message
    return str(caught.value.message)


# ---- strategies ----------------------------------------------------------------------------


def test_adopted_strategy_needs_council_decision_number_and_date(personas: dict[str, Any]) -> None:
    staff = personas["department"]
    data = StrategyData(name="Smart City", slug="smart-city", status=StrategyStatus.ADOPTED)
    message = refused("council_decision_number", strategy_create, actor=staff, data=data)
    assert "Beschlussnummer" in message
    data.council_decision_number = "VII-DS-1"
    assert "Datum" in refused("council_decision_date", strategy_create, actor=staff, data=data)
    data.council_decision_date = date(2024, 5, 1)
    strategy = strategy_create(actor=staff, data=data)
    assert strategy.status == StrategyStatus.ADOPTED
    assert AuditEntry.objects.filter(
        action="strategy.strategy.create", object_id=str(strategy.pk)
    ).exists()


def test_strategy_slug_unique_and_not_reserved(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    staff = personas["department"]
    taken = StrategyData(name="X", slug="leipzig-digital")
    assert "vergeben" in refused("slug", strategy_create, actor=staff, data=taken)
    reserved = StrategyData(name="X", slug="verwaltung")
    refused("slug", strategy_create, actor=staff, data=reserved)
    refused("slug", strategy_create, actor=staff, data=StrategyData(name="X", slug="Mit Leer"))


def test_strategy_update_audits_before_and_after(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    triangulum = plan["triangulum"]
    data = StrategyData(name="Triangulum", slug="triangulum", version="2015–2021")
    strategy_update(actor=personas["department"], strategy_id=triangulum.pk, data=data)
    entry = AuditEntry.objects.get(action="strategy.strategy.update")
    assert entry.before["version"] == "2015–2020"
    assert entry.after["version"] == "2015–2021"


def test_only_staff_write_strategies(personas: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        strategy_create(actor=personas["caseworker"], data=StrategyData(name="X", slug="x"))


# ---- fields of action ----------------------------------------------------------------------


def test_field_parent_must_be_of_same_strategy(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    other = FieldOfAction.objects.create(strategy=plan["triangulum"], code="A", title="Westen")
    data = FieldData(code="3", title="Bildung", parent_id=other.pk)
    refused(
        "parent_id",
        field_create,
        actor=personas["department"],
        strategy_id=plan["digital"].pk,
        data=data,
    )


def test_field_tree_refuses_cycles(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    top, below = plan["fields"]["1"], plan["fields"]["1.1"]
    staff = personas["department"]
    data = FieldData(code="1", title=top.title, parent_id=below.pk)
    assert "unter sich selbst" in refused(
        "parent_id", field_update, actor=staff, field_id=top.pk, data=data
    )
    itself = FieldData(code="1", title=top.title, parent_id=top.pk)
    refused("parent_id", field_update, actor=staff, field_id=top.pk, data=itself)
    top.refresh_from_db()
    assert top.parent_id is None


def test_field_code_unique_per_strategy(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    staff = personas["department"]
    refused(
        "code",
        field_create,
        actor=staff,
        strategy_id=plan["digital"].pk,
        data=FieldData(code="2", title="Doppelt"),
    )
    # the same code in another strategy is fine
    created = field_create(
        actor=staff, strategy_id=plan["triangulum"].pk, data=FieldData(code="2", title="Energie")
    )
    assert created.strategy == plan["triangulum"]


def test_field_delete_refused_with_children_or_measures(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    staff = personas["department"]
    with pytest.raises(StrategyError, match="Unterfelder"):
        field_delete(actor=staff, field_id=plan["fields"]["1"].pk)
    with pytest.raises(StrategyError, match="Maßnahmen"):
        field_delete(actor=staff, field_id=plan["fields"]["1.1"].pk)
    empty = field_create(
        actor=staff, strategy_id=plan["digital"].pk, data=FieldData(code="9", title="Leer")
    )
    field_delete(actor=staff, field_id=empty.pk)
    assert not FieldOfAction.objects.filter(pk=empty.pk).exists()
    assert AuditEntry.objects.filter(action="strategy.field.delete").exists()


# ---- measures ------------------------------------------------------------------------------


def test_measure_create_with_relations_and_audit(
    plan: dict[str, Any], personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    partner = OrganisationFactory(name="Spinlab")
    data = MeasureData(
        code="LD-4",
        title="Open-Data-Portal",
        strategy_ids=[plan["digital"].pk, plan["triangulum"].pk],
        field_ids=[plan["fields"]["2"].pk],
        office_id=offices["standesamt"].pk,
        responsible_id=personas["caseworker_other"].pk,
        partner_ids=[partner.pk],
        planned_start=date(2025, 1, 1),
        planned_end=date(2025, 12, 31),
        planned_budget=Decimal("100000"),
    )
    measure = measure_create(actor=personas["department"], data=data)
    assert set(measure.strategies.all()) == {plan["digital"], plan["triangulum"]}
    assert list(measure.partners.values_list("organisation_id", flat=True)) == [partner.pk]
    assert measure.reviewed_at is not None
    entry = AuditEntry.objects.get(action="strategy.measure.create")
    assert entry.after["code"] == "LD-4"
    assert entry.after["partner_ids"] == [partner.pk]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"code": "LD-2"}, "code", "schon"),
        ({"code": "LD 9"}, "code", "Leerzeichen"),
        ({"code": "LD/9"}, "code", "Schrägstrich"),
        ({"title": "  "}, "title", "Titel"),
        ({"progress": 101}, "progress", "0 bis 100"),
        ({"progress": -1}, "progress", "0 bis 100"),
        ({"traffic_light": TrafficLight.RED, "status_reason": ""}, "status_reason", "Begründung"),
        (
            {"planned_start": date(2025, 1, 1), "planned_end": date(2024, 1, 1)},
            "planned_end",
            "vor dem geplanten Beginn",
        ),
        (
            {"actual_start": date(2025, 1, 1), "actual_end": date(2024, 1, 1)},
            "actual_end",
            "vor dem tatsächlichen Beginn",
        ),
        ({"strategy_ids": []}, "strategy_ids", "mindestens eine"),
        ({"strategy_ids": [999_999]}, "strategy_ids", "Liste"),
        ({"office_id": 999_999}, "office_id", "Stelle"),
        ({"responsible_id": 999_999}, "responsible_id", "Person"),
        ({"area_ids": [999_999]}, "area_ids", "Gebiete"),
        ({"partner_ids": [999_999]}, "partner_ids", "Verzeichnis"),
        ({"parent_id": 999_999}, "parent_id", "gibt es nicht"),
        ({"weight": 50}, "weight", "Teilmaßnahme"),
        ({"status": "bogus"}, "status", "Liste"),
        ({"spent_budget": Decimal("-1")}, "spent_budget", "Betrag"),
        ({"progress_mode": ProgressMode.ROLLED_UP}, "progress_mode", "Teilmaßnahmen"),
    ],
)
def test_measure_update_refuses_bad_input_on_its_field(
    plan: dict[str, Any], personas: dict[str, Any], changes: dict[str, Any], field: str, words: str
) -> None:
    ld1 = plan["ld1"]
    audit_count = AuditEntry.objects.count()
    message = refused(
        field,
        measure_update,
        actor=personas["department"],
        measure_id=ld1.pk,
        data=data_of(ld1, **changes),
    )
    assert words in message
    ld1.refresh_from_db()
    assert (ld1.code, ld1.progress, ld1.reviewed_at) == ("LD-1", 40, None)
    assert AuditEntry.objects.count() == audit_count


def test_fields_of_action_must_belong_to_a_strategy_of_the_measure(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    western = FieldOfAction.objects.create(strategy=plan["triangulum"], code="W", title="Westen")
    ld3 = plan["ld3"]  # only in Leipzig.digital
    message = refused(
        "field_ids",
        measure_update,
        actor=personas["department"],
        measure_id=ld3.pk,
        data=data_of(ld3, field_ids=[western.pk]),
    )
    assert "Strategien der Maßnahme" in message
    # LD-1 is in Triangulum as well
    ld1 = plan["ld1"]
    measure_update(
        actor=personas["department"],
        measure_id=ld1.pk,
        data=data_of(ld1, field_ids=[western.pk, plan["fields"]["1.1"].pk]),
    )
    assert set(ld1.fields_of_action.all()) == {western, plan["fields"]["1.1"]}


def test_measure_update_sets_reviewed_at_and_audits_before_after(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld1 = plan["ld1"]
    updated = measure_update(
        actor=personas["department"],
        measure_id=ld1.pk,
        data=data_of(
            ld1,
            status=MeasureStatus.DELAYED,
            traffic_light=TrafficLight.YELLOW,
            status_reason="Fachverfahren fehlt",
            progress=45,
        ),
    )
    assert updated.reviewed_at is not None
    assert updated.progress == 45
    entry = AuditEntry.objects.get(action="strategy.measure.update", object_id=str(ld1.pk))
    assert entry.before["status"] == "running" and entry.after["status"] == "delayed"
    assert entry.before["progress"] == 40 and entry.after["progress"] == 45
    assert entry.actor == personas["department"]


def test_measure_may_not_start_after_one_of_its_milestones(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld1 = plan["ld1"]  # milestone reached 2024-06-15
    message = refused(
        "planned_start",
        measure_update,
        actor=personas["department"],
        measure_id=ld1.pk,
        data=data_of(ld1, planned_start=date(2024, 7, 1), actual_start=None),
    )
    assert "Antragsassistent in Betrieb" in message


def test_measure_links_must_be_public_and_are_kept(
    plan: dict[str, Any], personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    from rathaus.citydata.models import Dataset

    dataset = Dataset.objects.create(
        slug="baustellen",
        title="Baustellen",
        description="…",
        publisher=offices["ordnungsamt"],
        published=True,
    )
    hidden = Dataset.objects.create(
        slug="intern", title="Intern", description="…", publisher=offices["ordnungsamt"]
    )
    ld1 = plan["ld1"]
    staff = personas["department"]
    refused(
        "dataset_ids",
        measure_update,
        actor=staff,
        measure_id=ld1.pk,
        data=data_of(ld1),
        links=MeasureLinks(dataset_ids=[hidden.pk]),
    )
    refused(
        "event_ids",
        measure_update,
        actor=staff,
        measure_id=ld1.pk,
        data=data_of(ld1),
        links=MeasureLinks(event_ids=[12345]),
    )
    measure_update(
        actor=staff,
        measure_id=ld1.pk,
        data=data_of(ld1),
        links=MeasureLinks(dataset_ids=[dataset.pk]),
    )
    assert list(ld1.links.values_list("kind", "target_id")) == [("dataset", dataset.pk)]
    # None leaves them as they are
    measure_update(actor=staff, measure_id=ld1.pk, data=data_of(ld1))
    assert ld1.links.count() == 1
    measure_update(actor=staff, measure_id=ld1.pk, data=data_of(ld1), links=MeasureLinks())
    assert ld1.links.count() == 0


def test_partner_no_longer_published_may_stay(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    partner = OrganisationFactory(name="Spinlab")
    ld1 = plan["ld1"]
    staff = personas["department"]
    measure_update(actor=staff, measure_id=ld1.pk, data=data_of(ld1, partner_ids=[partner.pk]))
    partner.status = EntryStatus.PENDING
    partner.save()
    measure_update(actor=staff, measure_id=ld1.pk, data=data_of(ld1, title="Neuer Titel"))
    assert list(ld1.partners.values_list("organisation_id", flat=True)) == [partner.pk]


# ---- who may change what -------------------------------------------------------------------


def test_responsible_person_edits_state_but_not_structure(
    plan: dict[str, Any], personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    ld1 = plan["ld1"]
    person = personas["caseworker"]
    measure_update(
        actor=person,
        measure_id=ld1.pk,
        data=data_of(ld1, progress=55, spent_budget=Decimal("700000")),
    )
    ld1.refresh_from_db()
    assert (ld1.progress, ld1.spent_budget) == (55, Decimal("700000"))
    for changes, field in (
        ({"code": "LD-1a"}, "code"),
        ({"strategy_ids": [plan["digital"].pk]}, "strategy_ids"),
        ({"office_id": offices["standesamt"].pk}, "office_id"),
        ({"responsible_id": personas["lead"].pk}, "responsible_id"),
        ({"parent_id": plan["ld2"].pk}, "parent_id"),
        ({"planned_budget": Decimal("1")}, "planned_budget"),
    ):
        message = refused(
            field, measure_update, actor=person, measure_id=ld1.pk, data=data_of(ld1, **changes)
        )
        assert "Mitarbeitenden der Abteilung" in message
    ld1.refresh_from_db()
    assert ld1.code == "LD-1" and ld1.office == offices["ordnungsamt"]


def test_others_may_not_edit_a_measure(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    for who in ("caseworker_other", "citizen", "lead"):
        with pytest.raises(PermissionDenied):
            measure_update(
                actor=personas[who], measure_id=plan["ld1"].pk, data=data_of(plan["ld1"])
            )
        with pytest.raises(PermissionDenied):
            measure_confirm(actor=personas[who], measure_id=plan["ld1"].pk)
    with pytest.raises(PermissionDenied):
        measure_create(
            actor=personas["caseworker"],
            data=MeasureData(code="X-1", title="X", strategy_ids=[plan["digital"].pk]),
        )


def test_responsible_of_parent_may_edit_sub_measure(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld2 = plan["ld2"]
    Measure.objects.filter(pk=ld2.pk).update(responsible=personas["caseworker_other"])
    sub = plan["subs"][0]
    measure_update(
        actor=personas["caseworker_other"], measure_id=sub.pk, data=data_of(sub, progress=60)
    )
    ld2.refresh_from_db()
    assert ld2.progress == 36  # 60 * 60 % + 0 * 40 %


# ---- sub-measures, weights and the roll-up -------------------------------------------------


def test_fixture_rolls_up_to_thirty_percent_and_recomputes_on_child_progress(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld2, second = plan["ld2"], plan["subs"][1]
    assert ld2.progress == 30
    measure_update(
        actor=personas["department"], measure_id=second.pk, data=data_of(second, progress=25)
    )
    ld2.refresh_from_db()
    assert ld2.progress == 40  # 50*0.6 + 25*0.4
    entry = AuditEntry.objects.get(action="strategy.measure.roll_up", object_id=str(ld2.pk))
    assert (entry.before, entry.after) == ({"progress": 30}, {"progress": 40})
    # a progress entered for a rolled-up measure is ignored
    measure_update(actor=personas["department"], measure_id=ld2.pk, data=data_of(ld2, progress=99))
    ld2.refresh_from_db()
    assert ld2.progress == 40


def test_weights_must_sum_to_exactly_100(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    ld2, (first, second) = plan["ld2"], plan["subs"]
    with pytest.raises(StrategyError) as caught:
        measure_weights_set(
            actor=personas["department"], measure_id=ld2.pk, weights={first.pk: 50, second.pk: 40}
        )
    assert str(caught.value.message) == "Die Gewichte der Teilmaßnahmen ergeben 90 %, nicht 100 %."
    first.refresh_from_db()
    assert first.weight == 60
    with pytest.raises(StrategyError, match="jede Teilmaßnahme"):
        measure_weights_set(
            actor=personas["department"], measure_id=ld2.pk, weights={first.pk: 100}
        )
    with pytest.raises(StrategyError, match="jede Teilmaßnahme"):
        measure_weights_set(
            actor=personas["department"],
            measure_id=ld2.pk,
            weights={first.pk: 50, plan["ld1"].pk: 50},
        )
    measure_weights_set(
        actor=personas["department"], measure_id=ld2.pk, weights={first.pk: 20, second.pk: 80}
    )
    ld2.refresh_from_db()
    assert ld2.progress == 10  # 50 * 0.2
    entry = AuditEntry.objects.get(action="strategy.measure.weights")
    assert entry.before == {"weights": {"LD-2.1": 60, "LD-2.2": 40}}
    assert entry.after == {"weights": {"LD-2.1": 20, "LD-2.2": 80}}


def test_changing_one_childs_weight_alone_breaks_the_sum_and_is_refused(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    first = plan["subs"][0]
    message = refused(
        "weight",
        measure_update,
        actor=personas["department"],
        measure_id=first.pk,
        data=data_of(first, weight=70),
    )
    assert message == "Die Gewichte der Teilmaßnahmen ergeben 110 %, nicht 100 %."
    first.refresh_from_db()
    assert first.weight == 60


def test_adding_a_sub_measure_recomputes_and_keeps_parent_strategies(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld2 = plan["ld2"]
    staff = personas["department"]
    base = MeasureData(
        code="LD-2.3",
        title="Teil 3",
        strategy_ids=[plan["triangulum"].pk],  # ignored: the parent's strategies count
        parent_id=ld2.pk,
        weight=10,
        progress=100,
    )
    message = refused("weight", measure_create, actor=staff, data=base)
    assert "110 %" in message
    assert not Measure.objects.filter(code="LD-2.3").exists()
    sub = measure_create(actor=staff, data=replace(base, weight=0))
    assert list(sub.strategies.all()) == [plan["digital"]]
    measure_weights_set(
        actor=staff,
        measure_id=ld2.pk,
        weights={plan["subs"][0].pk: 50, plan["subs"][1].pk: 30, sub.pk: 20},
    )
    ld2.refresh_from_db()
    assert ld2.progress == 45  # 50*0.5 + 0*0.3 + 100*0.2


def test_sub_measures_are_one_level_deep(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    staff = personas["department"]
    sub = plan["subs"][0]
    data = MeasureData(
        code="LD-2.1.1", title="Zu tief", strategy_ids=[plan["digital"].pk], parent_id=sub.pk
    )
    assert "obersten Ebene" in refused("parent_id", measure_create, actor=staff, data=data)
    ld2 = plan["ld2"]
    message = refused(
        "parent_id",
        measure_update,
        actor=staff,
        measure_id=ld2.pk,
        data=data_of(ld2, parent_id=plan["ld1"].pk, weight=0),
    )
    assert "selbst Teilmaßnahmen" in message
    ld1 = plan["ld1"]
    refused(
        "parent_id",
        measure_update,
        actor=staff,
        measure_id=ld1.pk,
        data=data_of(ld1, parent_id=ld1.pk),
    )


def test_switching_to_rolled_up_needs_weights_of_100(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    staff = personas["department"]
    ld1 = plan["ld1"]
    child = measure_create(
        actor=staff,
        data=MeasureData(
            code="LD-1.1",
            title="Teil",
            strategy_ids=[],
            parent_id=ld1.pk,
            weight=80,
            progress=50,
            planned_start=date(2024, 1, 1),
        ),
    )
    assert set(child.strategies.all()) == {plan["digital"], plan["triangulum"]}
    message = refused(
        "progress_mode",
        measure_update,
        actor=staff,
        measure_id=ld1.pk,
        data=data_of(ld1, progress_mode=ProgressMode.ROLLED_UP),
    )
    assert message == "Die Gewichte der Teilmaßnahmen ergeben 80 %, nicht 100 %."
    measure_weights_set(actor=staff, measure_id=ld1.pk, weights={child.pk: 100})
    measure_update(
        actor=staff, measure_id=ld1.pk, data=data_of(ld1, progress_mode=ProgressMode.ROLLED_UP)
    )
    ld1.refresh_from_db()
    assert ld1.progress == 50


def test_parent_strategies_pass_to_sub_measures(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld2 = plan["ld2"]
    measure_update(
        actor=personas["department"],
        measure_id=ld2.pk,
        data=data_of(ld2, strategy_ids=[plan["digital"].pk, plan["triangulum"].pk]),
    )
    for sub in plan["subs"]:
        assert set(sub.strategies.all()) == {plan["digital"], plan["triangulum"]}


def test_confirm_sets_reviewed_at(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    ld1 = plan["ld1"]
    measure_confirm(actor=personas["caseworker"], measure_id=ld1.pk)
    ld1.refresh_from_db()
    assert ld1.reviewed_at is not None
    assert timezone.now() - ld1.reviewed_at < timedelta(minutes=1)
    assert AuditEntry.objects.filter(action="strategy.measure.confirm").exists()


# ---- milestones ----------------------------------------------------------------------------


def test_milestone_create_sets_baseline_and_reviews_measure(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld1 = plan["ld1"]
    milestone = milestone_create(
        actor=personas["caseworker"],
        measure_id=ld1.pk,
        data=MilestoneData(title="75 Leistungen online", planned_date=date(2026, 12, 31)),
    )
    assert milestone.baseline_date == date(2026, 12, 31)
    ld1.refresh_from_db()
    assert ld1.reviewed_at is not None
    entry = AuditEntry.objects.get(action="strategy.milestone.create")
    assert entry.after["baseline_date"] == "2026-12-31"


def test_milestone_not_before_the_measures_start(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld1 = plan["ld1"]  # planned 2024-01-01, actually 2024-02-01: the earlier counts
    message = refused(
        "planned_date",
        milestone_create,
        actor=personas["caseworker"],
        measure_id=ld1.pk,
        data=MilestoneData(title="Zu früh", planned_date=date(2023, 12, 31)),
    )
    assert "vor dem Beginn der Maßnahme" in message
    ok = milestone_create(
        actor=personas["caseworker"],
        measure_id=ld1.pk,
        data=MilestoneData(title="Am Anfang", planned_date=date(2024, 1, 1)),
    )
    assert ok.pk
    assert not Milestone.objects.filter(title="Zu früh").exists()


def test_slip_needs_a_reason_and_baseline_is_kept(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    slipped = plan["slipped"]  # baseline 2025-12-31, planned 2026-03-31
    person = personas["caseworker"]
    data = MilestoneData(title=slipped.title, planned_date=date(2026, 6, 30))
    message = refused(
        "slip_reason", milestone_update, actor=person, milestone_id=slipped.pk, data=data
    )
    assert "Grund der Verschiebung" in message
    data.slip_reason = "Ausschreibung dauert länger"
    milestone_update(actor=person, milestone_id=slipped.pk, data=data)
    slipped.refresh_from_db()
    assert slipped.baseline_date == date(2025, 12, 31)
    assert slipped.planned_date == date(2026, 6, 30)
    assert slipped.slipped
    entry = AuditEntry.objects.get(action="strategy.milestone.update")
    assert entry.before["planned_date"] == "2026-03-31"
    assert entry.after["slip_reason"] == "Ausschreibung dauert länger"


def test_reached_late_needs_a_reason_and_done_needs_a_date(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld3 = plan["ld3"]
    person = personas["department"]
    milestone = milestone_create(
        actor=person,
        measure_id=ld3.pk,
        data=MilestoneData(title="Vergabe", planned_date=date(2025, 3, 1)),
    )
    done = MilestoneData(
        title="Vergabe", planned_date=date(2025, 3, 1), status=MilestoneStatus.DONE
    )
    assert "Datum" in refused(
        "actual_date", milestone_update, actor=person, milestone_id=milestone.pk, data=done
    )
    late = replace(done, actual_date=date(2025, 4, 1))
    refused("slip_reason", milestone_update, actor=person, milestone_id=milestone.pk, data=late)
    future = replace(done, actual_date=timezone.localdate() + timedelta(days=3), slip_reason="x")
    refused("actual_date", milestone_update, actor=person, milestone_id=milestone.pk, data=future)
    milestone_update(
        actor=person,
        milestone_id=milestone.pk,
        data=replace(late, slip_reason="Einspruch im Vergabeverfahren"),
    )
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DONE and milestone.slipped


def test_milestone_evidence_url_and_file_checked_by_content(
    plan: dict[str, Any], personas: dict[str, Any], settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ld1 = plan["ld1"]
    person = personas["caseworker"]
    base = MilestoneData(title="Nachweis", planned_date=date(2025, 1, 1))
    refused(
        "evidence_url",
        milestone_create,
        actor=person,
        measure_id=ld1.pk,
        data=replace(base, evidence_url="javascript:alert(1)"),
    )
    fake = SimpleUploadedFile(
        "bericht.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    message = refused(
        "evidence_file",
        milestone_create,
        actor=person,
        measure_id=ld1.pk,
        data=replace(base, evidence_file=fake),
    )
    assert "PDF" in message
    assert not Milestone.objects.filter(title="Nachweis").exists()
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    image = SimpleUploadedFile("foto.png", buffer.getvalue(), content_type="image/png")
    milestone = milestone_create(
        actor=person, measure_id=ld1.pk, data=replace(base, evidence_file=image)
    )
    assert milestone.evidence_file.name.startswith("strategy/evidence/")
    assert milestone.evidence_file.read() == buffer.getvalue()
    pdf = SimpleUploadedFile(
        "beschluss.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", content_type="application/pdf"
    )
    updated = milestone_update(
        actor=person, milestone_id=milestone.pk, data=replace(base, evidence_file=pdf)
    )
    assert updated.evidence_file.name.endswith(".pdf")
    removed = milestone_update(
        actor=person, milestone_id=milestone.pk, data=replace(base, remove_evidence_file=True)
    )
    assert not removed.evidence_file


def test_milestones_of_others_measures_refused(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    data = MilestoneData(title="X", planned_date=date(2025, 6, 1))
    with pytest.raises(PermissionDenied):
        milestone_create(actor=personas["caseworker"], measure_id=plan["ld3"].pk, data=data)
    with pytest.raises(PermissionDenied):
        milestone_update(
            actor=personas["caseworker_other"], milestone_id=plan["slipped"].pk, data=data
        )


def test_strategies_stay_when_measure_code_changes(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld3 = plan["ld3"]
    measure_update(actor=personas["department"], measure_id=ld3.pk, data=data_of(ld3, code="LD-3a"))
    assert Strategy.objects.filter(measures__code="LD-3a").count() == 1
