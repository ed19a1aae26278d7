"""Shared fixtures of the innovation tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rathaus.accounts.tests.factories import UserFactory
from rathaus.innovation.constants import CallStatus, Scale
from rathaus.innovation.models import Call, Criterion, JuryMember, Phase


@pytest.fixture
def setup() -> dict[str, Any]:
    """A published call whose one phase is over (evaluation due yesterday), two criteria of
    60 and 40 on the 0-5 scale, three jurors."""
    now = timezone.now()
    call = Call.objects.create(
        title="Smart City Challenge", slug="scc", challenge="…", status=CallStatus.PUBLISHED
    )
    phase = Phase.objects.create(
        call=call,
        position=1,
        name="Konzept",
        opens_at=now - timedelta(days=30),
        closes_at=now - timedelta(days=10),
        evaluation_due_at=now - timedelta(days=1),
        advance_count=2,
    )
    impact = Criterion.objects.create(
        phase=phase, position=1, name="Wirkung", scale=Scale.HALF_POINTS, weight=60, max_points=5
    )
    feasible = Criterion.objects.create(
        phase=phase,
        position=2,
        name="Machbarkeit",
        scale=Scale.HALF_POINTS,
        weight=40,
        max_points=5,
    )
    jury = [
        JuryMember.objects.create(
            call=call, user=UserFactory(email=f"jury{i}@example.org"), public_name=f"Juror {i}"
        )
        for i in range(3)
    ]
    author = UserFactory()
    return {
        "now": now,
        "call": call,
        "phase": phase,
        "criteria": (impact, feasible),
        "jury": jury,
        "author": author,
    }
