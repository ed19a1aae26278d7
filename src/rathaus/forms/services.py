"""Writes of the form engine: FIM import into a draft, publishing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from rathaus.accounts.models import User
from rathaus.core.crypto import decrypt_json, encrypt_json
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.forms import fim
from rathaus.forms.constants import VersionStatus
from rathaus.forms.definition import FieldSpec, FormDefinition
from rathaus.forms.models import Form, FormDraft, FormVersion, PostalPlace, Upload
from rathaus.forms.postcodes import PostcodeReport, read_pairs
from rathaus.forms.schema import json_schema
from rathaus.forms.selectors import forget_current_version
from rathaus.forms.uploads import check_and_store, upload_delete


class PublishedVersionError(Exception):
    """A published version is immutable; make a new draft instead."""


def form_draft_save(
    *,
    form: Form,
    definition: FormDefinition,
    actor: User | None,
    source: str = "",
    import_report: dict[str, Any] | None = None,
) -> FormVersion:
    """Store ``definition`` as the form's draft (a new draft if there is none)."""
    with transaction.atomic():
        draft = (
            FormVersion.objects.select_for_update()
            .filter(form=form, status=VersionStatus.DRAFT)
            .first()
        )
        data = definition.model_dump(mode="json", exclude_none=True)
        schema = json_schema(definition)
        if draft is None:
            number = (
                FormVersion.objects.filter(form=form).aggregate(n=Max("number"))["n"] or 0
            ) + 1
            draft = FormVersion.objects.create(
                form=form,
                number=number,
                definition=data,
                json_schema=schema,
                source=source,
                import_report=import_report,
            )
            action = "form.draft.create"
        else:
            draft.definition, draft.json_schema = data, schema
            draft.source, draft.import_report = source or draft.source, import_report
            draft.save(
                update_fields=["definition", "json_schema", "source", "import_report", "updated_at"]
            )
            action = "form.draft.update"
        audit_entry_create(
            actor=actor,
            action=action,
            object_type="forms.formversion",
            object_id=draft.pk,
            after={"form": form.slug, "number": draft.number, "source": draft.source},
        )
    return draft


def form_import_fim(
    *, path: Path, actor: User | None = None, slug: str = ""
) -> tuple[FormVersion, fim.ImportReport]:
    """Import a FIM Stammdatenschema into the draft of a form (created if new). Nothing is
    written unless the whole file could be read and mapped (FimImportError otherwise)."""
    definition, report = fim.parse_file(path)
    slug = slug or slugify(report.name)[:90] or slugify(report.schema_id)
    with transaction.atomic():
        form, _ = Form.objects.get_or_create(
            slug=slug, defaults={"title": definition.title.de[:300]}
        )
        version = form_draft_save(
            form=form,
            definition=definition,
            actor=actor,
            source=definition.source,
            import_report=report.as_dict(),
        )
    return version, report


def form_version_publish(*, version: FormVersion, actor: User | None) -> FormVersion:
    """Publish a draft: from now on it never changes."""
    with transaction.atomic():
        locked = FormVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != VersionStatus.DRAFT:
            raise PublishedVersionError(f"{locked} is already published")
        locked.status = VersionStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="form.publish",
            object_type="forms.formversion",
            object_id=locked.pk,
            before={"status": VersionStatus.DRAFT},
            after={"status": VersionStatus.PUBLISHED},
        )
    forget_current_version(locked.form.slug)
    return locked


# ---- drafts ---------------------------------------------------------------------------------


def draft_start(*, version: FormVersion, user: User | None) -> FormDraft:
    """A new, empty draft of ``version`` for a visitor (logged in or not)."""
    return FormDraft.objects.create(
        version=version,
        token=secrets.token_urlsafe(32),
        user=user if user is not None and user.is_authenticated else None,
        data_encrypted=encrypt_json({}),
        expires_at=timezone.now() + timedelta(days=settings.FORM_DRAFT_DAYS),
    )


def draft_data(draft: FormDraft) -> dict[str, Any]:
    data = decrypt_json(draft.data_encrypted)
    return data if isinstance(data, dict) else {}


