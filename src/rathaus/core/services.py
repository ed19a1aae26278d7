"""Writes of core: audit entries and outbox messages. Other apps' services call these inside
their own transaction, so the audit entry and the outbox rows commit or roll back with the
change they describe."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connections, models, transaction
from django.utils import timezone

from rathaus.core.constants import OutboxStatus
from rathaus.core.context import current_request_id
from rathaus.core.inserts import PARENT_ID
from rathaus.core.models import Area, AuditEntry, OutboxMessage

JsonDict = dict[str, Any]


def pseudonymise(value: object) -> str:
    """A keyed hash of a personal value: equal values give equal tokens, so a reader of the
    audit log can see *that* a value changed, but not what it is."""
    key = settings.DATA_KEYS[0].encode()
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
    return f"pseudonym:{digest[:16]}"


def _redact(data: Mapping[str, Any] | None, personal_fields: Iterable[str]) -> JsonDict | None:
    if data is None:
        return None
    personal = set(personal_fields)
    return {
        key: (pseudonymise(value) if key in personal and value not in (None, "") else value)
        for key, value in data.items()
    }


def audit_entry_create(
    *,
    actor: models.Model | None,
    action: str,
    object_type: str,
    object_id: object = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    personal_fields: Iterable[str] = (),
) -> AuditEntry:
    """Append one entry to the audit log. Fields named in ``personal_fields`` are stored only
    as pseudonyms, never in clear text."""
    entry = audit_entry_build(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        personal_fields=personal_fields,
    )
    entry.save(force_insert=True)
    return entry


def audit_entry_build(
    *,
    actor: models.Model | None,
    action: str,
    object_type: str,
    object_id: object = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    personal_fields: Iterable[str] = (),
) -> AuditEntry:
    """The audit entry ``audit_entry_create`` writes, unsaved: for a caller that inserts it
    together with the change (core.inserts; ``object_id`` may be its PARENT_ID)."""
    personal = tuple(personal_fields)
    actor_pk = getattr(actor, "pk", None)
    return AuditEntry(
        actor_id=actor_pk,
        actor_label=f"user:{actor_pk}" if actor_pk is not None else "system",
        action=action,
        object_type=object_type,
        object_id=object_id if object_id is PARENT_ID else str(object_id),  # type: ignore[misc]
        before=_redact(before, personal),
        after=_redact(after, personal),
        request_id=current_request_id(),
    )


def outbox_message_create(
    *,
    topic: str,
    payload: JsonDict,
    idempotency_key: str | None = None,
    max_attempts: int | None = None,
    available_at: datetime | None = None,
) -> OutboxMessage:
    """Write one outbox row in the caller's transaction. Delivery starts once it commits.

    Calling it twice with the same ``idempotency_key`` returns the first message: the same
    business event never produces two deliveries.
    """
    message = outbox_message_build(
        topic=topic,
        payload=payload,
        idempotency_key=idempotency_key,
        max_attempts=max_attempts,
        available_at=available_at,
    )
    try:
        with transaction.atomic():  # a savepoint: a repeated key must not spoil the caller's
            message.save(force_insert=True)
    except IntegrityError:  # the same business event again: the first message stands
        message = OutboxMessage.objects.get(idempotency_key=message.idempotency_key)
    # Delivery (or, with Celery, the hand-over to Celery) is the worker's job: nothing is sent
    # from inside the request, so a broker that is down cannot fail the citizen's request.
    return message


def outbox_message_build(
    *,
    topic: str,
    payload: JsonDict,
    idempotency_key: str | None = None,
    max_attempts: int | None = None,
    available_at: datetime | None = None,
) -> OutboxMessage:
    """The message ``outbox_message_create`` writes, unsaved: for a caller that inserts it
    together with the change (core.inserts), where its key cannot have been used before."""
    return OutboxMessage(
        idempotency_key=idempotency_key or f"{topic}:{uuid.uuid4().hex}",
        topic=topic,
        payload=payload,
        max_attempts=max_attempts or settings.OUTBOX_MAX_ATTEMPTS,
        available_at=available_at or timezone.now(),
    )


def outbox_message_retry(*, actor: models.Model | None, message_ids: Iterable[int]) -> int:
    """Give dead-lettered messages a fresh set of attempts (an administrator's decision)."""
    ids = list(message_ids)
    with transaction.atomic():
        dead = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=ids, status=OutboxStatus.DEAD)
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=dead).update(
            status=OutboxStatus.PENDING, attempts=0, available_at=timezone.now(), last_error=""
        )
        for pk in dead:
            audit_entry_create(
                actor=actor,
                action="outbox.retry",
                object_type="core.outboxmessage",
                object_id=pk,
                before={"status": OutboxStatus.DEAD},
                after={"status": OutboxStatus.PENDING},
            )
    return len(dead)


@contextmanager
def audit_unlocked(*, using: str = "default") -> Iterator[None]:
    """Lets the database delete audit entries inside this transaction only (see migration
    core 0002). For retention and the test suite's flush; nothing else may use it."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("INSERT INTO core_auditunlock (id) VALUES (1)")
        try:
            yield
        finally:
            cursor.execute("DELETE FROM core_auditunlock")


def audit_entries_prune(*, older_than: datetime, actor: models.Model | None = None) -> int:
    """Delete audit entries older than ``older_than`` (retention), leaving a record of it."""
    with audit_unlocked():
        deleted = AuditEntry.objects.filter(created_at__lt=older_than)._raw_delete(
            AuditEntry.objects.db
        )
        audit_entry_create(
            actor=actor,
            action="audit.prune",
            object_type="core.auditentry",
            after={"older_than": older_than.isoformat(), "deleted": deleted},
        )
    return deleted


def upsert(
    model: type[models.Model],
    *,
    lookup: Mapping[str, Any],
    values: Mapping[str, Any],
    actor: models.Model | None,
    action_prefix: str,
) -> tuple[models.Model, str]:
    """Create or update one row; returns it with "created", "updated" or "unchanged", and
    writes an audit entry for the first two."""
    with transaction.atomic():
        obj = model._default_manager.select_for_update().filter(**lookup).first()
        if obj is None:
            obj = model._default_manager.create(**lookup, **values)
            audit_entry_create(
                actor=actor,
                action=f"{action_prefix}.create",
                object_type=obj._meta.label_lower,
                object_id=obj.pk,
                after={k: _jsonable(v) for k, v in values.items()},
            )
            return obj, "created"
        changed = {name: value for name, value in values.items() if getattr(obj, name) != value}
        if not changed:
            return obj, "unchanged"
        before = {name: _jsonable(getattr(obj, name)) for name in changed}
        for name, value in changed.items():
            setattr(obj, name, value)
        obj.save()
        audit_entry_create(
            actor=actor,
            action=f"{action_prefix}.update",
            object_type=obj._meta.label_lower,
            object_id=obj.pk,
            before=before,
            after={k: _jsonable(v) for k, v in changed.items()},
        )
        return obj, "updated"


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # Decimal, date, datetime, UUID


def area_upsert(
    *, uri: str, values: Mapping[str, Any], actor: models.Model | None = None
) -> tuple[Area, str]:
    obj, outcome = upsert(
        Area, lookup={"uri": uri}, values=values, actor=actor, action_prefix="area"
    )
    return cast(Area, obj), outcome
