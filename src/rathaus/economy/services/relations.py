"""Writes of relations: typed, dated links from an organisation to another organisation or to
a person. A member of the source organisation proposes one; the other side (a member of the
target organisation, or the person's own account) confirms or declines it. Department staff
enter relations that count as confirmed at once, and decide for people without an account."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.economy.constants import EntryStatus, RelationKind, RelationStatus
from rathaus.economy.models import Membership, Organisation, Person, Relation

ORGANISATION_KINDS = frozenset(
    {
        RelationKind.MEMBER_OF,
        RelationKind.PARTNER_IN,
        RelationKind.SPIN_OFF_OF,
        RelationKind.FUNDED_BY,
        RelationKind.LOCATED_AT_HUB,
    }
)
TOPIC_PROPOSED = "economy.relation_proposed"
PERSON_KINDS = frozenset({RelationKind.FOUNDED_BY, RelationKind.EMPLOYS, RelationKind.ADVISED_BY})


class RelationRefused(Exception):
    """A relation cannot be written as asked; ``message`` says why, for the user."""

    def __init__(self, message: Promise | str, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def _member_of(user: Any, organisation_id: int | None) -> bool:
    if organisation_id is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user_id=user.pk, organisation_id=organisation_id).exists()


def _snapshot(relation: Relation) -> dict[str, Any]:
    return {
        "source": relation.source_id,
        "kind": relation.kind,
        "target": relation.target_id,
        "person": relation.person_id,
        "starts_on": relation.starts_on.isoformat() if relation.starts_on else None,
        "ends_on": relation.ends_on.isoformat() if relation.ends_on else None,
        "status": relation.status,
    }


def relation_propose(
    *,
    actor: Any,
    source_id: int,
    kind: str,
    target_id: int | None = None,
    person_id: int | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    note: str = "",
) -> Relation:
    """Propose a relation for ``source_id`` (the actor must be a member of it), or, for staff,
    enter one that counts as confirmed. A proposal is confirmed at once when the actor also
    stands for the other side (a member of both organisations, or the person themself)."""
    if not actor.is_authenticated:
        raise RelationRefused(_("Bitte melden Sie sich an."))
    staff = user_is_department_staff(user=actor)
    if kind in ORGANISATION_KINDS:
        if person_id is not None or target_id is None:
            raise RelationRefused(
                _("Bitte wählen Sie die Organisation, zu der die Beziehung besteht."),
                field="target",
            )
    elif kind in PERSON_KINDS:
        if target_id is not None or person_id is None:
            raise RelationRefused(
                _("Bitte wählen Sie die Person, zu der die Beziehung besteht."), field="person"
            )
    else:
        raise RelationRefused(_("Diese Art von Beziehung gibt es nicht."), field="kind")
    if target_id is not None and target_id == source_id:
        raise RelationRefused(
            _("Eine Organisation kann keine Beziehung zu sich selbst haben."), field="target"
        )
    if starts_on and ends_on and ends_on < starts_on:
        raise RelationRefused(_("Das Ende liegt vor dem Beginn."), field="ends_on")
    note = note.strip()[:300]
    with transaction.atomic():
        source = Organisation.objects.filter(pk=source_id).first()
        if source is None:
            raise RelationRefused(_("Diese Organisation gibt es nicht."), field="source")
        if not staff and not _member_of(actor, source_id):
            raise RelationRefused(
                _(
                    "Sie können Beziehungen nur für Organisationen vorschlagen, "
                    "deren Mitglied Sie sind."
                ),
                field="source",
            )
        person = None
        if target_id is not None:
            target = Organisation.objects.filter(pk=target_id).first()
            if target is None or (
                target.status in (EntryStatus.REJECTED, EntryStatus.ARCHIVED) and not staff
            ):
                raise RelationRefused(_("Diese Organisation gibt es nicht."), field="target")
        else:
            person = Person.objects.filter(pk=person_id or 0).first()
            if person is None:
                raise RelationRefused(_("Diese Person gibt es nicht."), field="person")
        duplicate = Relation.objects.filter(
            source_id=source_id,
            kind=kind,
            target_id__exact=target_id,
            person_id__exact=person_id,
        ).exclude(status=RelationStatus.DECLINED)
        if duplicate.exists():
            raise RelationRefused(_("Diese Beziehung ist schon eingetragen oder vorgeschlagen."))
        other_side = (
            _member_of(actor, target_id)
            if target_id is not None
            else (person is not None and person.user_id == actor.pk)
        )
        confirmed = staff or other_side
        now = timezone.now()
        relation = Relation.objects.create(
            source_id=source_id,
            kind=kind,
            target_id=target_id,
            person_id=person_id,
            starts_on=starts_on,
            ends_on=ends_on,
            note=note,
            status=RelationStatus.CONFIRMED if confirmed else RelationStatus.PROPOSED,
            proposed_by=actor,
            decided_by=actor if confirmed else None,
            decided_at=now if confirmed else None,
        )
        audit_entry_create(
            actor=actor,
            action="economy.relation.create" if confirmed else "economy.relation.propose",
            object_type="economy.relation",
            object_id=relation.pk,
            after=_snapshot(relation),
        )
        if not confirmed:  # the other side learns of it by e-mail (who: decided at delivery)
            outbox_message_create(
                topic=TOPIC_PROPOSED,
                payload={"relation_id": relation.pk},
                idempotency_key=f"{TOPIC_PROPOSED}:{relation.pk}",
            )
    return relation


def may_decide(user: Any, relation: Relation) -> bool:
    """The other side of a proposal: a member of the target organisation, the person's own
    account, or staff (who decide for people without an account, and for anyone)."""
    if not user.is_authenticated:
        return False
    if user_is_department_staff(user=user):
        return True
    if relation.target_id is not None:
        return _member_of(user, relation.target_id)
    person_user_id = (
        Person.objects.filter(pk=relation.person_id or 0).values_list("user_id", flat=True).first()
    )
    return person_user_id is not None and person_user_id == user.pk


def _decide(*, actor: Any, relation_id: int, status: RelationStatus) -> Relation:
    with transaction.atomic():
        relation = Relation.objects.select_for_update().filter(pk=relation_id).first()
        if relation is None:
            raise RelationRefused(_("Diese Beziehung gibt es nicht."))
        if not may_decide(actor, relation):
            raise RelationRefused(
                _(
                    "Bestätigen oder ablehnen kann nur die andere Seite: ein Mitglied der "
                    "genannten Organisation oder die genannte Person selbst."
                )
            )
        if relation.status != RelationStatus.PROPOSED:
            raise RelationRefused(_("Über diesen Vorschlag ist schon entschieden."))
        before = _snapshot(relation)
        relation.status = status
        relation.decided_by = actor
        relation.decided_at = timezone.now()
        relation.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        audit_entry_create(
            actor=actor,
            action=f"economy.relation.{'confirm' if status == RelationStatus.CONFIRMED else 'decline'}",
            object_type="economy.relation",
            object_id=relation.pk,
            before=before,
            after=_snapshot(relation),
        )
    return relation


def relation_confirm(*, actor: Any, relation_id: int) -> Relation:
    return _decide(actor=actor, relation_id=relation_id, status=RelationStatus.CONFIRMED)


def relation_decline(*, actor: Any, relation_id: int) -> Relation:
    return _decide(actor=actor, relation_id=relation_id, status=RelationStatus.DECLINED)


def relation_delete(*, actor: Any, relation_id: int) -> None:
    """Remove a relation: staff, or a member of either organisation (a proposal withdrawn, a
    link that no longer holds; to keep its history, enter an end date instead)."""
    with transaction.atomic():
        relation = Relation.objects.select_for_update().filter(pk=relation_id).first()
        if relation is None:
            raise RelationRefused(_("Diese Beziehung gibt es nicht."))
        allowed = (
            user_is_department_staff(user=actor)
            or _member_of(actor, relation.source_id)
            or _member_of(actor, relation.target_id)
        )
        if not allowed:
            raise RelationRefused(
                _("Entfernen können nur Mitglieder der beteiligten Organisationen.")
            )
        audit_entry_create(
            actor=actor,
            action="economy.relation.delete",
            object_type="economy.relation",
            object_id=relation.pk,
            before=_snapshot(relation),
        )
        relation.delete()
