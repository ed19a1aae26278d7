"""Writes of submissions. ``submission_create`` is the one way an application comes in (web form
and API alike): everything it writes commits together or not at all."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Model, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office, User
from rathaus.catalog.models import Service
from rathaus.core import blobs
from rathaus.core.crypto import encrypt_json
from rathaus.core.inserts import PARENT_ID, insert_together
from rathaus.core.jsondata import texts
from rathaus.core.models import OutboxMessage
from rathaus.core.recent import Recent
from rathaus.core.services import (
    audit_entry_build,
    audit_entry_create,
    outbox_message_build,
    outbox_message_create,
)
from rathaus.forms.api_validation import entry, submission_errors
from rathaus.forms.constants import VersionStatus
from rathaus.forms.models import FormVersion
from rathaus.forms.selectors import (
    forget_current_version,
    version_facts,
    version_still_current,
)
from rathaus.forms.uploads import new_token, upload_delete, upload_name, upload_store
from rathaus.submissions.constants import SubmissionStatus
from rathaus.submissions.models import (
    ApiToken,
    Attachment,
    Destination,
    IssuedReference,
    ReleasedDocument,
    StatusEvent,
    Submission,
)
from rathaus.submissions.references import new_reference
from rathaus.submissions.selectors import status_code_known


class SubmissionRefused(Exception):
    """The submission cannot be taken: ``errors`` lists each problem as ``{field, message,
    messages: {de, en}}`` (forms.api_validation), as the API answers them."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['messages']['en']}" for e in errors))
        self.errors = errors


class IdempotencyConflict(Exception):
    """The idempotency key was used before for different data."""


@dataclass(frozen=True)
class StoredFile:
    """A checked, stored (encrypted) file the data refers to as ``upload:<token>``."""

    token: str
    filename: str
    content_type: str
    size: int
    sha256: str


def email_of(version: FormVersion, data: dict[str, Any]) -> str:
    """Where the confirmation goes: the form's first top-level e-mail answer."""
    field = version_facts(version).email_field
    value = data.get(field) if field else None
    return value if isinstance(value, str) else ""


def submission_create(
    *,
    version: FormVersion,
    data: dict[str, Any],
    files: Mapping[str, StoredFile],
    user: User | None,
    email: str = "",
    language: str = "de",
    idempotency_key: str | None = None,
    request_hash: str = "",
    service: Service | None = None,
) -> tuple[Submission, bool]:
    """Take a submission: validate ``data`` (keyed by field ids; files as ``upload:<token>``
    naming entries of ``files``) against the version's JSON Schema, store it encrypted with
    its attachments, give it a reference number and a status code, and write the audit entry
    and the outbox rows (receipt, e-mail) in one transaction. The same ``idempotency_key``
    gives the first submission back: (submission, False)."""
    if idempotency_key:
        existing = Submission.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, request_hash), False
    if version.status != VersionStatus.PUBLISHED:
        raise SubmissionRefused([entry("$", _("Dieses Formular ist nicht veröffentlicht."))])
    facts = version_facts(version)
    errors = submission_errors(
        key=f"version:{version.pk}", schema=version.json_schema, specs=facts.specs, data=data
    )
    refs: dict[str, str] = {}  # each file the data names, once: the field (and entry) holding it
    for path, text in texts(data) if facts.has_files else ():
        if text.startswith("upload:"):
            refs.setdefault(text.removeprefix("upload:"), path)
    errors += [
        entry(f"upload:{ref[:12]}", _("Bitte laden Sie eine Datei hoch."))
        for ref in refs
        if ref not in files
    ]
    if errors:
        raise SubmissionRefused(errors)
    service, office = _responsible.get(
        (version.pk, service.pk if service else None),
        lambda: _service_and_office(version, service),
    )
    destinations = list(office.destinations.filter(active=True)) if office is not None else []
    code = secrets.token_urlsafe(12)  # the status link's secret
    for _attempt in range(10):
        now = timezone.now()
        submission = Submission(
            reference=new_reference(settings.REFERENCE_PREFIX, timezone.localtime(now).year),
            version=version,
            service=service,
            office=office,
            user=user if user is not None and user.is_authenticated else None,
            submitted_at=now,
            language=language[:8],
            data_encrypted=encrypt_json(data),
            email_encrypted=encrypt_json(email) if email else "",
            status_code_encrypted=encrypt_json(code),
            idempotency_key=idempotency_key or None,
            request_hash=request_hash,
        )
        try:
            written = insert_together(
                submission,
                _rows_of(
                    submission, refs=refs, files=files, email=email, destinations=destinations
                ),
                only_if=version_still_current(version),
            )
        except IntegrityError:
            # the same idempotency key committed meanwhile (a double click racing itself)
            if idempotency_key:
                existing = Submission.objects.filter(idempotency_key=idempotency_key).first()
                if existing is not None:
                    return _same_request(existing, request_hash), False
            if IssuedReference.objects.filter(value=submission.reference).exists():
                continue  # a reference number drawn before (very unlikely): draw again
            raise
        if not written:  # a newer version was published a moment ago
            forget_current_version(version.form.slug)
            raise SubmissionRefused([entry("$", _("Dieses Formular ist nicht veröffentlicht."))])
        status_code_known(submission, code)
        return submission, True
    raise RuntimeError("no free reference number after 10 draws")  # pragma: no cover


