"""Review fixes of the editors' side: KPI owners reach the start page; the KPI services check
who calls; only accounts of the administration can be responsible for a measure or own a KPI;
stale entries are paginated and marked in words; the evidence hint follows the language."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import trans_real

from rathaus.core.models import AuditEntry
from rathaus.strategy.forms_measures import MilestoneForm
from rathaus.strategy.models import Indicator, IndicatorObservation, Measure
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.kpis import (
    IndicatorData,
    indicator_create,
    indicator_update,
    observation_record,
)
from rathaus.strategy.services.measures import MeasureData, measure_create, measure_update
from rathaus.strategy.tests.test_measures_services import data_of

pytestmark = pytest.mark.django_db

BASE = "/strategie/verwaltung/"
STALE_NOTICE = "Lange nicht aktualisiert – bitte prüfen und mit „Noch aktuell“ bestätigen."
STALE_WORD = "lange nicht aktualisiert"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _make_stale(*measures: Measure) -> None:
    Measure.objects.filter(pk__in=[m.pk for m in measures]).update(
        reviewed_at=timezone.now() - timedelta(days=400)
    )


def _kpi_data(**kwargs: Any) -> IndicatorData:
    values: dict[str, Any] = {
        "code": "K-9",
        "name": "Offene Datensätze",
        "definition": "Zahl der offenen Datensätze",
        "unit": "Anzahl",
    }
    values.update(kwargs)
    return IndicatorData(**values)


# ---- 1. KPI owners reach the start page ----------------------------------------------------


def test_kpi_owner_without_measures_sees_the_start_page_with_their_kpis(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    owner = personas["lead"]  # member of an office, no measure, not department staff
    Indicator.objects.filter(pk=plan["kpi"].pk).update(owner=owner)
    response = _client(owner).get(BASE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Meine Kennzahlen" in content
    assert f"{BASE}kennzahlen/{plan['kpi'].pk}/werte/" in content
    assert "K-1 Kommunale Leistungen online" in content
    assert "Neue Strategie" not in content


def test_someone_who_is_neither_staff_responsible_nor_owner_is_refused(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    for who in ("lead", "citizen", "organisation"):
        assert _client(personas[who]).get(BASE).status_code == 403, who


def test_my_kpis_are_paginated(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    owner = personas["lead"]
    for number in range(30):
        Indicator.objects.create(
            strategy=plan["digital"],
            code=f"P-{number:02d}",
            name=f"Kennzahl {number:02d}",
            definition="x",
            unit="Anzahl",
            owner=owner,
        )
    client = _client(owner)
    first = client.get(BASE).content.decode()
    assert "P-00 " in first and "P-24 " in first and "P-25 " not in first
    assert "seite_kennzahlen=2" in first
    second = client.get(BASE, {"seite_kennzahlen": 2}).content.decode()
    assert "P-25 " in second and "P-29 " in second and "P-00 " not in second


# ---- 2. the KPI services check who calls ---------------------------------------------------


def test_only_staff_create_and_update_indicators(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    owner = personas["caseworker"]  # owner of K-1, not department staff
    with pytest.raises(PermissionDenied):
        indicator_create(actor=owner, strategy_id=plan["digital"].pk, data=_kpi_data())
    assert not Indicator.objects.filter(code="K-9").exists()
    kpi = plan["kpi"]
    with pytest.raises(PermissionDenied):
        indicator_update(
            actor=owner,
            indicator_id=kpi.pk,
            data=_kpi_data(code=kpi.code, name="Umbenannt", unit=kpi.unit),
        )
    kpi.refresh_from_db()
    assert kpi.name == "Kommunale Leistungen online"
    assert not AuditEntry.objects.filter(action__startswith="strategy.indicator").exists()
    # staff may
    created = indicator_create(
        actor=personas["department"], strategy_id=plan["digital"].pk, data=_kpi_data()
    )
    assert created.code == "K-9"


def test_observations_only_by_staff_owner_or_the_platform(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    kpi = plan["kpi"]
    count = IndicatorObservation.objects.count()
    for who in ("caseworker_other", "citizen"):
        with pytest.raises(PermissionDenied):
            observation_record(
                actor=personas[who],
                indicator_id=kpi.pk,
                period=date(2026, 1, 1),
                value=Decimal(50),
            )
        # no probing of ids either
        with pytest.raises(PermissionDenied):
            observation_record(
                actor=personas[who], indicator_id=999999, period=date(2026, 1, 1), value=Decimal(1)
            )
    assert IndicatorObservation.objects.count() == count
    _obs, outcome = observation_record(
        actor=personas["caseworker"], indicator_id=kpi.pk, period=date(2026, 1, 1), value=50
    )
    assert outcome == "created"
    _obs, outcome = observation_record(
        actor=personas["department"], indicator_id=kpi.pk, period=date(2027, 1, 1), value=60
    )
    assert outcome == "created"
    _obs, outcome = observation_record(
        actor=None, indicator_id=kpi.pk, period=date(2028, 1, 1), value=Decimal(70)
    )
    assert outcome == "created"
    with pytest.raises(StrategyError):  # staff learn that an id does not exist
        observation_record(
            actor=personas["department"], indicator_id=999999, period=date(2026, 1, 1), value=1
        )


# ---- 3. only accounts of the administration ------------------------------------------------


@pytest.mark.parametrize("who", ["citizen", "organisation", "jury"])
def test_measure_responsible_must_be_an_account_of_the_administration(
    plan: dict[str, Any], personas: dict[str, Any], who: str
) -> None:
    staff = personas["department"]
    outsider = personas[who]
    with pytest.raises(StrategyError) as caught:
        measure_create(
            actor=staff,
            data=MeasureData(
                code="LD-9",
                title="Neu",
                strategy_ids=[plan["digital"].pk],
                responsible_id=outsider.pk,
            ),
        )
    assert caught.value.field == "responsible_id"
    assert "Verwaltung" in str(caught.value.message)
    assert not Measure.objects.filter(code="LD-9").exists()
    ld3 = plan["ld3"]
    with pytest.raises(StrategyError) as caught:
        measure_update(
            actor=staff, measure_id=ld3.pk, data=data_of(ld3, responsible_id=outsider.pk)
        )
    assert caught.value.field == "responsible_id"
    ld3.refresh_from_db()
    assert ld3.responsible_id is None


def test_measure_responsible_from_the_administration_is_accepted(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    ld3 = plan["ld3"]
    for who in ("caseworker_other", "department", "admin"):
        measure_update(
            actor=personas["department"],
            measure_id=ld3.pk,
            data=data_of(ld3, responsible_id=personas[who].pk),
        )
        ld3.refresh_from_db()
        assert ld3.responsible_id == personas[who].pk


def test_measure_form_shows_the_refusal_at_the_field(
    plan: dict[str, Any], personas: dict[str, Any], staff_client: Client
) -> None:
    from rathaus.strategy.tests.test_measures_pages import measure_post

    ld3 = plan["ld3"]
    response = staff_client.post(
        f"{BASE}massnahmen/{ld3.pk}/",
        measure_post(ld3, responsible_id=personas["citizen"].pk),
    )
    assert response.status_code == 422
    ld3.refresh_from_db()
    assert ld3.responsible_id is None


@pytest.mark.parametrize("who", ["citizen", "organisation"])
def test_kpi_owner_must_be_an_account_of_the_administration(
    plan: dict[str, Any], personas: dict[str, Any], who: str
) -> None:
    staff = personas["department"]
    with pytest.raises(StrategyError) as caught:
        indicator_create(
            actor=staff,
            strategy_id=plan["digital"].pk,
            data=_kpi_data(owner_id=personas[who].pk),
        )
    assert caught.value.field == "owner"
    assert "Verwaltung" in str(caught.value.message)
    kpi = plan["kpi"]
    with pytest.raises(StrategyError) as caught:
        indicator_update(
            actor=staff,
            indicator_id=kpi.pk,
            data=_kpi_data(code=kpi.code, unit=kpi.unit, owner_id=personas[who].pk),
        )
    assert caught.value.field == "owner"
    kpi.refresh_from_db()
    assert kpi.owner_id == personas["caseworker"].pk
    made = indicator_create(
        actor=staff,
        strategy_id=plan["digital"].pk,
        data=_kpi_data(owner_id=personas["caseworker_other"].pk),
    )
    assert made.owner_id == personas["caseworker_other"].pk


# ---- 4. stale entries ----------------------------------------------------------------------


def test_stale_list_on_the_start_page_is_paginated(
    plan: dict[str, Any], staff_client: Client
) -> None:
    old = timezone.now() - timedelta(days=400)
    for number in range(60):
        measure = Measure.objects.create(code=f"S-{number:02d}", title=f"Alt {number:02d}")
        measure.strategies.add(plan["digital"])
    Measure.objects.filter(code__startswith="S-").update(reviewed_at=old)
    first = staff_client.get(BASE).content.decode()
    assert "60 Maßnahmen wurden lange nicht aktualisiert" in first
    assert "seite_veraltet=2" in first
    third = staff_client.get(BASE, {"seite_veraltet": 3}).content.decode()
    stale_part = third.split('id="stale-heading"', 1)[1]
    # the oldest first (by code when equally old): rows 51..60 on the third page
    assert "S-59 Alt 59" in stale_part
    assert "S-49 Alt 49" not in stale_part
    assert "Seite 3 von 3" in stale_part


def test_measure_page_says_when_it_is_stale(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    url = f"{BASE}massnahmen/{plan['ld1'].pk}/"
    assert STALE_NOTICE not in responsible_client.get(url).content.decode()
    _make_stale(plan["ld1"])
    assert STALE_NOTICE in responsible_client.get(url).content.decode()
    responsible_client.post(f"{BASE}massnahmen/{plan['ld1'].pk}/aktuell/")
    assert STALE_NOTICE not in responsible_client.get(url).content.decode()


def test_stale_measures_are_marked_in_words_in_the_lists(
    plan: dict[str, Any], staff_client: Client, responsible_client: Client
) -> None:
    listing = f"{BASE}strategien/{plan['digital'].pk}/massnahmen/"
    assert STALE_WORD not in staff_client.get(listing).content.decode()
    assert STALE_WORD not in responsible_client.get(BASE).content.decode()
    _make_stale(plan["ld1"], plan["subs"][0])
    content = staff_client.get(listing).content.decode()
    rows = {row.split("</a>", 1)[0].rsplit(">", 1)[-1]: row for row in content.split("<tr")[1:]}
    assert STALE_WORD in rows["LD-1 75 kommunale Verwaltungsleistungen online"]
    assert STALE_WORD in rows["LD-2.1 Teil LD-2.1"]
    assert STALE_WORD not in rows["LD-3 Digitaler Zwilling"]
    assert STALE_WORD not in rows["LD-2.2 Teil LD-2.2"]
    mine = responsible_client.get(BASE).content.decode()
    mine_part = mine.split('id="mine-heading"', 1)[1].split("</section>", 1)[0]
    assert STALE_WORD in mine_part


# ---- 6. the evidence hint follows the request language ------------------------------------


def test_evidence_hint_is_translated_when_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    msgid = "PDF, PNG oder JPEG, höchstens %(size)d MB"
    english = trans_real.translation("en")
    monkeypatch.setitem(
        english._catalog._catalogs[0],  # type: ignore[attr-defined]
        msgid,
        "PDF, PNG or JPEG, at most %(size)d MB",
    )
    with translation.override("de"):
        german = str(MilestoneForm().fields["evidence_file"].help_text)
    with translation.override("en"):
        shown = str(MilestoneForm().fields["evidence_file"].help_text)
    assert german.startswith("PDF, PNG oder JPEG, höchstens ")
    assert shown.startswith("PDF, PNG or JPEG, at most ")
    assert shown.endswith(" MB") and any(char.isdigit() for char in shown)
