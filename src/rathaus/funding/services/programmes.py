"""Writes of the funding register: programmes and their calls with the calls' deadlines, kept
by department staff (every change audited) and by the CSV import (services/csv_io.py).

The rules live here, once, for the forms and the import alike (``programme_problems``,
``call_problems``): each broken rule is a ``Problem`` at the field it belongs to, so a form
shows it there and the import names the column.

Deadlines are entered as the funder states them: a local date and time in the funder's time
zone ("15.03.2027, 17:00 Brussels time"). ``deadline_instant`` makes the instant of it with
zoneinfo; a time that does not exist in that zone (skipped by the change to summer time) or an
unknown zone is refused. Deadlines are kept to the minute. A call's deadlines must fit its
deadline model (one; two, stage 1 before stage 2; at least two ascending cut-offs), and
``Call.final_deadline`` is always the last of them.

A deadline in the past is refused unless the call is entered as closed (recording history):
for a new call every deadline counts, for an existing call only a deadline that is new or moved
(a two-stage call whose first stage has passed stays editable)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core.money import CENT, MAX_AMOUNT
from rathaus.core.services import audit_entry_create
from rathaus.core.themes import Theme
from rathaus.funding.constants import (
    ApplicantType,
    CallStatus,
    DeadlineModel,
    FundingType,
    Level,
    Region,
)
from rathaus.funding.models import Call, CallDeadline, Programme
from rathaus.funding.services import audit_value

# the zones offered in the form; any other IANA name may be typed
COMMON_ZONES = ("Europe/Berlin", "Europe/Brussels", "Europe/Luxembourg", "UTC")
MAX_EXPECTED_GRANTS = 1_000_000
_URL = URLValidator(schemes=["http", "https"])
_SPACE = re.compile(r"\s")

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``field`` is the name of the data's field (or ``None`` for the whole),
    ``index`` the position of the deadline in the list given (0-based) for a deadline's
    ``"due"``, ``"timezone"`` or ``"label"``."""

    field: str | None
    message: str
    index: int | None = None


class RegisterError(Exception):
    """The input breaks the register's rules; ``problems`` says which, each at its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


# ---- time zones and deadlines ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def zone_name(name: str) -> str | None:
    """The IANA name of a time zone as written ("europe/brussels" -> "Europe/Brussels"), or
    ``None`` if there is no such zone."""
    cleaned = (name or "").strip()
    if not cleaned:
        return None
    known = _zones_by_lower_name()
    if cleaned in known.values():
        return cleaned
    return known.get(cleaned.lower())


class DeadlineTimeError(ValueError):
    """A local time that cannot be a deadline in its zone; ``field`` is "timezone" or "due"."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def deadline_instant(local: datetime, zone: str) -> datetime:
    """The instant of a local date and time (naive, to the minute) in the zone ``zone``.
    Raises ``DeadlineTimeError`` for an unknown zone or a local time that does not exist
    there (the hour skipped when summer time begins)."""
    name = zone_name(zone)
    if name is None:
        raise DeadlineTimeError(
            _(
                "„%(zone)s“ ist keine bekannte Zeitzone. Bitte den IANA-Namen angeben, z. B. "
                "Europe/Brussels oder America/New_York."
            )
            % {"zone": zone.strip()},
            field="timezone",
        )
    try:
        info = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:  # listed but not loadable
        raise DeadlineTimeError(
            _("„%(zone)s“ ist keine bekannte Zeitzone.") % {"zone": name}, field="timezone"
        ) from error
    local = local.replace(second=0, microsecond=0, tzinfo=None)
    if not 2000 <= local.year <= 2100:
        raise DeadlineTimeError(
            _("Eine Frist muss zwischen den Jahren 2000 und 2100 liegen."), field="due"
        )
    aware = local.replace(tzinfo=info)
    if aware.astimezone(UTC).astimezone(info).replace(tzinfo=None) != local:
        raise DeadlineTimeError(
            _(
                "Diese Uhrzeit gibt es in der Zeitzone %(zone)s an diesem Tag nicht "
                "(Zeitumstellung)."
            )
            % {"zone": name},
            field="due",
        )
    return aware


