"""The register's rules for programmes and calls (services/programmes.py): what staff may enter,
what is refused with which message at which field, deadlines made from the funder's local
time and zone, ``final_deadline`` kept, every change audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from rathaus.core.models import AuditEntry
from rathaus.core.themes import Theme, mask_of
from rathaus.funding.constants import CallStatus, DeadlineModel, Level
from rathaus.funding.models import Call, CallDeadline, Programme
from rathaus.funding.services.programmes import (
    CallData,
    DeadlineData,
    ProgrammeData,
    RegisterError,
    call_create,
    call_update,
    call_warnings,
    programme_create,
    programme_update,
    zone_name,
)

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.now().year + 1


def programme_data(**overrides: Any) -> ProgrammeData:
    values: dict[str, Any] = {
        "name": "Modellprojekte Smart Cities",
        "code": "MPSC",
        "funder": "Bundesministerium für Wohnen",
        "level": Level.FEDERAL,
        "themes_mask": mask_of([Theme.SMART_CITY], Theme),
        "rate_max": Decimal("65"),
        "amount_min": Decimal("100000"),
        "amount_max": Decimal("15000000"),
    }
    values.update(overrides)
    return ProgrammeData(**values)


def local(day: str, hour: int = 17, minute: int = 0) -> datetime:
    """A naive local date and time next year: local("03-15") is 15 March, 17:00."""
    month, dom = (int(part) for part in day.split("-"))
    return datetime(NEXT_YEAR, month, dom, hour, minute)  # noqa: DTZ001 (local time)


def call_data(programme: Programme, **overrides: Any) -> CallData:
    values: dict[str, Any] = {
        "programme_id": programme.pk,
        "identifier": "MPSC-2027-01",
        "title": "Staffel 4",
        "status": CallStatus.OPEN,
        "deadline_model": DeadlineModel.SINGLE,
        "deadlines": [DeadlineData("", local("03-15"), "Europe/Brussels")],
    }
    values.update(overrides)
    return CallData(**values)


def problems_of(error: pytest.ExceptionInfo[RegisterError]) -> list[tuple[Any, Any]]:
    return [(problem.field, problem.index) for problem in error.value.problems]


# ---- programmes ------------------------------------------------------------------------------


def test_staff_create_a_programme_and_the_change_is_audited(personas: dict[str, Any]) -> None:
    programme = programme_create(actor=personas["department"], data=programme_data())

    assert programme.code == "MPSC"
    assert programme.amount_max == Decimal("15000000.00")
    entry = AuditEntry.objects.get(action="funding.programme.create")
    assert entry.object_id == str(programme.pk)
    assert entry.after["rate_max"] == "65.00"


def test_only_department_staff_may_create_or_change_programmes(
    personas: dict[str, Any],
) -> None:
    with pytest.raises(PermissionDenied):
        programme_create(actor=personas["citizen"], data=programme_data())
    programme = programme_create(actor=personas["department"], data=programme_data())
    with pytest.raises(PermissionDenied):
        programme_update(
            actor=personas["caseworker"], programme_id=programme.pk, data=programme_data()
        )
    assert Programme.objects.count() == 1


def test_a_minimum_above_the_maximum_is_refused_at_the_maximum(
    personas: dict[str, Any],
) -> None:
    with pytest.raises(RegisterError) as error:
        programme_create(
            actor=personas["department"],
            data=programme_data(amount_min=Decimal("2000"), amount_max=Decimal("1000")),
        )
    assert problems_of(error) == [("amount_max", None)]
    assert "Mindestbetrag" in error.value.problems[0].message
    assert not Programme.objects.exists()


def test_a_rate_above_100_percent_is_refused(personas: dict[str, Any]) -> None:
    with pytest.raises(RegisterError) as error:
        programme_create(actor=personas["department"], data=programme_data(rate_max=Decimal(120)))
    assert problems_of(error) == [("rate_max", None)]


def test_a_code_of_another_programme_is_refused_whatever_its_case(
    personas: dict[str, Any],
) -> None:
    programme_create(actor=personas["department"], data=programme_data())
    with pytest.raises(RegisterError) as error:
        programme_create(actor=personas["department"], data=programme_data(code="mpsc"))
    assert problems_of(error) == [("code", None)]


def test_an_update_audits_only_what_changed(personas: dict[str, Any]) -> None:
    staff = personas["department"]
    programme = programme_create(actor=staff, data=programme_data())
    programme_update(
        actor=staff,
        programme_id=programme.pk,
        data=programme_data(amount_max=Decimal("20000000"), last_checked=date(2026, 1, 5)),
    )
    programme_update(
        actor=staff,
        programme_id=programme.pk,
        data=programme_data(amount_max=Decimal("20000000"), last_checked=date(2026, 1, 5)),
    )

    entries = AuditEntry.objects.filter(action="funding.programme.update")
    assert entries.count() == 1  # the second save changed nothing
    assert entries[0].before == {"amount_max": "15000000.00", "last_checked": None}
    assert entries[0].after == {"amount_max": "20000000.00", "last_checked": "2026-01-05"}


# ---- calls and their deadlines ---------------------------------------------------------------


@pytest.fixture
def programme(personas: dict[str, Any]) -> Programme:
    return programme_create(actor=personas["department"], data=programme_data())


def test_a_deadline_is_the_instant_of_the_local_time_in_the_funders_zone(
    personas: dict[str, Any], programme: Programme
) -> None:
    call = call_create(actor=personas["department"], data=call_data(programme))

    deadline = call.deadlines.get()
    brussels = datetime(NEXT_YEAR, 3, 15, 17, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    assert deadline.due_at == brussels
    assert deadline.due_at.astimezone(UTC).hour == 16  # CET in March before the switch
    assert deadline.timezone == "Europe/Brussels"
    assert call.final_deadline == brussels
    assert AuditEntry.objects.filter(action="funding.call.create", object_id=str(call.pk)).exists()


def test_a_deadline_in_the_past_for_a_new_call_is_refused_and_nothing_saved(
    personas: dict[str, Any], programme: Programme
) -> None:
    yesterday = (timezone.localtime() - timedelta(days=1)).replace(tzinfo=None)
    with pytest.raises(RegisterError) as error:
        call_create(
            actor=personas["department"],
            data=call_data(programme, deadlines=[DeadlineData("", yesterday, "Europe/Berlin")]),
        )
    assert problems_of(error) == [("due", 0)]
    assert "Vergangenheit" in error.value.problems[0].message
    assert "Geschlossen" in error.value.problems[0].message
    assert not Call.objects.exists()
    assert not CallDeadline.objects.exists()


def test_a_closed_call_may_be_recorded_with_past_deadlines(
    personas: dict[str, Any], programme: Programme
) -> None:
    call = call_create(
        actor=personas["department"],
        data=call_data(
            programme,
            status=CallStatus.CLOSED,
            deadlines=[DeadlineData("", datetime(2023, 5, 2, 12, 0), "Europe/Berlin")],  # noqa: DTZ001
        ),
    )
    assert call.final_deadline == datetime(2023, 5, 2, 10, 0, tzinfo=UTC)


def test_an_unknown_time_zone_is_refused_at_the_deadline(
    personas: dict[str, Any], programme: Programme
) -> None:
    with pytest.raises(RegisterError) as error:
        call_create(
            actor=personas["department"],
            data=call_data(
                programme, deadlines=[DeadlineData("", local("03-15"), "Europe/Leipzig")]
            ),
        )
    assert problems_of(error) == [("timezone", 0)]
    assert "Europe/Leipzig" in error.value.problems[0].message
    assert not Call.objects.exists()


def test_a_time_zone_is_read_whatever_its_case() -> None:
    assert zone_name("europe/brussels") == "Europe/Brussels"
    assert zone_name("UTC") == "UTC"
    assert zone_name("Mars/Olympus") is None


def test_a_local_time_skipped_by_summer_time_is_refused(
    personas: dict[str, Any], programme: Programme
) -> None:
    # the last Sunday of March: 02:30 does not exist in Berlin
    day = max(date(NEXT_YEAR, 3, d) for d in range(25, 32) if date(NEXT_YEAR, 3, d).weekday() == 6)
    skipped = datetime(day.year, day.month, day.day, 2, 30)  # noqa: DTZ001
    with pytest.raises(RegisterError) as error:
        call_create(
            actor=personas["department"],
            data=call_data(programme, deadlines=[DeadlineData("", skipped, "Europe/Berlin")]),
        )
    assert problems_of(error) == [("due", 0)]
    assert "Zeitumstellung" in error.value.problems[0].message


def test_a_two_stage_call_needs_exactly_two_deadlines(
    personas: dict[str, Any], programme: Programme
) -> None:
    with pytest.raises(RegisterError) as error:
        call_create(
            actor=personas["department"],
            data=call_data(programme, deadline_model=DeadlineModel.TWO_STAGE),
        )
    assert problems_of(error) == [("deadline_model", None)]
    assert "genau zwei Fristen" in error.value.problems[0].message
    assert not Call.objects.exists()


def test_stage_two_must_come_after_stage_one(
    personas: dict[str, Any], programme: Programme
) -> None:
    with pytest.raises(RegisterError) as error:
        call_create(
            actor=personas["department"],
            data=call_data(
                programme,
                deadline_model=DeadlineModel.TWO_STAGE,
                deadlines=[
                    DeadlineData("Skizze", local("06-01"), "Europe/Berlin"),
                    DeadlineData("Vollantrag", local("03-01"), "Europe/Berlin"),
                ],
            ),
        )
    assert problems_of(error) == [("due", 1)]
    assert "Stufe 2 muss nach Stufe 1" in error.value.problems[0].message


def test_cutoffs_need_at_least_two_in_ascending_order(
    personas: dict[str, Any], programme: Programme
) -> None:
    staff = personas["department"]
    with pytest.raises(RegisterError) as error:
        call_create(actor=staff, data=call_data(programme, deadline_model=DeadlineModel.CUTOFFS))
    assert problems_of(error) == [("deadline_model", None)]
    with pytest.raises(RegisterError) as error:
        call_create(
            actor=staff,
            data=call_data(
                programme,
                deadline_model=DeadlineModel.CUTOFFS,
                deadlines=[
                    DeadlineData("", local("03-01"), "UTC"),
                    DeadlineData("", local("06-01"), "UTC"),
                    DeadlineData("", local("05-01"), "UTC"),
                ],
            ),
        )
    assert problems_of(error) == [("due", 2)]
    call = call_create(
        actor=staff,
        data=call_data(
            programme,
            deadline_model=DeadlineModel.CUTOFFS,
            deadlines=[
                DeadlineData("Stichtag 1", local("03-01"), "UTC"),
                DeadlineData("Stichtag 2", local("06-01"), "UTC"),
                DeadlineData("Stichtag 3", local("09-01"), "UTC"),
            ],
        ),
    )
    assert [d.label for d in call.deadlines.order_by("position")] == [
        "Stichtag 1",
        "Stichtag 2",
        "Stichtag 3",
    ]
    assert call.final_deadline == datetime(NEXT_YEAR, 9, 1, 17, 0, tzinfo=UTC)


def test_a_call_cannot_open_after_its_first_deadline(
    personas: dict[str, Any], programme: Programme
) -> None:
    with pytest.raises(RegisterError) as error:
        call_create(
            actor=personas["department"],
            data=call_data(programme, opens_on=date(NEXT_YEAR, 4, 1)),
        )
    assert problems_of(error) == [("opens_on", None)]


def test_an_existing_past_stage_may_stay_but_no_deadline_may_move_into_the_past(
    personas: dict[str, Any], programme: Programme
) -> None:
    staff = personas["department"]
    call = call_create(
        actor=staff,
        data=call_data(
            programme,
            deadline_model=DeadlineModel.TWO_STAGE,
            deadlines=[
                DeadlineData("Skizze", local("03-01"), "Europe/Berlin"),
                DeadlineData("Vollantrag", local("09-01"), "Europe/Berlin"),
            ],
        ),
    )
    # the first stage has passed (simulated by moving it back in the database)
    stage_one = call.deadlines.get(position=1)
    stage_one.due_at = timezone.now() - timedelta(days=10)
    stage_one.save()
    past_local = stage_one.due_at.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    kept = [
        DeadlineData("Skizze", past_local, "Europe/Berlin"),
        DeadlineData("Vollantrag", local("10-01"), "Europe/Berlin"),
    ]
    updated = call_update(
        actor=staff,
        call_id=call.pk,
        data=call_data(programme, deadline_model=DeadlineModel.TWO_STAGE, deadlines=kept),
    )
    assert updated.final_deadline == datetime(
        NEXT_YEAR, 10, 1, 17, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )

    moved = [
        DeadlineData("Skizze", past_local - timedelta(days=3), "Europe/Berlin"),
        DeadlineData("Vollantrag", local("10-01"), "Europe/Berlin"),
    ]
    with pytest.raises(RegisterError) as error:
        call_update(
            actor=staff,
            call_id=call.pk,
            data=call_data(programme, deadline_model=DeadlineModel.TWO_STAGE, deadlines=moved),
        )
    assert problems_of(error) == [("due", 0)]


def test_final_deadline_follows_the_deadlines(
    personas: dict[str, Any], programme: Programme
) -> None:
    staff = personas["department"]
    call = call_create(actor=staff, data=call_data(programme))
    call_update(
        actor=staff,
        call_id=call.pk,
        data=call_data(programme, deadlines=[DeadlineData("", local("05-20", 12), "UTC")]),
    )
    call.refresh_from_db()
    assert call.final_deadline == datetime(NEXT_YEAR, 5, 20, 12, 0, tzinfo=UTC)
    entry = AuditEntry.objects.get(action="funding.call.update")
    assert entry.after == {"deadlines": [f"{NEXT_YEAR}-05-20 12:00 UTC"]}


def test_an_open_call_whose_deadlines_all_passed_is_saved_with_a_warning(
    funding: dict[str, Any],
) -> None:
    call = funding["call"]
    assert call_warnings(call=call) == []
    call.final_deadline = timezone.now() - timedelta(hours=1)
    assert "alle Fristen sind vorbei" in call_warnings(call=call)[0]
    call.status = CallStatus.CLOSED
    assert call_warnings(call=call) == []
