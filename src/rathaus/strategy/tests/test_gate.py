"""The one gate of each entity: who may edit a measure and enter a KPI's values."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from rathaus.strategy.selectors.gate import (
    indicator_get_for_editor,
    measure_get_for_editor,
    strategy_get_for_staff,
)


def test_department_staff_edit_every_measure(plan: dict[str, Any], personas: dict[str, Any]):
    for key in ("ld1", "ld2", "ld3"):
        measure = measure_get_for_editor(user=personas["department"], measure_id=plan[key].pk)
        assert measure == plan[key]


def test_responsible_person_edits_own_measure_only(plan: dict[str, Any], personas: dict[str, Any]):
    caseworker = personas["caseworker"]
    assert measure_get_for_editor(user=caseworker, measure_id=plan["ld1"].pk) == plan["ld1"]
    with pytest.raises(PermissionDenied):
        measure_get_for_editor(user=caseworker, measure_id=plan["ld3"].pk)
    with pytest.raises(PermissionDenied):
        measure_get_for_editor(user=personas["caseworker_other"], measure_id=plan["ld1"].pk)


def test_responsible_person_of_a_measure_edits_its_sub_measures(
    plan: dict[str, Any], personas: dict[str, Any]
):
    plan["ld2"].responsible = personas["caseworker_other"]
    plan["ld2"].save()
    sub = plan["subs"][0]
    assert measure_get_for_editor(user=personas["caseworker_other"], measure_id=sub.pk) == sub


def test_unknown_ids_are_404_for_staff_and_refused_for_others(
    plan: dict[str, Any], personas: dict[str, Any]
):
    with pytest.raises(Http404):
        measure_get_for_editor(user=personas["department"], measure_id=999_999)
    with pytest.raises(PermissionDenied):
        measure_get_for_editor(user=personas["citizen"], measure_id=999_999)
    with pytest.raises(PermissionDenied):
        measure_get_for_editor(user=AnonymousUser(), measure_id=plan["ld1"].pk)
    with pytest.raises(Http404):
        indicator_get_for_editor(user=personas["department"], indicator_id=999_999)
    with pytest.raises(Http404):
        strategy_get_for_staff(user=personas["department"], strategy_id=999_999)


def test_kpi_owner_and_staff_enter_values_nobody_else(
    plan: dict[str, Any], personas: dict[str, Any]
):
    kpi = plan["kpi"]
    assert indicator_get_for_editor(user=personas["caseworker"], indicator_id=kpi.pk) == kpi
    assert indicator_get_for_editor(user=personas["department"], indicator_id=kpi.pk) == kpi
    for other in ("caseworker_other", "citizen", "organisation"):
        with pytest.raises(PermissionDenied):
            indicator_get_for_editor(user=personas[other], indicator_id=kpi.pk)
    with pytest.raises(PermissionDenied):
        strategy_get_for_staff(user=personas["caseworker"], strategy_id=plan["digital"].pk)
