"""Edge cases found on reading the funding register again: a duty nobody could be reminded of,
a reminder queued before the responsible person changed, own shares of ideas and no-go
applications in the treasury's plan, deadlines far in the past or future, odd digits in
parameters and CSV cells, and requested funding plus own share above the total cost."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rathaus.accounts.constants import MembershipRole, Role
from rathaus.accounts.tests.factories import OfficeFactory, UserFactory, member, with_role
from rathaus.core.outbox import process_batch
from rathaus.funding.constants import DutyKind, GoDecision
from rathaus.funding.models import BudgetLine, Duty
from rathaus.funding.selectors.applications import application_warnings
from rathaus.funding.selectors.budgets import own_shares_by_year
from rathaus.funding.services.budgets import (
    BudgetError,
    DutyData,
    duty_create,
    duty_reminders_queue,
    duty_update,
)
from rathaus.funding.services.csv_io import register_import
from rathaus.funding.services.programmes import DeadlineTimeError, deadline_instant

pytestmark = pytest.mark.django_db


def deliver() -> None:
    while process_batch(worker_id="test", limit=50):
        pass


def hand_over(funding: dict[str, Any], duty: Duty, person_id: int) -> None:
    """Staff make someone else responsible for a duty (due date and kind unchanged)."""
    duty_update(
        actor=funding["staff"],
        duty_id=duty.pk,
        application_id=funding["application"].pk,
        data=DutyData(kind=duty.kind, due_on=duty.due_on, responsible_id=person_id),
    )


def test_a_duty_without_a_department_person_to_remind_is_refused(
    funding: dict[str, Any],
) -> None:
    application = funding["application"]
    application.responsible = member(
        UserFactory(email="amt@example.org"), OfficeFactory(), MembershipRole.CASEWORKER
    )
    application.save()
    with pytest.raises(BudgetError, match="Bitte wählen Sie, wer verantwortlich ist"):
        duty_create(
            actor=funding["staff"],
            application_id=application.pk,
            data=DutyData(kind=DutyKind.FINAL_REPORT, due_on=timezone.localdate()),
        )
    assert not Duty.objects.exists()


def test_a_duty_whose_person_left_the_department_waits_for_a_new_person(
    funding: dict[str, Any],
) -> None:
    leaver = with_role(UserFactory(email="leaver@example.org"), Role.DEPARTMENT_STAFF)
    duty = duty_create(
        actor=funding["staff"],
        application_id=funding["application"].pk,
        data=DutyData(
            kind=DutyKind.INTERIM_REPORT, due_on=timezone.localdate(), responsible_id=leaver.pk
        ),
    )
    leaver.is_active = False
    leaver.save()
    assert duty_reminders_queue() == 0
    duty.refresh_from_db()
    assert duty.reminded_at is None  # not marked: nobody was told

    hand_over(funding, duty, funding["staff"].pk)
    assert duty_reminders_queue() == 1
    deliver()
    assert [m.to for m in mail.outbox] == [[funding["staff"].email]]


def test_a_reminder_queued_before_the_person_changed_goes_to_nobody_twice(
    funding: dict[str, Any],
) -> None:
    other = with_role(UserFactory(email="other@example.org"), Role.DEPARTMENT_STAFF)
    duty = duty_create(
        actor=funding["staff"],
        application_id=funding["application"].pk,
        data=DutyData(kind=DutyKind.AUDIT, due_on=timezone.localdate()),
    )
    assert duty_reminders_queue() == 1  # queued for the first person, not yet sent
    hand_over(funding, duty, other.pk)
    assert duty_reminders_queue() == 1  # the new person's own reminder, the same day
    deliver()
    assert [m.to for m in mail.outbox] == [[other.email]]


def test_the_treasury_plan_leaves_out_ideas_and_no_go_applications(
    funding: dict[str, Any],
) -> None:
    application = funding["application"]  # an idea
    year = timezone.localdate().year
    BudgetLine.objects.create(application=application, year=year, own_share=Decimal("1000"))
    assert own_shares_by_year(user=funding["staff"]).years == []

    application.status = "preparation"
    application.save()
    years = own_shares_by_year(user=funding["staff"]).years
    assert [(y.year, y.prospective) for y in years] == [(year, Decimal("1000"))]

    application.decision = GoDecision.NO_GO
    application.save()
    assert own_shares_by_year(user=funding["staff"]).years == []


@pytest.mark.parametrize("year", [1, 1999, 2101, 9999])
def test_a_deadline_far_outside_the_centuries_we_plan_in_is_refused(year: int) -> None:
    with pytest.raises(DeadlineTimeError, match="2000 und 2100") as refused:
        local = datetime(year, 12, 31, 23, 30)  # noqa: DTZ001 - a wall-clock time in its zone
        deadline_instant(local, "America/New_York")
    assert refused.value.field == "due"


def test_odd_digits_in_the_call_parameter_do_not_break_the_new_application_page(
    funding: dict[str, Any],
) -> None:
    client = Client()
    client.force_login(funding["staff"])
    url = reverse("funding:application_create")
    for value in ("²", "9" * 5000, str(funding["call"].pk)):
        assert client.get(url, {"aufruf": value}).status_code == 200


def test_odd_digits_in_a_csv_number_are_a_row_error_not_a_crash(
    funding: dict[str, Any],
) -> None:
    calls = (
        "identifier;programme_code;title;status;deadline_model;deadlines;expected_grants\r\n"
        "X-1;DIGITAL;Neu;open;single;2099-01-15 17:00 Europe/Brussels;²\r\n"
    ).encode()
    result = register_import(actor=funding["staff"], calls=calls)
    assert not result.imported
    assert [(error.line, error.column) for error in result.errors] == [(2, "expected_grants")]


def test_requested_funding_and_own_share_above_the_total_is_a_warning(
    funding: dict[str, Any],
) -> None:
    application = funding["application"]
    application.total_cost = Decimal("1000000")
    application.requested_funding = Decimal("500000")
    application.own_share = Decimal("600000")
    application.save()
    assert any("mehr als die Gesamtkosten" in w for w in application_warnings(application))
    application.own_share = Decimal("500000")
    application.save()
    assert not any("mehr als die Gesamtkosten" in w for w in application_warnings(application))


def test_the_duty_queue_needs_nothing_for_a_day_without_duties() -> None:
    assert duty_reminders_queue(today=timezone.localdate() + timedelta(days=1)) == 0
