"""Stale reminders: a measure nobody updated or confirmed for the configured number of days
brings its responsible person one e-mail per stale spell (through the outbox, in their
language, linking to the measure's edit page); nothing goes out when the entry was updated,
confirmed or handed over meanwhile, or for finished measures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from rathaus.accounts.tests.factories import UserFactory, member
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import PERIODIC, process_batch
from rathaus.strategy import reminders_mail
from rathaus.strategy.constants import MeasureStatus
from rathaus.strategy.models import Measure
from rathaus.strategy.services.measures import measure_confirm
from rathaus.strategy.services.reminders import REMINDER_TOPIC, stale_reminders_queue

pytestmark = pytest.mark.django_db


def deliver() -> None:
    while process_batch(worker_id="test", limit=50):
        pass


def reviewed(measure: Measure, *, days_ago: int) -> None:
    """The entry was last updated or confirmed so many days ago."""
    Measure.objects.filter(pk=measure.pk).update(
        reviewed_at=timezone.now() - timedelta(days=days_ago)
    )


@pytest.fixture
def stale_days(settings: Any) -> int:
    settings.STRATEGY_STALE_DAYS = 30
    settings.SITE_URL = "https://rathaus.example"
    return 30


@pytest.fixture
def fresh_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """Every measure of the plan reviewed yesterday (nothing stale)."""
    Measure.objects.update(reviewed_at=timezone.now() - timedelta(days=1))
    return plan


def test_stale_measure_reminds_its_responsible_person_with_a_link(
    fresh_plan: dict[str, Any], stale_days: int
) -> None:
    ld1 = fresh_plan["ld1"]
    reviewed(ld1, days_ago=31)

    assert stale_reminders_queue() == 1
    deliver()

    assert [m.to for m in mail.outbox] == [["cw1@example.org"]]
    message = mail.outbox[0]
    assert "LD-1" in message.subject
    assert "75 kommunale Verwaltungsleistungen online" in message.body
    assert "Guten Tag" in message.body
    link = "https://rathaus.example" + reverse("strategy:measure_edit", args=[ld1.pk])
    assert link in message.body
    ld1.refresh_from_db()
    assert ld1.reminded_at is not None
    entry = AuditEntry.objects.get(action="strategy.measure.remind")
    assert entry.object_id == str(ld1.pk)


def test_fresh_measure_is_not_reminded(fresh_plan: dict[str, Any], stale_days: int) -> None:
    reviewed(fresh_plan["ld1"], days_ago=29)

    assert stale_reminders_queue() == 0
    deliver()

    assert mail.outbox == []
    fresh_plan["ld1"].refresh_from_db()
    assert fresh_plan["ld1"].reminded_at is None


def test_the_stale_days_come_from_the_settings(fresh_plan: dict[str, Any], settings: Any) -> None:
    reviewed(fresh_plan["ld1"], days_ago=40)
    settings.STRATEGY_STALE_DAYS = 90
    assert stale_reminders_queue() == 0
    settings.STRATEGY_STALE_DAYS = 39
    assert stale_reminders_queue() == 1


def test_never_reviewed_measure_is_stale_from_its_creation(
    fresh_plan: dict[str, Any], stale_days: int
) -> None:
    ld1 = fresh_plan["ld1"]
    Measure.objects.filter(pk=ld1.pk).update(
        reviewed_at=None, created_at=timezone.now() - timedelta(days=31)
    )

    assert stale_reminders_queue() == 1
    deliver()

    assert len(mail.outbox) == 1
    assert "seit ihrer Anlage" in mail.outbox[0].body


@pytest.mark.parametrize("status", [MeasureStatus.DONE, MeasureStatus.STOPPED])
def test_finished_measure_is_not_reminded(
    fresh_plan: dict[str, Any], stale_days: int, status: str
) -> None:
    ld1 = fresh_plan["ld1"]
    reviewed(ld1, days_ago=200)
    Measure.objects.filter(pk=ld1.pk).update(status=status)

    assert stale_reminders_queue() == 0
    deliver()

    assert mail.outbox == []


def test_measure_without_reachable_person_is_not_reminded_until_someone_is_responsible(
    fresh_plan: dict[str, Any], stale_days: int, personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    ld3 = fresh_plan["ld3"]  # nobody responsible
    reviewed(ld3, days_ago=31)
    assert stale_reminders_queue() == 0
    ld3.refresh_from_db()
    assert ld3.reminded_at is None

    no_mail = member(UserFactory(email=""), offices["ordnungsamt"])
    Measure.objects.filter(pk=ld3.pk).update(responsible=no_mail)
    assert stale_reminders_queue() == 0

    Measure.objects.filter(pk=ld3.pk).update(responsible=personas["caseworker"])
    assert stale_reminders_queue() == 1


def test_reminded_once_per_stale_spell(
    fresh_plan: dict[str, Any], stale_days: int, personas: dict[str, Any]
) -> None:
    ld1 = fresh_plan["ld1"]
    reviewed(ld1, days_ago=31)
    assert stale_reminders_queue() == 1
    deliver()

    # the next day (and a second worker): nothing again
    assert stale_reminders_queue() == 0
    assert stale_reminders_queue(now=timezone.now() + timedelta(days=1)) == 0
    deliver()
    assert len(mail.outbox) == 1

    # the person confirms "still current"; 31 days later it is stale again: a new reminder
    measure_confirm(actor=personas["caseworker"], measure_id=ld1.pk)
    assert stale_reminders_queue() == 0
    later = timezone.now() + timedelta(days=31)
    assert stale_reminders_queue(now=later) == 1
    assert OutboxMessage.objects.filter(topic=REMINDER_TOPIC).count() == 2
    deliver()
    assert len(mail.outbox) == 2


def test_no_mail_when_the_measure_is_confirmed_before_sending(
    fresh_plan: dict[str, Any], stale_days: int, personas: dict[str, Any]
) -> None:
    ld1 = fresh_plan["ld1"]
    reviewed(ld1, days_ago=31)
    assert stale_reminders_queue() == 1

    # "still current" before the worker ran
    measure_confirm(actor=personas["caseworker"], measure_id=ld1.pk)
    deliver()

    assert mail.outbox == []


def test_no_mail_when_the_measure_is_done_before_sending(
    fresh_plan: dict[str, Any], stale_days: int
) -> None:
    ld1 = fresh_plan["ld1"]
    reviewed(ld1, days_ago=31)
    assert stale_reminders_queue() == 1

    Measure.objects.filter(pk=ld1.pk).update(status=MeasureStatus.DONE)
    deliver()

    assert mail.outbox == []


def test_no_mail_when_someone_else_became_responsible_before_sending(
    fresh_plan: dict[str, Any], stale_days: int, personas: dict[str, Any]
) -> None:
    ld1 = fresh_plan["ld1"]
    reviewed(ld1, days_ago=31)
    assert stale_reminders_queue() == 1

    Measure.objects.filter(pk=ld1.pk).update(responsible=personas["lead"])
    deliver()

    assert mail.outbox == []


def test_no_mail_when_the_person_can_no_longer_edit_the_measure(
    fresh_plan: dict[str, Any], stale_days: int, personas: dict[str, Any]
) -> None:
    ld1 = fresh_plan["ld1"]
    reviewed(ld1, days_ago=31)
    assert stale_reminders_queue() == 1

    caseworker = personas["caseworker"]
    caseworker.is_active = False
    caseworker.save(update_fields=["is_active"])
    deliver()

    assert mail.outbox == []


def test_reminder_is_in_the_responsible_persons_language(
    fresh_plan: dict[str, Any], stale_days: int, offices: dict[str, Any]
) -> None:
    english = member(
        UserFactory(email="en@example.org", preferred_language="en"),
        offices["ordnungsamt"],
    )
    ld1 = fresh_plan["ld1"]
    Measure.objects.filter(pk=ld1.pk).update(responsible=english)
    reviewed(ld1, days_ago=31)
    day = timezone.localtime(timezone.now() - timedelta(days=31)).date()

    stale_reminders_queue()
    deliver()

    assert [m.to for m in mail.outbox] == [["en@example.org"]]
    body = mail.outbox[0].body
    assert day.strftime("%m/%d/%Y") in body  # the English way
    assert day.strftime("%d.%m.%Y") not in body


def test_the_daily_job_is_registered_and_queues_the_reminders(
    fresh_plan: dict[str, Any], stale_days: int
) -> None:
    assert (24 * 3600, reminders_mail.queue_stale_reminders) in PERIODIC
    reviewed(fresh_plan["ld1"], days_ago=31)

    reminders_mail.queue_stale_reminders()
    deliver()

    assert [m.to for m in mail.outbox] == [["cw1@example.org"]]
