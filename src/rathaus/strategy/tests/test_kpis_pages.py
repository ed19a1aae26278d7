"""The KPI pages for editors: the indicator list and form (staff), the observations page
(staff and the indicator's owner), the correction page with its history, "refresh now";
the indicator rules; permissions and CSRF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rathaus.catalog.models import Service
from rathaus.core.models import AuditEntry
from rathaus.strategy.constants import AutoSource, Frequency
from rathaus.strategy.models import Indicator, IndicatorObservation, ObservationCorrection
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.kpis import IndicatorData, indicator_create, indicator_update

pytestmark = pytest.mark.django_db


def _data(**kwargs: Any) -> IndicatorData:
    values: dict[str, Any] = {
        "code": "K-2",
        "name": "Datensätze offen",
        "definition": "Zahl der offenen Datensätze",
        "unit": "Anzahl",
    }
    values.update(kwargs)
    return IndicatorData(**values)


# ---- services: indicator rules -------------------------------------------------------------


def test_indicator_create_writes_it_with_an_audit_entry(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    indicator = indicator_create(
        actor=personas["department"],
        strategy_id=plan["digital"].pk,
        data=_data(
            field_id=plan["fields"]["2"].pk,
            measure_ids=[plan["ld2"].pk],
            owner_id=personas["caseworker"].pk,
            baseline_value=Decimal(10),
            baseline_date=date(2024, 1, 1),
            target_value=Decimal(100),
            target_date=date(2027, 12, 31),
        ),
    )
    assert list(indicator.measures.all()) == [plan["ld2"]]
    entry = AuditEntry.objects.get(action="strategy.indicator.create")
    assert entry.after["code"] == "K-2"
    assert entry.after["measure_ids"] == [plan["ld2"].pk]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "K-1"}, "code"),  # taken in this strategy
        ({"unit": ""}, "unit"),
        ({"target_value": Decimal(5)}, "target_date"),  # a target without its date
        (
            {
                "baseline_value": Decimal(1),
                "baseline_date": date(2025, 1, 1),
                "target_value": Decimal(5),
                "target_date": date(2024, 1, 1),
            },
            "target_date",
        ),
        (
            {"unit": "%", "target_value": Decimal(120), "target_date": date(2027, 1, 1)},
            "target_value",
        ),
        ({"owner_id": 999999}, "owner"),
        ({"measure_ids": [999999]}, "measures"),
    ],
)
def test_indicator_rules(
    plan: dict[str, Any], personas: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(StrategyError) as error:
        indicator_create(
            actor=personas["department"], strategy_id=plan["digital"].pk, data=_data(**changes)
        )
    assert error.value.field == field
    assert not Indicator.objects.filter(name="Datensätze offen").exists()


def test_field_and_measures_must_belong_to_the_strategy(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    other = plan["triangulum"]
    with pytest.raises(StrategyError) as error:
        indicator_create(
            actor=personas["department"],
            strategy_id=other.pk,
            data=_data(field_id=plan["fields"]["1"].pk),
        )
    assert error.value.field == "field_of_action"
    with pytest.raises(StrategyError) as error:  # LD-3 is not in Triangulum
        indicator_create(
            actor=personas["department"],
            strategy_id=other.pk,
            data=_data(measure_ids=[plan["ld3"].pk]),
        )
    assert error.value.field == "measures"
    # LD-1 is: fine
    indicator_create(
        actor=personas["department"], strategy_id=other.pk, data=_data(measure_ids=[plan["ld1"].pk])
    )


def test_inactive_owner_and_taken_external_id_are_refused(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    retired = personas["caseworker_other"]
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    with pytest.raises(StrategyError) as error:
        indicator_create(
            actor=personas["department"],
            strategy_id=plan["digital"].pk,
            data=_data(owner_id=retired.pk),
        )
    assert error.value.field == "owner"
    indicator_create(
        actor=personas["department"], strategy_id=plan["digital"].pk, data=_data(external_id="X1")
    )
    with pytest.raises(StrategyError) as error:
        indicator_create(
            actor=personas["department"],
            strategy_id=plan["triangulum"].pk,
            data=_data(code="T-1", external_id="X1"),
        )
    assert error.value.field == "external_id"


def test_unit_cannot_change_once_there_are_values(
    plan: dict[str, Any], personas: dict[str, Any]
) -> None:
    kpi = plan["kpi"]
    with pytest.raises(StrategyError) as error:
        indicator_update(
            actor=personas["department"],
            indicator_id=kpi.pk,
            data=_data(code="K-1", unit="Tage"),
        )
    assert error.value.field == "unit"
    kpi.refresh_from_db()
    assert kpi.unit == "%"


# ---- pages ---------------------------------------------------------------------------------


def test_staff_see_the_indicator_list(plan: dict[str, Any], staff_client: Client) -> None:
    page = staff_client.get(reverse("strategy:indicator_list", args=[plan["digital"].pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "K-1 Kommunale Leistungen online" in text
    assert "44,5" in text and "vorläufig" in text


def test_staff_create_an_indicator_through_the_form(
    plan: dict[str, Any], staff_client: Client, personas: dict[str, Any]
) -> None:
    url = reverse("strategy:indicator_create", args=[plan["digital"].pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url,
        {
            "code": "K-9",
            "name": "Bearbeitungszeit",
            "definition": "Median der Tage bis zum Bescheid",
            "auto_source": AutoSource.CASE_MEDIAN_DAYS,
            "unit": "",
            "direction": "lower",
            "frequency": Frequency.MONTHLY,
            "measure_codes": "LD-1, LD-3",
            "baseline_value": "21,5",
            "baseline_date": "2024-01-01",
            "target_value": "10",
            "target_date": "31.12.2027",
            "owner_email": personas["caseworker"].email.upper(),
            "position": "3",
        },
    )
    indicator = Indicator.objects.get(code="K-9")
    assert response.status_code == 302
    assert response["Location"] == reverse("strategy:observations", args=[indicator.pk])
    assert indicator.unit == "Tage"
    assert indicator.baseline_value == Decimal("21.5")
    assert indicator.owner == personas["caseworker"]
    assert sorted(m.code for m in indicator.measures.all()) == ["LD-1", "LD-3"]


def test_indicator_form_shows_errors_at_the_field(
    plan: dict[str, Any], staff_client: Client
) -> None:
    response = staff_client.post(
        reverse("strategy:indicator_create", args=[plan["digital"].pk]),
        {
            "code": "K-1",
            "name": "Doppelt",
            "definition": "x",
            "unit": "%",
            "direction": "higher",
            "frequency": "yearly",
            "measure_codes": "LD-1, GIBTSNICHT",
            "owner_email": "niemand@example.org",
            "position": "0",
        },
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "GIBTSNICHT" in text
    assert "kein Konto mit dieser E-Mail-Adresse" in text
    response = staff_client.post(
        reverse("strategy:indicator_create", args=[plan["digital"].pk]),
        {
            "code": "K-1",
            "name": "Doppelt",
            "definition": "x",
            "unit": "%",
            "direction": "higher",
            "frequency": "yearly",
            "position": "0",
        },
    )
    assert response.status_code == 422
    assert "gibt es in dieser Strategie schon" in response.content.decode()
    assert Indicator.objects.filter(code="K-1").count() == 1


def test_staff_edit_an_indicator(plan: dict[str, Any], staff_client: Client) -> None:
    kpi = plan["kpi"]
    url = reverse("strategy:indicator_edit", args=[kpi.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert 'value="LD-1"' in page.content.decode()
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["field_of_action"] = kpi.field_of_action_id
    data["name"] = "Leistungen online (OZG)"
    data["baseline_value"] = "12"
    data["target_value"] = "75"
    assert staff_client.post(url, data).status_code == 302
    kpi.refresh_from_db()
    assert kpi.name == "Leistungen online (OZG)"
    assert AuditEntry.objects.filter(action="strategy.indicator.update").count() == 1


def test_owner_enters_a_value_and_the_period_is_normalised(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    kpi = plan["kpi"]
    url = reverse("strategy:observations", args=[kpi.pk])
    page = responsible_client.get(url)
    assert page.status_code == 200
    assert "Ein Tag im Jahr" in page.content.decode()
    response = responsible_client.post(
        url, {"period": "2026-07-15", "value": "52,5 %", "provisional": "on"}
    )
    assert response.status_code == 302
    observation = IndicatorObservation.objects.get(indicator=kpi, period=date(2026, 1, 1))
    assert observation.value == Decimal("52.5") and observation.provisional


def test_wrong_unit_and_120_percent_are_shown_at_the_value(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    url = reverse("strategy:observations", args=[plan["kpi"].pk])
    response = responsible_client.post(url, {"period": "2026-01-01", "value": "12 Tage"})
    assert response.status_code == 422
    assert (
        "Falsche Einheit: die Kennzahl wird in % gemessen, nicht in Tagen."
        in response.content.decode()
    )
    response = responsible_client.post(url, {"period": "2026-01-01", "value": "120"})
    assert response.status_code == 422
    assert "zwischen 0 und 100" in response.content.decode()
    response = responsible_client.post(url, {"period": "2026-01-01", "value": "viel"})
    assert response.status_code == 422
    assert "keine Zahl" in response.content.decode()
    assert not IndicatorObservation.objects.filter(period=date(2026, 1, 1)).exists()


def test_correction_needs_a_reason_for_a_final_value_and_is_shown(
    plan: dict[str, Any], responsible_client: Client, personas: dict[str, Any]
) -> None:
    observation = IndicatorObservation.objects.get(indicator=plan["kpi"], period=date(2024, 1, 1))
    url = reverse("strategy:observation_edit", args=[observation.pk])
    page = responsible_client.get(url)
    assert page.status_code == 200
    assert 'value="31"' in page.content.decode()
    response = responsible_client.post(url, {"value": "33"})
    assert response.status_code == 422
    assert "nur mit Begründung" in response.content.decode()
    response = responsible_client.post(url, {"value": "33", "reason": "Doppelt gezählt"})
    assert response.status_code == 302
    observation.refresh_from_db()
    assert observation.value == 33
    listing = responsible_client.get(reverse("strategy:observations", args=[plan["kpi"].pk]))
    text = listing.content.decode()
    assert "von 31 auf 33" in text
    assert "Doppelt gezählt" in text
    assert str(personas["caseworker"]) in text
    # the same again: nothing written
    responsible_client.post(url, {"value": "33", "reason": "nochmal"})
    assert ObservationCorrection.objects.filter(observation=observation).count() == 1


def test_another_persons_kpi_is_forbidden(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    client = Client()
    client.force_login(personas["caseworker_other"])
    kpi = plan["kpi"]
    observation = kpi.observations.first()
    assert client.get(reverse("strategy:observations", args=[kpi.pk])).status_code == 403
    assert (
        client.post(
            reverse("strategy:observations", args=[kpi.pk]), {"period": "2026-01-01", "value": "1"}
        ).status_code
        == 403
    )
    assert (
        client.get(reverse("strategy:observation_edit", args=[observation.pk])).status_code == 403
    )
    assert client.post(reverse("strategy:indicator_refresh", args=[kpi.pk])).status_code == 403
    # unknown ids: 403 too (no probing)
    assert client.get(reverse("strategy:observations", args=[999999])).status_code == 403
    assert client.get(reverse("strategy:observation_edit", args=[999999])).status_code == 403
    assert not IndicatorObservation.objects.filter(period=date(2026, 1, 1)).exists()


def test_owner_may_not_edit_the_indicator_or_list_the_strategy(
    plan: dict[str, Any], responsible_client: Client
) -> None:
    assert (
        responsible_client.get(
            reverse("strategy:indicator_edit", args=[plan["kpi"].pk])
        ).status_code
        == 403
    )
    assert (
        responsible_client.get(
            reverse("strategy:indicator_list", args=[plan["digital"].pk])
        ).status_code
        == 403
    )
    assert (
        responsible_client.get(
            reverse("strategy:indicator_create", args=[plan["digital"].pk])
        ).status_code
        == 403
    )


def test_unknown_ids_are_404_for_staff(staff_client: Client, plan: dict[str, Any]) -> None:
    for name, pk in (
        ("indicator_list", 999999),
        ("indicator_create", 999999),
        ("indicator_edit", 999999),
        ("observations", 999999),
        ("observation_edit", 999999),
    ):
        assert staff_client.get(reverse(f"strategy:{name}", args=[pk])).status_code == 404, name
    assert (
        staff_client.post(reverse("strategy:indicator_refresh", args=[999999])).status_code == 404
    )


def test_anonymous_is_sent_to_login(plan: dict[str, Any]) -> None:
    response = Client().get(reverse("strategy:observations", args=[plan["kpi"].pk]))
    assert response.status_code == 302
    assert "anmelden" in response["Location"] or "login" in response["Location"]


def test_refresh_now_button(
    plan: dict[str, Any], personas: dict[str, Any], responsible_client: Client
) -> None:
    Service.objects.all().delete()  # the session may hold the LeiKa catalogue (rolled back)
    for n, submission in enumerate((True, True, False, False)):
        Service.objects.create(
            leika_key=f"9910201300{n:04d}",
            name=f"L{n}",
            online_form=True,
            online_submission=submission,
        )
    auto = indicator_create(
        actor=personas["department"],
        strategy_id=plan["digital"].pk,
        data=_data(
            code="A-1",
            auto_source=AutoSource.CATALOG_ONLINE_SHARE,
            frequency=Frequency.QUARTERLY,
            owner_id=personas["caseworker"].pk,
        ),
    )
    page = responsible_client.get(reverse("strategy:observations", args=[auto.pk]))
    assert "Jetzt aus den Plattformdaten berechnen" in page.content.decode()
    url = reverse("strategy:indicator_refresh", args=[auto.pk])
    assert responsible_client.get(url).status_code == 405
    response = responsible_client.post(url, follow=True)
    assert response.status_code == 200
    assert "50 % (vorläufig)" in response.content.decode()
    assert IndicatorObservation.objects.get(indicator=auto).value == 50
    # a manual KPI has nothing to compute: a message, no value
    response = responsible_client.post(
        reverse("strategy:indicator_refresh", args=[plan["kpi"].pk]), follow=True
    )
    assert "keine automatische Quelle" in response.content.decode()


def test_forms_need_the_csrf_token(plan: dict[str, Any], personas: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["caseworker"])
    kpi = plan["kpi"]
    response = client.post(
        reverse("strategy:observations", args=[kpi.pk]), {"period": "2026-01-01", "value": "1"}
    )
    assert response.status_code == 403
    assert not IndicatorObservation.objects.filter(period=date(2026, 1, 1)).exists()
    page = client.get(reverse("strategy:observations", args=[kpi.pk]))
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()


def test_observations_are_paginated_newest_first(
    plan: dict[str, Any], staff_client: Client
) -> None:
    monthly = Indicator.objects.create(
        strategy=plan["digital"],
        code="M-1",
        name="Monatlich",
        definition="d",
        unit="Anzahl",
        frequency=Frequency.MONTHLY,
    )
    IndicatorObservation.objects.bulk_create(
        IndicatorObservation(indicator=monthly, period=date(2020 + i // 12, i % 12 + 1, 1), value=i)
        for i in range(30)
    )
    url = reverse("strategy:observations", args=[monthly.pk])
    first = staff_client.get(url).content.decode()
    assert "06/2022" in first and "01/2020" not in first
    assert "seite=2" in first
    second = staff_client.get(url, {"seite": "2"}).content.decode()
    assert "01/2020" in second
