"""Writes of an application's money and obligations: its budget lines (one row per budget
year: planned, spent, funded, the city's own share) and its reporting duties (reports, proof
of use, audits with their due dates), and the daily job that queues the duties' reminders.

Every change is department staff's, checked here, written in one transaction with its audit
entry (before and after). A duty's reminder goes out once (``Duty.reminded_at``); changing
the due date, the days before or the responsible person clears it, so the new date (or the
new person) gets a reminder of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.money import MAX_AMOUNT
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.funding.constants import DutyKind
from rathaus.funding.models import Application, BudgetLine, Duty, default_reminder_days
from rathaus.funding.services import audit_value

YEAR_MIN, YEAR_MAX = 2000, 2100
# max_digits=14, decimal_places=2 on every amount
REMIND_DAYS_MAX = 365
REMINDER_TOPIC = "funding.duty_reminder"


class BudgetError(Exception):
    """A change the rules do not allow; ``message`` is shown to staff (German, English
    through gettext), ``field`` names the form field it belongs to (or None)."""

    def __init__(self, message: Any, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


def _state(instance: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: audit_value(getattr(instance, name)) for name in names}


def _locked_application(application_id: int) -> Application:
    """The application, locked for the rest of the transaction: two people saving the same
    year at once are served one after the other (the second updates the first's row)."""
    application = Application.objects.select_for_update().filter(pk=application_id).first()
    if application is None:
        raise BudgetError(_("Diesen Antrag gibt es nicht."), code="unknown")
    return application


# ---- budget lines --------------------------------------------------------------------------

LINE_FIELDS = ("year", "planned", "spent", "funded", "own_share", "note")
AMOUNT_FIELDS = ("planned", "spent", "funded", "own_share")


@dataclass(frozen=True)
class BudgetLineData:
    year: int
    planned: Decimal
    spent: Decimal = Decimal(0)
    funded: Decimal = Decimal(0)
    own_share: Decimal = Decimal(0)
    note: str = ""


def _check_line(data: BudgetLineData) -> None:
    if not YEAR_MIN <= data.year <= YEAR_MAX:
        raise BudgetError(
            _("Bitte ein Haushaltsjahr zwischen 2000 und 2100 angeben."), field="year"
        )
    for name in AMOUNT_FIELDS:
        value: Decimal = getattr(data, name)
        if value < 0:
            raise BudgetError(_("Bitte keinen negativen Betrag angeben."), field=name)
        if value > MAX_AMOUNT:
            raise BudgetError(_("Der Betrag ist zu groß."), field=name)


def budget_line_set(*, actor: User, application_id: int, data: BudgetLineData) -> BudgetLine:
    """Create the row of ``data.year`` for the application, or change it if the year has
    one already (one row per year)."""
    department_staff_required(user=actor)
    _check_line(data)
    with transaction.atomic():
        application = _locked_application(application_id)
        line = BudgetLine.objects.filter(application=application, year=data.year).first()
        before = _state(line, LINE_FIELDS) if line is not None else None
        if line is None:
            line = BudgetLine(application=application, year=data.year)
        line.planned = data.planned
        line.spent = data.spent
        line.funded = data.funded
        line.own_share = data.own_share
        line.note = data.note.strip()[:300]
        after = _state(line, LINE_FIELDS)
        if before == after:
            return line
        line.save()
        audit_entry_create(
            actor=actor,
            action="funding.budget_line.create" if before is None else "funding.budget_line.update",
            object_type="funding.budget_line",
            object_id=line.pk,
            before={"application": application.pk, **before} if before is not None else None,
            after={"application": application.pk, **after},
        )
    return line


def budget_line_delete(*, actor: User, application_id: int, budget_line_id: int) -> None:
    """Remove a year's row of the application."""
    department_staff_required(user=actor)
    with transaction.atomic():
        application = _locked_application(application_id)
        line = BudgetLine.objects.filter(pk=budget_line_id, application=application).first()
        if line is None:
            raise BudgetError(_("Diese Zeile gibt es nicht (mehr)."), code="unknown")
        before = {"application": application.pk, **_state(line, LINE_FIELDS)}
        line_pk = line.pk
        line.delete()
        audit_entry_create(
            actor=actor,
            action="funding.budget_line.delete",
            object_type="funding.budget_line",
            object_id=line_pk,
            before=before,
        )


# ---- duties --------------------------------------------------------------------------------

DUTY_FIELDS = (
    "kind",
    "title",
    "due_on",
    "responsible_id",
    "remind_days_before",
    "done_on",
    "note",
)
# a change of one of these makes the reminder due again
REMINDER_FIELDS = ("due_on", "remind_days_before", "responsible_id")


@dataclass(frozen=True)
class DutyData:
    kind: str
    due_on: date
    title: str = ""
    # None: the application's responsible person
    responsible_id: int | None = None
    # None: the default (settings.FUNDING_REMINDER_DAYS), also when a duty is changed
    remind_days_before: int | None = None
    note: str = ""


def _responsible(responsible_id: int | None, application: Application) -> int | None:
    """The person a duty reminds: the one chosen, or the application's responsible person.
    Either must be an active account of the department (the reminder links to a staff page):
    a duty nobody would be reminded of is refused, not saved silently."""
    chosen = responsible_id is not None
    if not chosen:
        responsible_id = application.responsible_id
    user = (
        User.objects.filter(pk=responsible_id, is_active=True).first()
        if responsible_id is not None
        else None
    )
    if user is None or not user_is_department_staff(user=user):
        if not chosen:
            raise BudgetError(
                _(
                    "Bitte wählen Sie, wer verantwortlich ist: Der Antrag hat keine "
                    "verantwortliche Person aus dem Referat, die erinnert werden könnte."
                ),
                field="responsible",
            )
        raise BudgetError(
            _("Verantwortlich kann nur ein aktives Konto des Referats sein."),
            field="responsible",
        )
    return user.pk


def _check_duty(data: DutyData) -> None:
    if data.kind not in DutyKind.values:
        raise BudgetError(_("Bitte eine Art der Pflicht wählen."), field="kind")
    if data.remind_days_before is not None and not (
        0 <= data.remind_days_before <= REMIND_DAYS_MAX
    ):
        raise BudgetError(
            _("Bitte eine Zahl von 0 bis 365 Tagen angeben."), field="remind_days_before"
        )


def _apply(duty: Duty, data: DutyData, responsible_id: int | None) -> None:
    duty.kind = data.kind
    duty.title = data.title.strip()[:250]
    duty.due_on = data.due_on
    duty.responsible_id = responsible_id
    duty.remind_days_before = (
        data.remind_days_before if data.remind_days_before is not None else default_reminder_days()
    )
    duty.note = data.note.strip()


def duty_create(*, actor: User, application_id: int, data: DutyData) -> Duty:
    """A new duty of the application; without a responsible person the application's."""
    department_staff_required(user=actor)
    _check_duty(data)
    with transaction.atomic():
        application = _locked_application(application_id)
        duty = Duty(application=application)
        _apply(duty, data, _responsible(data.responsible_id, application))
        duty.save()
        audit_entry_create(
            actor=actor,
            action="funding.duty.create",
            object_type="funding.duty",
            object_id=duty.pk,
            after={"application": application.pk, **_state(duty, DUTY_FIELDS)},
        )
    return duty


def _locked_duty(application: Application, duty_id: int) -> Duty:
    duty = Duty.objects.select_for_update().filter(pk=duty_id, application=application).first()
    if duty is None:
        raise BudgetError(_("Diese Pflicht gibt es nicht (mehr)."), code="unknown")
    return duty


def _save_audited(*, actor: User, duty: Duty, before: dict[str, Any], action: str) -> Duty:
    after = _state(duty, DUTY_FIELDS)
    if before == after:
        return duty
    if any(before[name] != after[name] for name in REMINDER_FIELDS):
        duty.reminded_at = None
    duty.save()
    audit_entry_create(
        actor=actor,
        action=action,
        object_type="funding.duty",
        object_id=duty.pk,
        before=before,
        after=after,
    )
    return duty


def duty_update(*, actor: User, application_id: int, duty_id: int, data: DutyData) -> Duty:
    """Change a duty. A new due date, a new number of days before or a new responsible
    person makes the reminder due again."""
    department_staff_required(user=actor)
    _check_duty(data)
    with transaction.atomic():
        application = _locked_application(application_id)
        duty = _locked_duty(application, duty_id)
        before = _state(duty, DUTY_FIELDS)
        _apply(duty, data, _responsible(data.responsible_id, application))
        return _save_audited(actor=actor, duty=duty, before=before, action="funding.duty.update")


def duty_done(
    *,
    actor: User,
    application_id: int,
    duty_id: int,
    done_on: date | None = None,
    today: date | None = None,
) -> Duty:
    """Mark a duty as done (on ``done_on``, today if not given; not in the future)."""
    department_staff_required(user=actor)
    today = today or timezone.localdate()
    done_on = done_on or today
    if done_on > today:
        raise BudgetError(_("Das Datum liegt in der Zukunft."), field="done_on")
    with transaction.atomic():
        application = _locked_application(application_id)
        duty = _locked_duty(application, duty_id)
        before = _state(duty, DUTY_FIELDS)
        duty.done_on = done_on
        return _save_audited(actor=actor, duty=duty, before=before, action="funding.duty.done")


def duty_reopen(*, actor: User, application_id: int, duty_id: int) -> Duty:
    """Undo "done" (marked by mistake, or the funder asks for more)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        application = _locked_application(application_id)
        duty = _locked_duty(application, duty_id)
        before = _state(duty, DUTY_FIELDS)
        duty.done_on = None
        return _save_audited(actor=actor, duty=duty, before=before, action="funding.duty.reopen")


# ---- reminders -----------------------------------------------------------------------------


def _due_for_reminder(today: date) -> Q:
    """Open, not reminded duties whose reminder day (due date minus its days before) has
    come: one condition per distinct number of days (there are few), which reads the same
    on every database, with no date arithmetic in SQL."""
    waiting = Duty.objects.filter(done_on__isnull=True, reminded_at__isnull=True)
    days = sorted(set(waiting.values_list("remind_days_before", flat=True)))
    condition = Q(pk__in=[])
    for day_count in days:
        condition |= Q(remind_days_before=day_count, due_on__lte=today + timedelta(days=day_count))
    return Q(done_on__isnull=True, reminded_at__isnull=True) & condition


def duty_reminders_queue(*, today: date | None = None) -> int:
    """Queue one reminder e-mail per open duty whose reminder day has come (overdue ones
    too) and that has not been reminded yet, and mark it reminded in the same transaction:
    running it twice sends nothing twice. Returns how many were queued."""
    today = today or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        found = list(
            Duty.objects.select_for_update()
            .filter(_due_for_reminder(today))
            .order_by("pk")
            .values_list("pk", "due_on", "remind_days_before", "responsible_id")
        )
        # a duty whose person cannot be reminded (none, inactive, no longer department staff)
        # stays unreminded, so that it goes out once someone able to act is responsible
        people = {
            user.pk: user
            for user in User.objects.filter(
                pk__in={person for *_rest, person in found if person}, is_active=True
            ).exclude(email="")
        }
        duties = [
            row
            for row in found
            if row[3] in people and user_is_department_staff(user=people[row[3]])
        ]
        if not duties:
            return 0
        for duty_id, due_on, days, person_id in duties:
            outbox_message_create(
                topic=REMINDER_TOPIC,
                payload={"duty": duty_id, "due_on": due_on.isoformat(), "person": person_id},
                idempotency_key=(
                    f"{REMINDER_TOPIC}:{duty_id}:{due_on.isoformat()}:{days}:{person_id}:"
                    f"{today.isoformat()}"
                ),
            )
            audit_entry_create(
                actor=None,
                action="funding.duty.remind",
                object_type="funding.duty",
                object_id=duty_id,
                before={"reminded_at": None},
                after={"reminded_at": now.isoformat(), "due_on": due_on.isoformat()},
            )
        ids = [duty_id for duty_id, *_rest in duties]
        Duty.objects.filter(pk__in=ids).update(reminded_at=now)
    return len(duties)