def deadline_local(instant: datetime, zone: str) -> datetime:
    """The local date and time (naive, to the minute) of an instant in the zone ``zone``."""
    name = zone_name(zone) or "UTC"
    return instant.astimezone(ZoneInfo(name)).replace(tzinfo=None, second=0, microsecond=0)


def _minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


# ---- the data --------------------------------------------------------------------------------


@dataclass
class ProgrammeData:
    name: str
    code: str
    funder: str
    level: str
    funding_type: str = FundingType.GRANT
    description: str = ""
    themes_mask: int = 0
    applicant_types_mask: int = 0
    regions_mask: int = 0
    rate_max: Decimal | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    legal_basis: str = ""
    source_url: str = ""
    last_checked: date | None = None


PROGRAMME_FIELDS = tuple(f.name for f in fields(ProgrammeData))


@dataclass(frozen=True)
class DeadlineData:
    """A deadline as the funder states it: a label ("Stufe 1: Skizze"), the local date and
    time (naive) and the IANA time zone it is meant in."""

    label: str
    local: datetime
    timezone: str = "Europe/Berlin"


@dataclass
class CallData:
    programme_id: int
    identifier: str
    title: str
    status: str = CallStatus.FORTHCOMING
    opens_on: date | None = None
    deadline_model: str = DeadlineModel.SINGLE
    deadlines: list[DeadlineData] = field(default_factory=list)
    budget: Decimal | None = None
    expected_grants: int | None = None
    url: str = ""
    notes: str = ""


CALL_FIELDS = (
    "identifier",
    "title",
    "status",
    "opens_on",
    "deadline_model",
    "budget",
    "expected_grants",
    "url",
    "notes",
)


def _text(value: str | None) -> str:
    return (value or "").strip()


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def programme_data_normalised(data: ProgrammeData) -> ProgrammeData:
    """The data as it is stored: texts stripped, amounts and rate to the cent."""
    return replace(
        data,
        name=_text(data.name),
        code=_text(data.code),
        funder=_text(data.funder),
        description=_text(data.description),
        legal_basis=_text(data.legal_basis),
        source_url=_text(data.source_url),
        rate_max=_money(data.rate_max),
        amount_min=_money(data.amount_min),
        amount_max=_money(data.amount_max),
    )


def call_data_normalised(data: CallData) -> CallData:
    return replace(
        data,
        identifier=_text(data.identifier),
        title=_text(data.title),
        url=_text(data.url),
        notes=_text(data.notes),
        budget=_money(data.budget),
        deadlines=[
            DeadlineData(
                label=_text(d.label),
                local=d.local.replace(second=0, microsecond=0, tzinfo=None),
                timezone=zone_name(d.timezone) or _text(d.timezone),
            )
            for d in data.deadlines
        ],
    )


def programme_data_of(programme: Programme) -> ProgrammeData:
    """The data of a stored programme (for a form's initial values and the import)."""
    return ProgrammeData(**{name: getattr(programme, name) for name in PROGRAMME_FIELDS})


def call_data_of(call: Call, *, deadlines: Iterable[CallDeadline] | None = None) -> CallData:
    """The data of a stored call with its deadlines as local times in their zones."""
    rows = list(deadlines if deadlines is not None else call.deadlines.order_by("position"))
    return CallData(
        programme_id=call.programme_id,
        deadlines=[
            DeadlineData(
                label=row.label,
                local=deadline_local(row.due_at, row.timezone),
                timezone=row.timezone,
            )
            for row in rows
        ],
        **{name: getattr(call, name) for name in CALL_FIELDS},
    )


# ---- the rules -------------------------------------------------------------------------------


def _required(value: str, name: str, message: str, problems: list[Problem]) -> None:
    if not value:
        problems.append(Problem(name, message))


