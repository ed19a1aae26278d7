"""Reads of the entries. The gate: ``entry_get_for_user`` (an entry is seen by the members
of its organisation and by department staff; for everyone else it does not exist). Staff
pages read through ``call_get_for_staff`` and ``phase_get_for_staff``.

Organisations are read through the economy app's selectors: who may act for one
(``organisation_ids_of_user``), whether it is published and its name (``organisation_names``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.crypto import DecryptionError, decrypt_json
from rathaus.economy.selectors.directory import (
    organisation_ids_of_user,
    organisation_names,
    organisations_of_user,
)
from rathaus.innovation.constants import (
    CallStatus,
    Eligibility,
    EntryStatus,
)
from rathaus.innovation.models import (
    Call,
    Entry,
    EntryPhase,
    Phase,
)
from rathaus.innovation.selectors.ranking import phase_scores

# ---- small helpers (also used by the services) -------------------------------------------


def phase_is_open(phase: Phase, now: datetime) -> bool:
    """The phase takes entries: ``opens_at <= now < closes_at``."""
    return phase.opens_at <= now < phase.closes_at


def first_phase(call: Call) -> Phase | None:
    return call.phases.order_by("position").first()


def next_phase(phase: Phase) -> Phase | None:
    return (
        Phase.objects.filter(call_id=phase.call_id, position__gt=phase.position)
        .order_by("position")
        .first()
    )


def entry_team(entry: Entry) -> list[dict[str, str]]:
    """The team as ``[{"name": ..., "role": ...}]`` (decrypted)."""
    if not entry.team_encrypted:
        return []
    try:
        team = decrypt_json(entry.team_encrypted)
    except DecryptionError:
        return []
    return [
        {"name": str(person.get("name", "")), "role": str(person.get("role", ""))}
        for person in team
        if isinstance(person, dict)
    ]


def entry_phase_answers(entry_phase: EntryPhase) -> dict[str, Any]:
    """The answers of an entry in a phase: ``{"form_version": id | None, "values": {...}}``."""
    empty: dict[str, Any] = {"form_version": None, "values": {}}
    if not entry_phase.answers_encrypted:
        return empty
    try:
        answers = decrypt_json(entry_phase.answers_encrypted)
    except DecryptionError:
        return empty
    if not isinstance(answers, dict) or not isinstance(answers.get("values"), dict):
        return empty
    return answers


def organisation_name(organisation_id: int) -> str:
    """The organisation's public name from the directory (or a neutral label)."""
    return organisation_labels([organisation_id])[organisation_id]


def organisation_labels(organisation_ids: Iterable[int]) -> dict[int, str]:
    """Names of many organisations in one query (a neutral label for unpublished ones)."""
    wanted = set(organisation_ids)
    found = organisation_names(organisation_ids=wanted)
    return {
        pk: found[pk][0] if pk in found else str(_("Organisation Nr. %(id)s") % {"id": pk})
        for pk in wanted
    }


def with_organisation_names(entries: list[Entry]) -> list[Entry]:
    """``entries`` with ``organisation_name`` set on each, in one query."""
    labels = organisation_labels(entry.organisation_id for entry in entries)
    for entry in entries:
        entry.organisation_name = labels[entry.organisation_id]  # type: ignore[attr-defined]
    return entries


def organisations_to_enter(*, user: Any) -> list[tuple[int, str]]:
    """The published organisations of the directory ``user`` may enter for: (id, name)."""
    return [
        (organisation.pk, organisation.name)
        for organisation in organisations_of_user(user=user)
        if _published(organisation.pk)
    ]


def _published(organisation_id: int) -> bool:
    return organisation_id in organisation_names(organisation_ids=[organisation_id])


def organisation_published(organisation_id: int) -> bool:
    return _published(organisation_id)


# ---- the gate ------------------------------------------------------------------------------


def user_may_act_for_entry(*, user: Any, entry: Entry) -> bool:
    """Members of the entry's organisation (any role) act for it."""
    return entry.organisation_id in organisation_ids_of_user(user=user)