def _rows_of(
    submission: Submission,
    *,
    refs: dict[str, str],
    files: Mapping[str, StoredFile],
    email: str,
    destinations: list[Destination],
) -> list[Model]:
    """What is written with a submission: its reference number recorded for ever (its key
    makes a repeat fail), its attachments, the first status event, the audit entry and the
    outbox rows (receipt, e-mail, the office's webhooks and FIT-Connect deliveries).
    ``PARENT_ID`` is the submission's id, known once it is inserted (core.inserts)."""
    version, now = submission.version, submission.submitted_at
    rows: list[Model] = [IssuedReference(value=submission.reference, issued_at=now)]
    rows += [
        Attachment(
            submission_id=PARENT_ID,
            field_id=field_id,
            token=files[ref].token,
            filename=files[ref].filename,
            content_type=files[ref].content_type,
            size=files[ref].size,
            sha256=files[ref].sha256,
        )
        for ref, field_id in refs.items()
    ]
    rows.append(StatusEvent(submission_id=PARENT_ID, status=SubmissionStatus.RECEIVED, at=now))
    rows.append(
        audit_entry_build(
            actor=submission.user,
            action="submission.create",
            object_type="submissions.submission",
            object_id=PARENT_ID,
            after={
                "reference": submission.reference,
                "form": version.form.slug,
                "version": version.number,
                "service": submission.service.leika_key if submission.service else "",
                "attachments": len(refs),
            },
        )
    )
    rows.append(
        outbox_message_build(
            topic="submissions.receipt",
            payload={"reference": submission.reference},
            idempotency_key=f"receipt:{submission.reference}",
        )
    )
    if email:
        rows.append(
            outbox_message_build(
                topic="submissions.confirmation",
                payload={"reference": submission.reference},
                idempotency_key=f"confirmation:{submission.reference}",
                max_attempts=8,
            )
        )
    if submission.office is not None:
        rows.append(  # the case in the office's inbox (the cases app)
            outbox_message_build(
                topic="cases.open",
                payload={"reference": submission.reference},
                idempotency_key=f"case:{submission.reference}",
                max_attempts=12,
            )
        )
        rows += _announcements(submission, submission.office, destinations)
        rows += _deliveries(submission, destinations)
    return rows


def _same_request(existing: Submission, request_hash: str) -> Submission:
    """A repeat with the same key must be the same request: whoever knows only the key gets
    nothing of the first submission (its answer holds the status link)."""
    if existing.request_hash != request_hash:
        raise IdempotencyConflict(existing.reference)
    return existing


