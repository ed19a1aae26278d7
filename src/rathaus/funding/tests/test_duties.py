"""Reporting duties of applications: kept on the application's budget page (add, edit, mark
done), listed across applications by due date (overdue ones said in words, "mine" only), and
the reminder e-mail that goes out once, to the right person, in their language, on the right
day, and again when the due date changes."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rathaus.accounts.constants import Role
from rathaus.accounts.tests.factories import UserFactory, with_role
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import PERIODIC, process_batch
from rathaus.funding import duties_mail
from rathaus.funding.constants import DutyKind
from rathaus.funding.models import Application, Duty
from rathaus.funding.services.budgets import (
    DutyData,
    duty_create,
    duty_done,
    duty_reminders_queue,
    duty_update,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()  # the handler words "overdue" against the real day


def budget_url(application: Application) -> str:
    return reverse("funding:application_budget", args=[application.pk])


def new_duty(funding: dict[str, Any], *, due_on: date, **fields: Any) -> Duty:
    data = DutyData(kind=fields.pop("kind", DutyKind.INTERIM_REPORT), due_on=due_on, **fields)
    return duty_create(actor=funding["staff"], application_id=funding["application"].pk, data=data)


def deliver() -> None:
    while process_batch(worker_id="test", limit=50):
        pass


def field_error(html: str, name: str) -> str:
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
    assert tag, f"no field {name}"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described and f"id_{name}_error" in described.group(1).split(), tag.group(0)
    error = re.search(rf'<p class="kern-error" id="id_{name}_error">(.*?)</p>', html, re.S)
    assert error
    return re.sub(r"<[^>]+>", "", error.group(1)).strip()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ---- the services --------------------------------------------------------------------------


def test_new_duty_defaults_to_the_applications_responsible_and_the_configured_days(
    funding: dict[str, Any], settings: Any
) -> None:
    settings.FUNDING_REMINDER_DAYS = 21
    duty = new_duty(funding, due_on=TODAY)

    assert duty.responsible_id == funding["application"].responsible_id == funding["staff"].pk
    assert duty.remind_days_before == 21
    entry = AuditEntry.objects.get(action="funding.duty.create")
    assert entry.after is not None and entry.after["due_on"] == TODAY.isoformat()


def test_a_citizen_cannot_be_made_responsible(
    funding: dict[str, Any], personas: dict[str, Any]
) -> None:
    from rathaus.funding.services.budgets import BudgetError

    with pytest.raises(BudgetError) as error:
        new_duty(funding, due_on=TODAY, responsible_id=personas["citizen"].pk)
    assert error.value.field == "responsible"
    assert not Duty.objects.exists()


# ---- the budget page's duty forms ----------------------------------------------------------


def duty_form(**overrides: str) -> dict[str, str]:
    values = {
        "aktion": "pflicht",
        "pflicht-kind": "final_report",
        "pflicht-title": "Schlussbericht an die EU",
        "pflicht-due_on": "30.06.2028",
        "pflicht-responsible": "",
        "pflicht-remind_days_before": "",
        "pflicht-note": "",
    }
    values.update({f"pflicht-{key}": value for key, value in overrides.items()})
    return values


def test_staff_add_a_duty_on_the_budget_page(staff_client: Client, funding: dict[str, Any]) -> None:
    response = staff_client.post(budget_url(funding["application"]), duty_form(), follow=True)

    duty = Duty.objects.get()
    assert (duty.kind, duty.due_on, duty.responsible_id) == (
        DutyKind.FINAL_REPORT,
        date(2028, 6, 30),
        funding["staff"].pk,
    )
    html = response.content.decode()
    assert "Die Pflicht ist angelegt." in html
    assert "Schlussbericht: Schlussbericht an die EU" in text_of(html)


def test_wrong_due_date_is_refused_and_the_input_kept(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    response = staff_client.post(
        budget_url(funding["application"]),
        duty_form(due_on="31.02.2028", remind_days_before="400"),
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert field_error(html, "pflicht-due_on") == (
        "Bitte ein gültiges Datum angeben, z. B. 31.03.2027."
    )
    assert field_error(html, "pflicht-remind_days_before") == (
        "Bitte eine Zahl von 0 bis 365 Tagen angeben."
    )
    assert 'value="Schlussbericht an die EU"' in html
    assert not Duty.objects.exists()


def test_staff_edit_a_duty_and_mark_it_done_and_open_again(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    duty = new_duty(funding, due_on=TODAY + timedelta(days=30), title="Bericht 1")
    url = budget_url(funding["application"])

    edit = staff_client.get(f"{url}?pflicht={duty.pk}").content.decode()
    assert "Pflicht „Bericht 1“ bearbeiten" in edit
    response = staff_client.post(
        f"{url}?pflicht={duty.pk}", duty_form(kind="interim_report", title="Bericht 1a")
    )
    assert response.status_code == 302
    duty.refresh_from_db()
    assert (duty.title, duty.due_on) == ("Bericht 1a", date(2028, 6, 30))
    assert Duty.objects.count() == 1

    done_on = (timezone.localdate() - timedelta(days=1)).strftime("%d.%m.%Y")
    response = staff_client.post(
        url,
        {"aktion": "erledigt", "pflicht_id": str(duty.pk), f"erledigt-{duty.pk}-done_on": done_on},
        follow=True,
    )
    duty.refresh_from_db()
    assert duty.done_on == timezone.localdate() - timedelta(days=1)
    html = response.content.decode()
    assert "Die Pflicht ist als erledigt vermerkt." in html
    assert "Keine offenen Pflichten." in html

    staff_client.post(url, {"aktion": "wieder-offen", "pflicht_id": str(duty.pk)})
    duty.refresh_from_db()
    assert duty.done_on is None
    actions = list(
        AuditEntry.objects.filter(object_type="funding.duty")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "funding.duty.create",
        "funding.duty.update",
        "funding.duty.done",
        "funding.duty.reopen",
    ]


def test_done_date_in_the_future_is_refused(staff_client: Client, funding: dict[str, Any]) -> None:
    duty = new_duty(funding, due_on=TODAY)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = staff_client.post(
        budget_url(funding["application"]),
        {"aktion": "erledigt", "pflicht_id": str(duty.pk), f"erledigt-{duty.pk}-done_on": tomorrow},
    )

    assert response.status_code == 422
    assert field_error(response.content.decode(), f"erledigt-{duty.pk}-done_on") == (
        "Das Datum liegt in der Zukunft."
    )
    duty.refresh_from_db()
    assert duty.done_on is None


def test_duty_of_another_application_cannot_be_edited_here(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    other = Application.objects.create(
        call=funding["call"], title="Anderer Antrag", responsible=funding["staff"]
    )
    duty = duty_create(
        actor=funding["staff"],
        application_id=other.pk,
        data=DutyData(kind=DutyKind.AUDIT, due_on=TODAY),
    )
    url = budget_url(funding["application"])
    assert staff_client.get(f"{url}?pflicht={duty.pk}").status_code == 404
    staff_client.post(url, {"aktion": "erledigt", "pflicht_id": str(duty.pk)})
    duty.refresh_from_db()
    assert duty.done_on is None


# ---- the list across applications ----------------------------------------------------------


def test_open_duties_are_listed_by_due_date_with_overdue_ones_said_in_words(
    staff_client: Client, funding: dict[str, Any], personas: dict[str, Any]
) -> None:
    today = timezone.localdate()
    colleague = with_role(UserFactory(email="kollegin@example.org"), Role.DEPARTMENT_STAFF)
    new_duty(funding, due_on=today + timedelta(days=10), title="Später")
    new_duty(
        funding, due_on=today - timedelta(days=3), title="Zu spät", responsible_id=colleague.pk
    )
    new_duty(funding, due_on=today, title="Heute")
    done = new_duty(funding, due_on=today - timedelta(days=30), title="Erledigt")
    duty_done(actor=funding["staff"], application_id=funding["application"].pk, duty_id=done.pk)

    html = staff_client.get(reverse("funding:duties")).content.decode()

    body = text_of(html)
    assert body.index("Zu spät") < body.index("Heute") < body.index("Später")
    assert "Überfällig seit 3 Tagen" in body
    assert "Heute fällig" in body
    assert "Fällig in 10 Tagen" in body
    listed = re.search(r'<table[^>]*id="duties".*?</table>', html, re.S)
    assert listed and "Erledigt" not in listed.group(0)

    mine = text_of(staff_client.get(reverse("funding:duties") + "?meine=1").content.decode())
    assert "Später" in mine and "Heute" in mine
    assert "Zu spät" not in mine


# ---- reminders -----------------------------------------------------------------------------


def test_reminder_goes_out_on_its_day_once_to_the_responsible_person(
    funding: dict[str, Any], settings: Any
) -> None:
    settings.SITE_URL = "https://rathaus.example"
    duty = new_duty(funding, due_on=TODAY + timedelta(days=14), title="Zwischenbericht 1")
    assert duty.remind_days_before == 14

    # one day too early: nothing
    assert duty_reminders_queue(today=TODAY - timedelta(days=1)) == 0
    deliver()
    assert mail.outbox == []

    assert duty_reminders_queue(today=TODAY) == 1
    deliver()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dep@example.org"]
    due = (TODAY + timedelta(days=14)).strftime("%d.%m.%Y")
    assert "Zwischenbericht 1" in message.subject
    assert due in message.subject
    assert "Guten Tag" in message.body
    assert "TWIN-WEST" in message.body and "DIGITAL-2026-AI-01" in message.body
    assert f"Fällig am: {due}" in message.body
    link = f"https://rathaus.example/foerderung/verwaltung/antraege/{funding['application'].pk}/haushalt/"
    assert link in message.body
    duty.refresh_from_db()
    assert duty.reminded_at is not None

    # the next days (and a second worker on the same day): nothing again
    assert duty_reminders_queue(today=TODAY) == 0
    assert duty_reminders_queue(today=TODAY + timedelta(days=1)) == 0
    deliver()
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.filter(topic="funding.duty_reminder").count() == 1


def test_reminder_is_in_the_responsible_persons_language(funding: dict[str, Any]) -> None:
    english = with_role(
        UserFactory(email="en@example.org", preferred_language="en"), Role.DEPARTMENT_STAFF
    )
    new_duty(funding, due_on=TODAY + timedelta(days=5), responsible_id=english.pk)

    duty_reminders_queue(today=TODAY)
    deliver()

    assert [m.to for m in mail.outbox] == [["en@example.org"]]
    body = mail.outbox[0].body
    assert "Dear" in body and "Guten Tag" not in body
    assert (TODAY + timedelta(days=5)).strftime("%m/%d/%Y") in body  # the English way


def test_overdue_duty_not_yet_reminded_is_reminded_but_a_done_one_is_not(
    funding: dict[str, Any],
) -> None:
    overdue = new_duty(funding, due_on=TODAY - timedelta(days=2), title="Vergessen")
    done = new_duty(funding, due_on=TODAY + timedelta(days=1), title="Schon erledigt")
    duty_done(
        actor=funding["staff"],
        application_id=funding["application"].pk,
        duty_id=done.pk,
        today=TODAY,
    )

    assert duty_reminders_queue(today=TODAY) == 1
    deliver()

    assert len(mail.outbox) == 1
    assert "Vergessen" in mail.outbox[0].subject
    assert "Überfällig" in mail.outbox[0].subject
    overdue.refresh_from_db()
    done.refresh_from_db()
    assert overdue.reminded_at is not None and done.reminded_at is None


def test_no_mail_when_the_duty_is_done_between_queueing_and_sending(
    funding: dict[str, Any],
) -> None:
    duty = new_duty(funding, due_on=TODAY)
    duty_reminders_queue(today=TODAY)
    duty_done(actor=funding["staff"], application_id=funding["application"].pk, duty_id=duty.pk)

    deliver()

    assert mail.outbox == []


def test_a_new_due_date_brings_a_new_reminder(funding: dict[str, Any]) -> None:
    duty = new_duty(funding, due_on=TODAY + timedelta(days=3))
    duty_reminders_queue(today=TODAY)
    deliver()
    assert len(mail.outbox) == 1

    # the funder grants two more months: no reminder until 14 days before the new date
    data = DutyData(kind=duty.kind, due_on=TODAY + timedelta(days=60))
    duty_update(
        actor=funding["staff"],
        application_id=funding["application"].pk,
        duty_id=duty.pk,
        data=data,
    )
    duty.refresh_from_db()
    assert duty.reminded_at is None
    assert duty_reminders_queue(today=TODAY + timedelta(days=1)) == 0
    assert duty_reminders_queue(today=TODAY + timedelta(days=46)) == 1
    deliver()
    assert len(mail.outbox) == 2
    assert (TODAY + timedelta(days=60)).strftime("%d.%m.%Y") in mail.outbox[1].body


def test_changing_the_days_before_brings_a_new_reminder_but_a_note_does_not(
    funding: dict[str, Any],
) -> None:
    duty = new_duty(funding, due_on=TODAY + timedelta(days=10))
    duty_reminders_queue(today=TODAY)
    application_id = funding["application"].pk

    duty_update(
        actor=funding["staff"],
        application_id=application_id,
        duty_id=duty.pk,
        data=DutyData(kind=duty.kind, due_on=duty.due_on, remind_days_before=14, note="Notiz"),
    )
    duty.refresh_from_db()
    assert duty.reminded_at is not None  # 14 is what it was: only the note changed

    duty_update(
        actor=funding["staff"],
        application_id=application_id,
        duty_id=duty.pk,
        data=DutyData(kind=duty.kind, due_on=duty.due_on, remind_days_before=30),
    )
    duty.refresh_from_db()
    assert duty.reminded_at is None
    assert duty_reminders_queue(today=TODAY) == 1


def test_the_daily_job_is_registered_and_queues_the_reminders(funding: dict[str, Any]) -> None:
    assert (24 * 3600, duties_mail.queue_duty_reminders) in PERIODIC
    new_duty(funding, due_on=timezone.localdate())

    duties_mail.queue_duty_reminders()
    deliver()

    assert [m.to for m in mail.outbox] == [["dep@example.org"]]


# ---- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["citizen", "organisation", "caseworker"])
def test_others_than_department_staff_get_403(
    persona: str, personas: dict[str, Any], funding: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(personas[persona])
    assert client.get(reverse("funding:duties")).status_code == 403
    response = client.post(budget_url(funding["application"]), duty_form())
    assert response.status_code == 403
    assert not Duty.objects.exists()
