"""Hand-over to the office's systems. ``export_submission`` shapes a submission like a
FIT-Connect submission: metadata (valid against FIT-Connect's metadata schema 1.0.0) with the
SHA-512 of the data and of each attachment, the data as JSON keyed by FIM field ids, and the
attachments (the receipt as ``form``, the citizen's uploads as ``attachment``). The pull API,
the webhooks and the FIT-Connect plugin all hand over this one shape."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from rathaus.core.jsondata import substitute
from rathaus.forms.definition import FieldSpec, FormDefinition, Group, Item
from rathaus.forms.selectors import definition_of
from rathaus.forms.uploads import read_upload
from rathaus.submissions.models import Submission
from rathaus.submissions.official import has_official_form, official_form_pdf
from rathaus.submissions.receipt import receipt_pdf
from rathaus.submissions.selectors import submission_data, submission_email

SCHEMA_URI = "{site}/api/v1/forms/{slug}"


@dataclass(frozen=True)
class ExportedFile:
    attachment_id: str
    filename: str
    mime_type: str
    purpose: str  # form | attachment | report
    content: bytes


@dataclass(frozen=True)
class SubmissionExport:
    reference: str
    metadata: dict[str, Any]
    data: bytes  # JSON, keyed by FIM field ids
    files: list[ExportedFile]


def _stable_id(submission: Submission, name: str) -> str:
    """The same attachment gets the same UUID in every export (fetch again, retry)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rathaus:{submission.reference}:{name}"))


def by_fim_ids(items: list[Item], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each field and group under its FIM id (our id where it has none, or where
    FIM uses the same id twice in one place)."""
    out: dict[str, Any] = {}

    def put(item: FieldSpec | Group, value: Any) -> None:
        key = item.fim_id if item.fim_id and item.fim_id not in out else item.id
        out[key] = value

    for item in items:
        if isinstance(item, Group) and item.repeat is None:
            out.update({k: v for k, v in by_fim_ids(item.items, data).items() if k not in out})
        elif isinstance(item, Group) and item.id in data:
            put(item, [by_fim_ids(item.items, entry) for entry in data[item.id]])
        elif isinstance(item, FieldSpec) and item.id in data:
            put(item, data[item.id])
    return out


def _fim_data(definition: FormDefinition, data: dict[str, Any]) -> dict[str, Any]:
    return by_fim_ids([item for step in definition.steps for item in step.items], data)


def _hash(content: bytes) -> dict[str, str]:
    return {"type": "sha512", "content": hashlib.sha512(content).hexdigest()}


def file_ids(submission: Submission) -> list[str]:
    """The attachment ids of a submission's export, in order: receipt, official form (where
    the service has one), the citizen's uploads."""
    ids = [_stable_id(submission, "receipt")]
    if has_official_form(submission):
        ids.append(_stable_id(submission, "official-form"))
    return ids + [_stable_id(submission, a.token) for a in submission.attachments.all()]


def exported_file(submission: Submission, attachment_id: str) -> ExportedFile:
    """One file of the export, made or read only when asked for (KeyError if unknown)."""
    reference = submission.reference
    if attachment_id == _stable_id(submission, "receipt"):
        return ExportedFile(
            attachment_id,
            f"eingangsbestaetigung-{reference}.pdf",
            "application/pdf",
            "form",
            receipt_pdf(submission),
        )
    if attachment_id == _stable_id(submission, "official-form"):
        official = official_form_pdf(submission)
        if official is not None:
            return ExportedFile(
                attachment_id, f"formular-{reference}.pdf", "application/pdf", "report", official
            )
    for attachment in submission.attachments.all():
        if attachment_id == _stable_id(submission, attachment.token):
            return ExportedFile(
                attachment_id,
                attachment.filename,
                attachment.content_type,
                "attachment",
                read_upload(attachment.token),
            )
    raise KeyError(attachment_id)


def export_submission(submission: Submission) -> SubmissionExport:
    definition = definition_of(submission.version)
    attachment_ids = {
        f"upload:{a.token}": _stable_id(submission, a.token) for a in submission.attachments.all()
    }
    data = substitute(submission_data(submission), attachment_ids)  # files by attachment id
    body = json.dumps(_fim_data(definition, data), ensure_ascii=False, sort_keys=True).encode()
    files = [exported_file(submission, attachment_id) for attachment_id in file_ids(submission)]
    metadata: dict[str, Any] = {
        "contentStructure": {
            "data": {
                "hash": _hash(body),
                "submissionSchema": {
                    "schemaUri": SCHEMA_URI.format(
                        site=settings.SITE_URL.rstrip("/"), slug=submission.version.form.slug
                    ),
                    "mimeType": "application/json",
                },
            },
            "attachments": [
                {
                    "hash": _hash(f.content),
                    "purpose": f.purpose,
                    "filename": f.filename,
                    "mimeType": f.mime_type,
                    "attachmentId": f.attachment_id,
                }
                for f in files
            ],
        },
        "additionalReferenceInfo": {
            "senderReference": submission.reference,
            "applicationDate": timezone.localtime(submission.submitted_at).date().isoformat(),
        },
    }
    if submission.service is not None:
        metadata["publicServiceType"] = {
            "name": submission.service.name,
            "identifier": f"urn:de:fim:leika:leistung:{submission.service.leika_key}",
        }
    email = submission_email(submission)
    if email:
        metadata["replyChannel"] = {"eMail": {"address": email}}
    return SubmissionExport(
        reference=submission.reference, metadata=metadata, data=body, files=files
    )