# Who is responsible changes seldom: asked at most every 5 seconds per process. (The office's
# destinations are asked each time: one switched off gets nothing more at once.)
_responsible: Recent[tuple[Service | None, Office | None]] = Recent(seconds=5)


def _service_and_office(
    version: FormVersion, service: Service | None
) -> tuple[Service | None, Office | None]:
    """The service a submission is for (the given one, else the form's first by LeiKa key)
    and the office responsible for it (the service's first)."""
    if service is None:
        service = (
            Service.objects.filter(forms__pk=version.form_id)
            .only("pk", "leika_key", "name")
            .order_by("leika_key")
            .first()
        )
    if service is None:
        return None, None
    office = Office.objects.filter(services=service).only("pk", "name").order_by("pk").first()
    return service, office


def _announcements(
    submission: Submission, office: Office, destinations: list[Destination]
) -> list[OutboxMessage]:
    """One signed webhook per active webhook destination of the office: that a submission is
    there and where to fetch it (no personal data in the announcement). Address and secret
    are read when it is sent: a destination switched off meanwhile gets nothing."""
    return [
        outbox_message_build(
            topic="submissions.webhook",
            payload={
                "destination_id": destination.pk,
                "body": {
                    "event": "submission.received",
                    "reference": submission.reference,
                    "submitted_at": submission.submitted_at.isoformat(),
                    "form": submission.version.form.slug,
                    "service": submission.service.leika_key if submission.service else "",
                    "office": office.pk,
                    "fetch_url": settings.SITE_URL.rstrip("/")
                    + f"/api/v1/submissions/{submission.reference}",
                },
            },
            idempotency_key=f"webhook:{destination.pk}:{submission.reference}",
            max_attempts=12,
        )
        for destination in destinations
        if destination.kind == Destination.Kind.WEBHOOK
    ]


def _deliveries(submission: Submission, destinations: list[Destination]) -> list[OutboxMessage]:
    """One outbox row per active FIT-Connect destination of the office (the plugin)."""
    return [
        outbox_message_build(
            topic="submissions.fitconnect",
            payload={"reference": submission.reference, "destination_id": destination.pk},
            idempotency_key=f"fitconnect:{destination.pk}:{submission.reference}",
            max_attempts=12,
        )
        for destination in destinations
        if destination.kind == Destination.Kind.FITCONNECT
    ]


def receipt_name(token: str) -> str:
    """The stored receipt's name in the file storage (core.blobs)."""
    return f"{blobs.RECEIPTS}/{token}"


def document_release(
    *, submission: Submission, title: str, filename: str, content: bytes, content_type: str
) -> ReleasedDocument:
    """Give the citizen a document (a decision, a permit): stored encrypted beside the
    uploads, shown on the status page from now on. A caller whose transaction fails after
    this removes the file with ``document_file_remove``."""
    token = upload_store(content)
    try:
        return ReleasedDocument.objects.create(
            submission=submission,
            title=title,
            filename=filename,
            token=token,
            content_type=content_type,
            size=len(content),
            released_at=timezone.now(),
        )
    except BaseException:
        upload_delete(token)
        raise


def document_file_remove(*, document: ReleasedDocument) -> None:
    upload_delete(document.token)


def receipt_store(*, submission: Submission, pdf: bytes) -> None:
    """Keep the receipt (encrypted) so that it is the same document every time it is fetched."""
    if submission.receipt_token:
        return
    token = new_token()
    blobs.write(receipt_name(token), pdf)
    updated = Submission.objects.filter(pk=submission.pk, receipt_token="").update(
        receipt_token=token
    )
    if updated:
        submission.receipt_token = token
    else:  # another worker stored it first
        blobs.delete(receipt_name(token))
        submission.refresh_from_db(fields=["receipt_token"])


def _files_of(submission: Submission) -> list[str]:
    """The names of the submission's stored files (core.blobs)."""
    files = [upload_name(a.token) for a in submission.attachments.all()]
    files += [upload_name(d.token) for d in submission.documents.all()]
    if submission.receipt_token:
        files.append(receipt_name(submission.receipt_token))
    return files