def _length(value: str, name: str, limit: int, problems: list[Problem]) -> None:
    if len(value) > limit:
        problems.append(
            Problem(
                name,
                _("Bitte höchstens %(limit)d Zeichen angeben (jetzt %(length)d).")
                % {"limit": limit, "length": len(value)},
            )
        )


def _url(value: str, name: str, problems: list[Problem]) -> None:
    if not value:
        return
    try:
        _URL(value)
    except ValidationError:
        problems.append(
            Problem(name, _("Bitte eine vollständige Adresse angeben, die mit https:// beginnt."))
        )
    else:
        _length(value, name, 500, problems)


def _amount(value: Decimal | None, name: str, problems: list[Problem]) -> None:
    if value is None:
        return
    if value < 0:
        problems.append(Problem(name, _("Der Betrag kann nicht negativ sein.")))
    elif value > MAX_AMOUNT:
        problems.append(Problem(name, _("Der Betrag ist zu groß.")))


def _mask(value: int, choices: type[Any], name: str, problems: list[Problem]) -> None:
    if not 0 <= value < (1 << len(choices.values)):
        problems.append(Problem(name, _("Bitte nur Einträge aus der Liste wählen.")))


def programme_problems(data: ProgrammeData, *, programme_id: int | None = None) -> list[Problem]:
    """What is wrong with a programme's (normalised) data; empty when it may be saved."""
    problems: list[Problem] = []
    _required(data.name, "name", _("Bitte den Namen des Programms angeben."), problems)
    _length(data.name, "name", 250, problems)
    _required(data.code, "code", _("Bitte ein Programmkürzel angeben, z. B. DIGITAL."), problems)
    _length(data.code, "code", 60, problems)
    if data.code and (_SPACE.search(data.code) or "|" in data.code):
        problems.append(
            Problem(
                "code",
                _("Das Kürzel enthält keine Leerzeichen und kein |, z. B. EFRE-SN."),
            )
        )
    elif data.code:
        clash = Programme.objects.filter(code__iexact=data.code)
        if programme_id is not None:
            clash = clash.exclude(pk=programme_id)
        if clash.exists():
            problems.append(Problem("code", _("Ein anderes Programm hat schon dieses Kürzel.")))
    _required(data.funder, "funder", _("Bitte den Fördergeber angeben."), problems)
    _length(data.funder, "funder", 200, problems)
    if data.level not in Level.values:
        problems.append(Problem("level", _("Bitte eine Ebene aus der Liste wählen.")))
    if data.funding_type not in FundingType.values:
        problems.append(Problem("funding_type", _("Bitte eine Förderart aus der Liste wählen.")))
    _mask(data.themes_mask, Theme, "themes_mask", problems)
    _mask(data.applicant_types_mask, ApplicantType, "applicant_types_mask", problems)
    _mask(data.regions_mask, Region, "regions_mask", problems)
    if data.rate_max is not None and not Decimal(0) <= data.rate_max <= Decimal(100):
        problems.append(Problem("rate_max", _("Die Förderquote liegt zwischen 0 und 100 Prozent.")))
    _amount(data.amount_min, "amount_min", problems)
    _amount(data.amount_max, "amount_max", problems)
    if (
        data.amount_min is not None
        and data.amount_max is not None
        and data.amount_min > data.amount_max
    ):
        problems.append(
            Problem(
                "amount_max",
                _("Der Höchstbetrag darf nicht kleiner sein als der Mindestbetrag."),
            )
        )
    _length(data.legal_basis, "legal_basis", 300, problems)
    _url(data.source_url, "source_url", problems)
    if data.last_checked is not None and data.last_checked > timezone.localdate():
        problems.append(Problem("last_checked", _("Das Datum der Prüfung liegt in der Zukunft.")))
    return problems


def _deadline_name(model: str, index: int) -> str:
    if model == DeadlineModel.TWO_STAGE:
        return _("Stufe %(number)d") % {"number": index + 1}
    return _("Frist %(number)d") % {"number": index + 1}