def draft_save_step(
    *, draft: FormDraft, values: dict[str, Any], field_ids: set[str], step_reached: int
) -> FormDraft:
    """Store the values of one step (replacing that step's fields), encrypted."""
    data = {k: v for k, v in draft_data(draft).items() if k not in field_ids}
    data.update(values)
    draft.data_encrypted = encrypt_json(data)
    draft.step_reached = max(draft.step_reached, step_reached)
    draft.expires_at = timezone.now() + timedelta(days=settings.FORM_DRAFT_DAYS)
    draft.save(update_fields=["data_encrypted", "step_reached", "expires_at", "updated_at"])
    return draft


def draft_attach_upload(*, draft: FormDraft, spec: FieldSpec, file: UploadedFile) -> dict[str, Any]:
    """Check a file against its field's limits and store it for the draft; the value to keep."""
    token, meta = check_and_store(file, max_bytes=spec.max_bytes, media_types=spec.media_types)
    Upload.objects.create(draft=draft, field_id=spec.id, token=token, **meta)
    return {
        "upload": f"upload:{token}",
        **{k: meta[k] for k in ("filename", "content_type", "size")},
    }


RESUME_SALT = "rathaus.forms.resume"


def draft_resume_token(*, draft: FormDraft) -> str:
    """A signed link token that opens this draft and nothing else, valid as long as drafts are
    kept (RATHAUS_FORM_DRAFT_DAYS)."""
    return signing.dumps({"d": draft.pk, "k": draft.token[:12]}, salt=RESUME_SALT, compress=True)


def draft_from_resume_token(*, token: str) -> FormDraft | None:
    try:
        data = signing.loads(token, salt=RESUME_SALT, max_age=settings.FORM_DRAFT_DAYS * 86400)
    except signing.BadSignature:
        return None
    draft = (
        FormDraft.objects.select_related("version__form")
        .filter(pk=int(data.get("d") or 0), expires_at__gt=timezone.now())
        .first()
    )
    if draft is None or draft.token[:12] != data.get("k"):
        return None
    return draft


def draft_send_resume_link(*, draft: FormDraft, email: str, language: str) -> None:
    """Queue the e-mail with the resume link (the address is kept encrypted in the outbox)."""
    with transaction.atomic():
        outbox_message_create(
            topic="forms.resume_link",
            payload={"draft_id": draft.pk, "email": encrypt_json(email), "language": language},
            idempotency_key=f"resume:{draft.pk}:{secrets.token_hex(8)}",
            max_attempts=5,
        )


def draft_finish(*, draft: FormDraft, kept_tokens: set[str]) -> None:
    """A draft that became a submission: its files named in ``kept_tokens`` now belong to the
    submission (their rows go, the files stay); the others are deleted once this commits."""
    uploads = list(Upload.objects.filter(draft=draft))
    unused = [u.token for u in uploads if u.token not in kept_tokens]
    Upload.objects.filter(draft=draft).delete()
    draft.delete()

    def remove_files() -> None:
        for token in unused:
            upload_delete(token)

    transaction.on_commit(remove_files, robust=True)


def drafts_delete_expired() -> int:
    """Drafts past their expiry, with their files (run by the worker)."""
    expired = FormDraft.objects.filter(expires_at__lte=timezone.now())
    for upload in Upload.objects.filter(draft__in=expired):
        upload_delete(upload.token)
    deleted, _ = expired.delete()
    return deleted


def postcodes_import(
    *, path: Path, country: str = "DE", progress: Callable[[int], None] | None = None
) -> PostcodeReport:
    """Add the postcodes and places of a GeoNames-format file; all or nothing, idempotent
    (what is already there stays, so the demo city's list and a full national list combine)."""
    report = PostcodeReport()
    with transaction.atomic():
        pairs = set(read_pairs(path, report, country=country, progress=progress))
        existing = set(PostalPlace.objects.values_list("postcode", "place"))
        new = sorted(pairs - existing)
        PostalPlace.objects.bulk_create(
            [PostalPlace(postcode=code, place=place) for code, place in new], batch_size=2000
        )
        report.created = len(new)
        report.unchanged = len(pairs) - len(new)
    return report