def submission_expire(*, submission: Submission, now: datetime) -> str:
    """Past its retention period: delete the submission with its files, or, where its service
    says so, keep only the frame (reference, form, service, office, dates, status) for the
    statistics. Written to the audit log. Returns "deleted" or "anonymised"."""
    anonymise = bool(submission.service and submission.service.retention_anonymise)
    files = _files_of(submission)
    with transaction.atomic():
        if anonymise:
            submission.attachments.all().delete()
            submission.documents.all().delete()
            submission.events.update(message_encrypted="")
            Submission.objects.filter(pk=submission.pk).update(
                data_encrypted=encrypt_json({}),
                email_encrypted="",
                status_code_encrypted="",
                receipt_token="",
                user=None,
                idempotency_key=None,
                anonymised_at=now,
            )
            # the office's case keeps the frame too, but not the name (cases app)
            outbox_message_create(topic="cases.forget", payload={"reference": submission.reference})
        else:
            Submission.objects.filter(pk=submission.pk).delete()
        outcome = "anonymised" if anonymise else "deleted"
        audit_entry_create(
            actor=None,
            action=f"submission.retention.{outcome}",
            object_type="submissions.submission",
            object_id=submission.pk,
            before={"reference": submission.reference},
            after={"service": submission.service.leika_key if submission.service else ""},
        )

        def remove_files() -> None:
            for name in files:
                blobs.delete(name)

        transaction.on_commit(remove_files, robust=True)
    return outcome


def submissions_apply_retention(
    *, now: datetime | None = None, limit: int = 1000
) -> dict[str, int]:
    """Expire every submission whose last step (its latest status) lies further back than its
    service's retention period (RATHAUS_SUBMISSION_RETENTION_DAYS where the service sets none)."""
    now = now or timezone.now()
    counts = {"deleted": 0, "anonymised": 0}
    periods = set(
        Service.objects.filter(submissions__isnull=False)
        .values_list("retention_days", flat=True)
        .distinct()
    ) | {None}
    for days in periods:
        cutoff = now - timedelta(
            days=days if days is not None else settings.SUBMISSION_RETENTION_DAYS
        )
        due = (
            Submission.objects.filter(anonymised_at__isnull=True)
            .annotate(last_step=Max("events__at"))
            .filter(last_step__lt=cutoff)
            .select_related("service")
        )
        if days is None:
            due = due.filter(Q(service__isnull=True) | Q(service__retention_days__isnull=True))
        else:
            due = due.filter(service__retention_days=days)
        for submission in due.order_by("pk")[:limit]:
            counts[submission_expire(submission=submission, now=now)] += 1
    return counts


# what an office's API token may be allowed: the pull API here, the cases API (cases app)
SCOPES = ("submissions:read", "submissions:acknowledge", "cases:read", "cases:write")


