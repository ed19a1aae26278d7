"""The forms API: published forms with their services, and one form's definition and JSON
Schema, so that other front-ends (a city app, a kiosk) render the same forms."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema

from rathaus.forms.models import Form
from rathaus.forms.selectors import form_list_published, form_published_version

router = Router(tags=["forms"])


class FormBrief(Schema):
    slug: str
    title: str
    services: list[str]  # LeiKa keys

    @staticmethod
    def resolve_services(obj: Form) -> list[str]:
        return [service.leika_key for service in obj.services.all()]


class FormOut(Schema):
    slug: str
    title: str
    version: int
    published_at: str
    services: list[str]
    definition: dict[str, Any]
    data_schema: dict[str, Any]  # JSON Schema (2020-12) of the submission data


@router.get("/forms", response=list[FormBrief])
def list_forms(request: HttpRequest) -> QuerySet[Form]:
    """Published forms with the LeiKa keys of their services."""
    return form_list_published()


@router.get("/forms/{slug}", response=FormOut)
def get_form(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The published version of a form: its definition (format rathaus-form/1, docs/forms.md)
    and the JSON Schema its submission data must meet."""
    version = form_published_version(slug=slug)
    return {
        "slug": version.form.slug,
        "title": version.form.title,
        "version": version.number,
        "published_at": version.published_at.isoformat() if version.published_at else "",
        "services": [s.leika_key for s in version.form.services.order_by("leika_key")],
        "definition": version.definition,
        "data_schema": version.json_schema,
    }
