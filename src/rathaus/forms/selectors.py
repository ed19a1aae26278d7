"""Reads of the form engine: published forms, their versions, a visitor's draft."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.catalog.models import Service
from rathaus.core.recent import Recent
from rathaus.forms.constants import VersionStatus
from rathaus.forms.definition import FieldSpec, FormDefinition, fields_of
from rathaus.forms.models import Form, FormDraft, FormVersion, PostalPlace, Upload

_published_versions: dict[tuple[int, object], FormVersion] = {}


_current_versions: Recent[tuple[int, object] | None] = Recent(seconds=5)


def form_published_version(*, slug: str) -> FormVersion:
    """The current (latest published) version of a form; 404 when there is none. A published
    version never changes: its definition and schema (large JSON) are read once per process.
    Which version is current is asked at most every 5 seconds per process; a submission
    checks it again as it is written (``version_still_current``), and publishing forgets it."""
    current = _current_versions.get(
        slug,
        lambda: (
            FormVersion.objects.filter(form__slug=slug, status=VersionStatus.PUBLISHED)
            .order_by("-number")
            .values_list("pk", "published_at")
            .first()
        ),
    )
    if current is None:
        raise Http404
    version = _published_versions.get(current)
    if version is None:
        version = FormVersion.objects.select_related("form").get(pk=current[0])
        _published_versions[current] = version
    return version


def forget_current_version(slug: str) -> None:
    """A version of the form was just published: ask again which one is current."""
    _current_versions.forget(slug)


def version_still_current(version: FormVersion) -> tuple[str, list[Any]]:
    """An SQL condition with its parameters: ``version`` is still published and no newer
    version of its form has been published. For the statement that writes a submission
    (core.inserts ``only_if``), so that an answer ``form_published_version`` kept for a few
    seconds cannot let one in. (One look at the form's versions: cheaper to plan than MAX.)"""
    meta, qn = FormVersion._meta, connection.ops.quote_name
    columns = {field.name: qn(field.column) for field in meta.concrete_fields}
    pk, form, number, status = (columns[name] for name in ("id", "form", "number", "status"))
    sql = (
        f"NOT EXISTS (SELECT 1 FROM {qn(meta.db_table)} "  # noqa: S608 - names from the model
        f"WHERE {form} = %s AND ({status} = %s AND {number} > %s OR {pk} = %s AND {status} <> %s))"
    )
    published = VersionStatus.PUBLISHED.value
    return sql, [version.form_id, published, version.number, version.pk, published]


def form_list_published() -> QuerySet[Form]:
    return (
        Form.objects.filter(versions__status=VersionStatus.PUBLISHED)
        .distinct()
        .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("leika_key")))
        .order_by("slug")
    )


_published_definitions: dict[tuple[int, object], FormDefinition] = {}


def definition_of(version: FormVersion) -> FormDefinition:
    """The definition of a version; a published one is parsed once per process (it never
    changes), a draft every time (staff may just have edited it)."""
    if version.status != VersionStatus.PUBLISHED:
        return FormDefinition.model_validate(version.definition)
    key = (version.pk, version.published_at)  # never the same for two versions
    cached = _published_definitions.get(key)
    if cached is None:
        cached = FormDefinition.model_validate(version.definition)
        _published_definitions[key] = cached
    return cached


@dataclass(frozen=True)
class VersionFacts:
    """What request handling asks of a definition again and again, worked out once."""

    specs: dict[str, FieldSpec]  # every field by id
    email_field: str | None  # the first top-level e-mail field (where confirmations go)
    has_files: bool


_version_facts: dict[tuple[int, object], VersionFacts] = {}


def version_facts(version: FormVersion) -> VersionFacts:
    key = (version.pk, version.published_at)
    facts = _version_facts.get(key) if version.status == VersionStatus.PUBLISHED else None
    if facts is None:
        definition = definition_of(version)
        fields = fields_of(definition)
        top_level = {
            item.id for step in definition.steps for item in step.items if item.kind == "field"
        }
        facts = VersionFacts(
            specs={spec.id: spec for spec in fields},
            email_field=next(
                (f.id for f in fields if f.type == "email" and f.id in top_level), None
            ),
            has_files=any(spec.type == "file" for spec in fields),
        )
        if version.status == VersionStatus.PUBLISHED:
            _version_facts[key] = facts
    return facts


def drafts_for_user(*, user: User | AnonymousUser) -> QuerySet[FormDraft]:
    """The drafts of a logged-in person, newest first."""
    if not user.is_authenticated:
        return FormDraft.objects.none()
    return (
        FormDraft.objects.filter(user=user, expires_at__gt=timezone.now())
        .select_related("version__form")
        .order_by("-updated_at")
    )


def draft_get_for_user(*, user: User | AnonymousUser, draft_id: int) -> FormDraft:
    """The gate for drafts: 404 unless the draft is the logged-in person's own."""
    draft = drafts_for_user(user=user).filter(pk=draft_id).first()
    if draft is None:
        raise Http404
    return draft


def draft_for_token(*, token: str | None, version: FormVersion) -> FormDraft | None:
    """The visitor's draft of this version (by the token in their session), if still valid."""
    if not token:
        return None
    return FormDraft.objects.filter(
        token=token, version=version, expires_at__gt=timezone.now()
    ).first()


def places_for_postcode(postcode: str) -> list[str]:
    """The places a German postcode serves, alphabetically (none for an unknown postcode)."""
    if len(postcode) != 5 or not postcode.isdigit():
        return []
    return list(
        PostalPlace.objects.filter(postcode=postcode)
        .order_by("place")
        .values_list("place", flat=True)[:20]
    )


def draft_upload_values(*, draft: FormDraft) -> dict[str, dict[str, Any]]:
    """The files attached to a draft, as the values a file field keeps, by reference."""
    return {
        f"upload:{upload.token}": {
            "upload": f"upload:{upload.token}",
            "filename": upload.filename,
            "content_type": upload.content_type,
            "size": upload.size,
        }
        for upload in Upload.objects.filter(draft=draft)
    }


def for_schema(data: dict[str, Any]) -> dict[str, Any]:
    """Draft values as the JSON Schema (and a submission) has them: files by their reference."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict) and "upload" in value:
            return value["upload"]
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    return {key: convert(value) for key, value in data.items()}