def api_token_create(
    *, office: Office, name: str, scopes: list[str], actor: User | None
) -> tuple[ApiToken, str]:
    """A new pull-API token for ``office``: (the stored record, the token to hand over once)."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}")
    token = "rh_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = ApiToken.objects.create(
            office=office,
            name=name[:100],
            prefix=token[:10],
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            scopes=sorted(set(scopes)),
        )
        audit_entry_create(
            actor=actor,
            action="submissions.api_token.create",
            object_type="submissions.apitoken",
            object_id=record.pk,
            after={"office": office.pk, "name": record.name, "scopes": record.scopes},
        )
    return record, token


def api_token_revoke(*, prefix: str, actor: User | None) -> int:
    """Revoke the live tokens starting with ``prefix`` (as printed when made); how many."""
    with transaction.atomic():
        tokens = list(
            ApiToken.objects.select_for_update().filter(prefix=prefix[:12], revoked_at__isnull=True)
        )
        for token in tokens:
            ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
            audit_entry_create(
                actor=actor,
                action="submissions.api_token.revoke",
                object_type="submissions.apitoken",
                object_id=token.pk,
                before={"revoked": False},
                after={"revoked": True, "name": token.name},
            )
    return len(tokens)


def destination_switch_off(*, destination_id: int, actor: User | None) -> Destination | None:
    """An office's destination gets nothing more, also nothing already queued for it (the
    handlers check); audited. None when there is no such destination."""
    with transaction.atomic():
        destination = Destination.objects.select_for_update().filter(pk=destination_id).first()
        if destination is None or not destination.active:
            return destination
        Destination.objects.filter(pk=destination.pk).update(active=False)
        destination.active = False
        audit_entry_create(
            actor=actor,
            action="submissions.destination.switch_off",
            object_type="submissions.destination",
            object_id=destination.pk,
            before={"active": True},
            after={"active": False, "office": destination.office_id, "kind": destination.kind},
        )
    return destination


def _destination_create(*, actor: User | None, **fields: Any) -> Destination:
    """Store a destination of an office's submissions, audited."""
    with transaction.atomic():
        destination = Destination.objects.create(**fields)
        audit_entry_create(
            actor=actor,
            action="submissions.destination.create",
            object_type="submissions.destination",
            object_id=destination.pk,
            after={
                "office": destination.office_id,
                "kind": destination.kind,
                "url": destination.url,
            },
        )
    return destination


def webhook_destination_create(
    *, office: Office, url: str, actor: User | None
) -> tuple[Destination, str]:
    """A webhook for ``office``: (the record, the HMAC secret to give its receiver once)."""
    secret = secrets.token_urlsafe(32)
    destination = _destination_create(
        actor=actor,
        office=office,
        kind=Destination.Kind.WEBHOOK,
        url=url,
        secret_encrypted=encrypt_json(secret),
    )
    return destination, secret


def fitconnect_destination_create(
    *,
    office: Office,
    url: str,
    destination_id: str,
    public_key: dict[str, Any],
    access_token: str = "",
    oauth: dict[str, str] | None = None,
    actor: User | None,
) -> Destination:
    """A FIT-Connect destination for ``office``: its Submission API, its id there and its
    public encryption key (a JWK with ``kid``). Access through ``oauth`` (``token_url``,
    ``client_id``, ``client_secret``, optionally ``scope``: FIT-Connect's client credentials)
    or a fixed ``access_token``; either is kept encrypted."""
    from jwcrypto import jwk

    from rathaus.submissions.contrib.fitconnect import OAuthClient

    key = jwk.JWK(**public_key)
    if key.has_private or key.get("kty") != "RSA":
        raise ValueError("the public RSA key of the destination, without its private part")
    if oauth is not None:
        OAuthClient.from_dict(oauth)  # refuses what could never work
    credentials: dict[str, str] | str = oauth if oauth is not None else access_token
    return _destination_create(
        actor=actor,
        office=office,
        kind=Destination.Kind.FITCONNECT,
        url=url,
        external_id=destination_id[:100],
        public_key=key.export_public(as_dict=True),
        secret_encrypted=encrypt_json(credentials) if credentials else "",
    )


def submission_mark_fetched(*, submission: Submission, token: ApiToken) -> None:
    if submission.fetched_at is None:
        Submission.objects.filter(pk=submission.pk, fetched_at__isnull=True).update(
            fetched_at=timezone.now()
        )
    audit_entry_create(
        actor=None,
        action="submission.fetch",
        object_type="submissions.submission",
        object_id=submission.pk,
        after={"token": token.prefix, "office": token.office_id},
    )


def submission_acknowledge(*, submission: Submission, token: ApiToken) -> bool:
    """The office's system confirms it has the submission; False when it was already."""
    with transaction.atomic():
        updated = Submission.objects.filter(pk=submission.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now()
        )
        if updated:
            audit_entry_create(
                actor=None,
                action="submission.acknowledge",
                object_type="submissions.submission",
                object_id=submission.pk,
                after={"token": token.prefix, "office": token.office_id},
            )
    return bool(updated)