def call_deadline_instants(
    data: CallData, problems: list[Problem] | None = None
) -> list[datetime | None]:
    """The instants of the call's deadlines (``None`` where one cannot be made, with the
    reason added to ``problems``)."""
    instants: list[datetime | None] = []
    for index, deadline in enumerate(data.deadlines):
        try:
            instants.append(deadline_instant(deadline.local, deadline.timezone))
        except DeadlineTimeError as error:
            instants.append(None)
            if problems is not None:
                problems.append(Problem(error.field, str(error), index))
    return instants


def call_problems(
    data: CallData,
    *,
    call: Call | None = None,
    now: datetime | None = None,
    check_programme: bool = True,
) -> list[Problem]:
    """What is wrong with a call's (normalised) data; empty when it may be saved. ``call``
    is the stored call when the data changes one (its deadlines in the past may stay).
    ``check_programme`` False skips the programme (the import reports that itself)."""
    now = now or timezone.now()
    problems: list[Problem] = []
    if check_programme and not Programme.objects.filter(pk=data.programme_id).exists():
        problems.append(Problem("programme", _("Dieses Programm gibt es nicht.")))
    _required(
        data.identifier,
        "identifier",
        _("Bitte die Kennung des Aufrufs angeben, z. B. DIGITAL-2027-CLOUD-AI-01."),
        problems,
    )
    _length(data.identifier, "identifier", 120, problems)
    if data.identifier and "|" in data.identifier:
        problems.append(Problem("identifier", _("Die Kennung enthält kein |.")))
    elif data.identifier:
        clash = Call.objects.filter(identifier__iexact=data.identifier)
        if call is not None:
            clash = clash.exclude(pk=call.pk)
        if clash.exists():
            problems.append(Problem("identifier", _("Ein anderer Aufruf hat schon diese Kennung.")))
    _required(data.title, "title", _("Bitte den Titel des Aufrufs angeben."), problems)
    _length(data.title, "title", 300, problems)
    if data.status not in CallStatus.values:
        problems.append(Problem("status", _("Bitte einen Status aus der Liste wählen.")))
    _amount(data.budget, "budget", problems)
    if data.expected_grants is not None and not 0 <= data.expected_grants <= MAX_EXPECTED_GRANTS:
        problems.append(Problem("expected_grants", _("Bitte eine ganze Zahl ab 0 angeben.")))
    _url(data.url, "url", problems)

    for index, deadline in enumerate(data.deadlines):
        if len(deadline.label) > 120:
            problems.append(Problem("label", _("Bitte höchstens 120 Zeichen angeben."), index))
        if "|" in deadline.label:
            problems.append(
                Problem(
                    "label",
                    _(
                        "Das Zeichen | ist in der Bezeichnung nicht möglich (es trennt die "
                        "Fristen in der CSV-Datei)."
                    ),
                    index,
                )
            )
    instants = call_deadline_instants(data, problems)

    count = len(data.deadlines)
    if data.deadline_model not in DeadlineModel.values:
        problems.append(Problem("deadline_model", _("Bitte ein Fristmodell aus der Liste wählen.")))
    elif data.deadline_model == DeadlineModel.SINGLE and count != 1:
        problems.append(
            Problem(
                "deadline_model",
                ngettext(
                    "Bei „Eine Frist“ ist genau eine Frist einzutragen, eingetragen ist %(count)d.",
                    "Bei „Eine Frist“ ist genau eine Frist einzutragen, eingetragen sind "
                    "%(count)d.",
                    count,
                )
                % {"count": count},
            )
        )
    elif data.deadline_model == DeadlineModel.TWO_STAGE and count != 2:
        problems.append(
            Problem(
                "deadline_model",
                ngettext(
                    "Ein zweistufiger Aufruf hat genau zwei Fristen (Skizze und Vollantrag), "
                    "eingetragen ist %(count)d.",
                    "Ein zweistufiger Aufruf hat genau zwei Fristen (Skizze und Vollantrag), "
                    "eingetragen sind %(count)d.",
                    count,
                )
                % {"count": count},
            )
        )
    elif data.deadline_model == DeadlineModel.CUTOFFS and count < 2:
        problems.append(
            Problem(
                "deadline_model",
                ngettext(
                    "Bei mehreren Stichtagen sind mindestens zwei Fristen einzutragen, "
                    "eingetragen ist %(count)d.",
                    "Bei mehreren Stichtagen sind mindestens zwei Fristen einzutragen, "
                    "eingetragen sind %(count)d.",
                    count,
                )
                % {"count": count},
            )
        )

    for index in range(1, count):
        earlier, later = instants[index - 1], instants[index]
        if earlier is not None and later is not None and later <= earlier:
            problems.append(
                Problem(
                    "due",
                    _("%(this)s muss nach %(previous)s liegen (Fristen in zeitlicher Folge).")
                    % {
                        "this": _deadline_name(data.deadline_model, index),
                        "previous": _deadline_name(data.deadline_model, index - 1),
                    },
                    index,
                )
            )

    if data.status != CallStatus.CLOSED:
        kept: set[datetime] = set()
        if call is not None:
            kept = {_minute(due) for due in call.deadlines.values_list("due_at", flat=True)}
        for index, instant in enumerate(instants):
            if instant is not None and instant < now and _minute(instant) not in kept:
                problems.append(
                    Problem(
                        "due",
                        _(
                            "Diese Frist liegt in der Vergangenheit. Vergangene Fristen sind "
                            "nur bei einem Aufruf mit dem Status „Geschlossen“ möglich (zur "
                            "Dokumentation)."
                        ),
                        index,
                    )
                )

    if data.opens_on is not None and data.deadlines and instants[0] is not None:
        first = data.deadlines[0].local.date()
        if data.opens_on > first:
            problems.append(
                Problem(
                    "opens_on",
                    _("Der Aufruf kann nicht nach seiner ersten Frist (%(date)s) öffnen.")
                    % {"date": first.strftime("%d.%m.%Y")},
                )
            )
    return problems


