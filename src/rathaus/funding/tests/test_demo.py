"""The demo city's funding register: loads, is idempotent, and gives the pages something to
show in every part (an open call per deadline model, a closed call, applications in several
states with a consortium whose shares add up)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Sum

from rathaus.funding import demo
from rathaus.funding.constants import ApplicationStatus, CallStatus, DeadlineModel
from rathaus.funding.models import Application, Call, Duty
from rathaus.strategy import demo as strategy_demo

pytestmark = pytest.mark.django_db


def test_the_demo_loads_once_with_consistent_applications(personas: dict[str, Any]) -> None:
    strategy_demo.load()
    first = demo.load(staff=personas["department"])
    second = demo.load(staff=personas["department"])

    assert first["applications created"] == 4
    assert second["applications created"] == 0
    assert Call.objects.count() == first["calls"]
    open_models = set(
        Call.objects.filter(status=CallStatus.OPEN).values_list("deadline_model", flat=True)
    )
    assert open_models == {DeadlineModel.SINGLE, DeadlineModel.TWO_STAGE, DeadlineModel.CUTOFFS}
    for application in Application.objects.all():
        shares = application.consortium.aggregate(total=Sum("budget_share"))["total"]
        assert shares == application.total_cost, application.acronym
        assert application.measure_links.exists(), application.acronym
        assert application.consortium.filter(role="coordinator").count() == 1
    running = Application.objects.get(status=ApplicationStatus.RUNNING)
    assert running.budget_lines.count() == 3
    assert Duty.objects.filter(application=running, done_on__isnull=True).count() == 2