def entry_get_for_user(*, user: Any, entry_id: int) -> Entry:
    """An entry with its call and current phase: Http404 unless ``user`` is a member of its
    organisation or department staff (its existence does not leak)."""
    if not user.is_authenticated:
        raise Http404("no such entry")
    entry = (
        Entry.objects.select_related("call", "current_phase", "created_by")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None or not (
        user_may_act_for_entry(user=user, entry=entry) or user_is_department_staff(user=user)
    ):
        raise Http404("no such entry")
    return entry


def entry_current_entry_phase(entry: Entry) -> EntryPhase | None:
    return EntryPhase.objects.filter(entry=entry, phase_id=entry.current_phase_id).first()


def entries_of_user(*, user: Any) -> QuerySet[Entry]:
    """The entries of the organisations ``user`` is a member of, newest first."""
    ids = organisation_ids_of_user(user=user)
    return (
        Entry.objects.filter(organisation_id__in=ids)
        .select_related("call", "current_phase")
        .order_by("-created_at", "-pk")
    )


def entries_of_user_for_call(*, user: Any, call: Call) -> list[Entry]:
    """The user's organisations' entries to ``call`` that are not withdrawn."""
    return list(entries_of_user(user=user).filter(call=call).exclude(status=EntryStatus.WITHDRAWN))


# ---- staff ---------------------------------------------------------------------------------


def call_get_for_staff(*, user: Any, slug: str) -> Call:
    department_staff_required(user=user)
    call = Call.objects.exclude(status=CallStatus.DRAFT).filter(slug=slug[:220]).first()
    if call is None:
        raise Http404("no such call")
    return call


def entries_for_eligibility(*, user: Any, call: Call) -> list[Entry]:
    """The submitted (and withdrawn after submission) entries of a call, in order of
    submission, with the organisation's name as ``organisation_name``."""
    department_staff_required(user=user)
    entries = list(
        Entry.objects.filter(call=call, submitted_at__isnull=False)
        .select_related("current_phase", "eligibility_by")
        .order_by("submitted_at", "pk")
    )
    return with_organisation_names(entries)


def phase_get_for_staff(*, user: Any, phase_id: int) -> Phase:
    department_staff_required(user=user)
    phase = Phase.objects.select_related("call").filter(pk=phase_id).first()
    if phase is None or phase.call.status == CallStatus.DRAFT:
        raise Http404("no such phase")
    return phase


# ---- standings of a phase ------------------------------------------------------------------


@dataclass
class Standing:
    """An entry in a phase as the decision sees it."""

    entry_phase: EntryPhase
    entry: Entry
    total: Decimal | None  # the consensus, else the mean of the submitted evaluations
    criteria: list[Decimal | None] = field(default_factory=list)  # in the criteria's order
    knocked_out: bool = False  # below a criterion's threshold
    can_pass: bool = True  # submitted, not withdrawn, not ineligible
    organisation_name: str = ""


def phase_standings(phase: Phase, *, with_names: bool = False) -> list[Standing]:
    """Every entry in ``phase`` with its total and its values per criterion (the jury's
    scores as ``selectors.ranking.phase_scores`` computes them for the ranking too), best
    first; entries that cannot pass (not submitted in the phase, withdrawn, ineligible)
    last."""
    rows = list(
        EntryPhase.objects.filter(phase=phase)
        .select_related("entry", "entry__created_by")
        .order_by("submitted_at", "pk")
    )
    scores = phase_scores(phase=phase)
    names = organisation_labels(row.entry.organisation_id for row in rows) if with_names else {}
    standings = []
    for row in rows:
        entry = row.entry
        mine = scores.get(row.pk)
        standings.append(
            Standing(
                entry_phase=row,
                entry=entry,
                total=mine.total if mine is not None else None,
                criteria=mine.criteria if mine is not None else [],
                knocked_out=mine.knocked_out if mine is not None else False,
                can_pass=row.submitted_at is not None
                and entry.status == EntryStatus.SUBMITTED
                and entry.eligibility != Eligibility.INELIGIBLE,
                organisation_name=names.get(entry.organisation_id, ""),
            )
        )
    standings.sort(key=lambda s: (not s.can_pass, s.total is None, -(s.total or Decimal(0))))
    return standings