def call_warnings(*, call: Call, now: datetime | None = None) -> list[str]:
    """Hints (not refusals) for staff about a saved call: open or forthcoming although every
    deadline has passed."""
    now = now or timezone.now()
    if call.final_deadline is None or call.final_deadline >= now:
        return []
    if call.status == CallStatus.OPEN:
        return [
            _(
                "Der Aufruf ist als „Offen“ eingetragen, aber alle Fristen sind vorbei. Bitte "
                "prüfen Sie den Status."
            )
        ]
    if call.status == CallStatus.FORTHCOMING:
        return [
            _(
                "Der Aufruf ist als „Angekündigt“ eingetragen, aber alle Fristen sind vorbei. "
                "Bitte prüfen Sie den Status."
            )
        ]
    return []


# ---- audit -----------------------------------------------------------------------------------


def _programme_state(data: ProgrammeData) -> dict[str, Any]:
    return {name: audit_value(getattr(data, name)) for name in PROGRAMME_FIELDS}


def _call_state(data: CallData) -> dict[str, Any]:
    state = {name: audit_value(getattr(data, name)) for name in CALL_FIELDS}
    state["programme_id"] = data.programme_id
    state["deadlines"] = [
        f"{d.local:%Y-%m-%d %H:%M} {d.timezone}" + (f" {d.label}" if d.label else "")
        for d in data.deadlines
    ]
    return state


