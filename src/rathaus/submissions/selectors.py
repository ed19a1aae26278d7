"""Reads of submissions: the gates (by status link, by account) and decrypted views."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from rathaus.accounts.models import User
from rathaus.core.crypto import decrypt_json
from rathaus.submissions.models import ApiToken, Submission
from rathaus.submissions.references import normalise


def submission_data(submission: Submission) -> dict[str, Any]:
    data: dict[str, Any] = decrypt_json(submission.data_encrypted)
    return data


def submission_status_code(submission: Submission) -> str:
    """The secret of the status link; empty once retention anonymised the submission.
    Decrypted once per loaded submission (pages show it in several links)."""
    encrypted = submission.status_code_encrypted
    if not encrypted:
        return ""
    known = submission.__dict__.get(_STATUS_CODE)
    if known is None or known[0] != encrypted:
        known = (encrypted, str(decrypt_json(encrypted)))
        status_code_known(submission, known[1])
    return known[1]


_STATUS_CODE = "_status_code"  # (the ciphertext, the code) on the instance


def status_code_known(submission: Submission, code: str) -> None:
    """Remember the plain code on the instance: who just encrypted it need not decrypt it."""
    submission.__dict__[_STATUS_CODE] = (submission.status_code_encrypted, code)


def submission_by_reference(reference: str) -> Submission | None:
    """The submission an outbox message names (None once retention deleted it); for
    handlers, not a permission gate."""
    return (
        Submission.objects.select_related("version__form", "service", "office")
        .filter(reference=reference)
        .first()
    )


def submission_email(submission: Submission) -> str:
    return str(decrypt_json(submission.email_encrypted)) if submission.email_encrypted else ""


def submission_by_status_link(*, reference: str, code: str) -> Submission | None:
    """The gate for the status link: the submission only when both the reference number and
    its secret code match (compared in constant time); None otherwise, whichever was wrong."""
    normalised = normalise(reference)
    if normalised is None or not code:
        return None
    submission = (
        Submission.objects.select_related("version__form", "service", "office")
        .filter(reference=normalised)
        .first()
    )
    if submission is None:
        return None
    expected = submission_status_code(submission)
    if not expected or not hmac.compare_digest(expected.encode(), code.strip().encode()):
        return None
    return submission


def submissions_for_user(*, user: User | AnonymousUser) -> QuerySet[Submission]:
    if not user.is_authenticated:
        return Submission.objects.none()
    return (
        Submission.objects.filter(user=user)
        .select_related("version__form", "service")
        .order_by("-submitted_at")
    )


def submission_get_for_user(*, user: User | AnonymousUser, reference: str) -> Submission:
    """The gate for the account: 404 unless the submission is the logged-in person's own."""
    submission = submissions_for_user(user=user).filter(reference=reference).first()
    if submission is None:
        raise Http404
    return submission


def submission_timeline(submission: Submission) -> list[dict[str, Any]]:
    """The citizen's timeline: each status with its date and the office's message."""
    return [
        {
            "status": event.status,
            "label": event.get_status_display(),
            "at": event.at,
            "message": decrypt_json(event.message_encrypted) if event.message_encrypted else "",
        }
        for event in submission.events.all()
    ]


def submission_released_documents(submission: Submission) -> QuerySet[Any]:
    return submission.documents.filter(released_at__isnull=False)


def api_token_by_secret(token: str) -> ApiToken | None:
    """The gate of the pull API: the live token with this secret (compared by its SHA-256)."""
    if not token.startswith("rh_") or len(token) > 100:
        return None
    return (
        ApiToken.objects.select_related("office")
        .filter(token_hash=hashlib.sha256(token.encode()).hexdigest(), revoked_at__isnull=True)
        .first()
    )


def submissions_for_office(*, office_id: int, only_new: bool) -> QuerySet[Submission]:
    found = Submission.objects.filter(office_id=office_id, anonymised_at__isnull=True)
    if only_new:
        found = found.filter(acknowledged_at__isnull=True)
    return found.select_related("version__form", "service").order_by("submitted_at", "pk")


def submission_for_office(*, office_id: int, reference: str) -> Submission:
    """The gate for one submission in the pull API: 404 unless it is this office's."""
    found = (
        submissions_for_office(office_id=office_id, only_new=False)
        .filter(reference=reference)
        .first()
    )
    if found is None:
        raise Http404
    return found