def _changes(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [name for name in after if before.get(name) != after[name]]
    return {n: before.get(n) for n in changed}, {n: after[n] for n in changed}


# ---- writes ----------------------------------------------------------------------------------


def programme_write(
    *, actor: User | None, data: ProgrammeData, programme: Programme | None = None
) -> tuple[Programme, Outcome]:
    """Create (``programme`` None) or change a programme without the staff check: for the
    services below and the CSV import (which checks the actor itself and may run as the
    system from the command line). Raises ``RegisterError``; writes and audits only what
    changed. Call inside a transaction."""
    data = programme_data_normalised(data)
    problems = programme_problems(data, programme_id=programme.pk if programme else None)
    if problems:
        raise RegisterError(problems)
    if programme is None:
        programme = Programme(**{name: getattr(data, name) for name in PROGRAMME_FIELDS})
        programme.save()
        audit_entry_create(
            actor=actor,
            action="funding.programme.create",
            object_type="funding.programme",
            object_id=programme.pk,
            after=_programme_state(data),
        )
        return programme, "created"
    before, after = _changes(_programme_state(programme_data_of(programme)), _programme_state(data))
    if not after:
        return programme, "unchanged"
    for name in PROGRAMME_FIELDS:
        setattr(programme, name, getattr(data, name))
    programme.save()
    audit_entry_create(
        actor=actor,
        action="funding.programme.update",
        object_type="funding.programme",
        object_id=programme.pk,
        before=before,
        after=after,
    )
    return programme, "updated"


def programme_create(*, actor: User, data: ProgrammeData) -> Programme:
    """A new programme of the register (department staff; audited)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        programme, _outcome = programme_write(actor=actor, data=data)
    return programme


def programme_update(*, actor: User, programme_id: int, data: ProgrammeData) -> Programme:
    """Change a programme (department staff; the changed fields audited)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        programme = Programme.objects.select_for_update().filter(pk=programme_id).first()
        if programme is None:
            raise RegisterError([Problem(None, _("Dieses Programm gibt es nicht."))])
        programme, _outcome = programme_write(actor=actor, data=data, programme=programme)
    return programme


def _same_deadlines(call: Call, data: CallData) -> bool:
    return call_data_of(call).deadlines == data.deadlines


def call_write(
    *,
    actor: User | None,
    data: CallData,
    call: Call | None = None,
    now: datetime | None = None,
) -> tuple[Call, Outcome]:
    """Create (``call`` None) or change a call with its deadlines without the staff check
    (see ``programme_write``). Keeps ``final_deadline``. Call inside a transaction."""
    data = call_data_normalised(data)
    problems = call_problems(data, call=call, now=now)
    if problems:
        raise RegisterError(problems)
    instants = [i for i in call_deadline_instants(data) if i is not None]
    if call is None:
        call = Call(programme_id=data.programme_id)
        before: dict[str, Any] = {}
        deadlines_changed = True
    else:
        before = _call_state(call_data_of(call))
        deadlines_changed = not _same_deadlines(call, data)
    old, new = _changes(before, _call_state(data))
    if call.pk is not None and not new:
        return call, "unchanged"
    created = call.pk is None
    call.programme_id = data.programme_id
    for name in CALL_FIELDS:
        setattr(call, name, getattr(data, name))
    if deadlines_changed:
        call.final_deadline = instants[-1] if instants else None
    call.save()
    if deadlines_changed:
        call.deadlines.all().delete()
        CallDeadline.objects.bulk_create(
            CallDeadline(
                call=call,
                position=position,
                label=deadline.label,
                due_at=instant,
                timezone=deadline.timezone,
            )
            for position, (deadline, instant) in enumerate(
                zip(data.deadlines, instants, strict=True), start=1
            )
        )
    audit_entry_create(
        actor=actor,
        action="funding.call.create" if created else "funding.call.update",
        object_type="funding.call",
        object_id=call.pk,
        before=None if created else old,
        after=new,
    )
    return call, "created" if created else "updated"


def call_create(*, actor: User, data: CallData) -> Call:
    """A new call of a programme with its deadlines (department staff; audited)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        call, _outcome = call_write(actor=actor, data=data)
    return call


def call_update(*, actor: User, call_id: int, data: CallData) -> Call:
    """Change a call and its deadlines (department staff; the changes audited)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None:
            raise RegisterError([Problem(None, _("Diesen Aufruf gibt es nicht."))])
        call, _outcome = call_write(actor=actor, data=data, call=call)
    return call
