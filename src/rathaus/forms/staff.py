"""The staff area of the form engine (/verwaltung/formulare/): import a FIM file, edit a
draft's texts, required flags and order, preview it exactly as citizens see it, and publish
after seeing the differences to the last published version. Department staff only."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from rathaus.accounts.views import second_factor_required
from rathaus.forms import editing, rendering
from rathaus.forms.constants import VersionStatus
from rathaus.forms.definition import FormDefinition
from rathaus.forms.fim import FimImportError
from rathaus.forms.models import Form, FormVersion
from rathaus.forms.services import form_draft_save, form_import_fim, form_version_publish

MAX_IMPORT_BYTES = 20 * 1024 * 1024


def staff_only(view: Any) -> Any:
    return login_required(
        second_factor_required(permission_required("forms.change_form", raise_exception=True)(view))
    )


def _draft(slug: str) -> FormVersion:
    from django.http import Http404

    version = (
        FormVersion.objects.select_related("form")
        .filter(form__slug=slug, status=VersionStatus.DRAFT)
        .first()
    )
    if version is None:
        raise Http404
    return version


def _published(form: Form) -> FormVersion | None:
    return form.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


@staff_only
@require_safe
def form_list(request: HttpRequest) -> HttpResponse:
    forms = Form.objects.prefetch_related("versions").order_by("title")
    return render(request, "forms/staff/list.html", {"forms": forms})


@staff_only
@require_http_methods(["GET", "POST"])
def fim_upload(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        files = request.FILES.getlist("files")
        schema = next(
            (f for f in files if (f.name or "").startswith("S")), files[0] if files else None
        )
        if schema is None:
            error = _("Bitte wählen Sie die XML-Datei des Stammdatenschemas aus.")
        elif sum(f.size or 0 for f in files) > MAX_IMPORT_BYTES:
            error = _("Die Dateien sind zusammen zu groß.")
        else:
            with tempfile.TemporaryDirectory() as folder:
                for upload in files:  # the schema and its code lists side by side
                    target = Path(folder) / get_valid_filename(
                        Path(upload.name or "datei.xml").name
                    )
                    with target.open("wb") as out:
                        for chunk in upload.chunks():
                            out.write(chunk)
                try:
                    version, report = form_import_fim(
                        path=Path(folder) / get_valid_filename(Path(schema.name or "").name),
                        actor=request.user,  # type: ignore[arg-type]
                    )
                except FimImportError as exc:
                    error = str(exc)
                else:
                    messages.success(
                        request,
                        _("Importiert: %(fields)d Felder, %(unmapped)d Hinweise im Importbericht.")
                        % {"fields": report.fields, "unmapped": len(report.unmapped)},
                    )
                    return redirect("forms_staff:edit", slug=version.form.slug)
    return render(
        request, "forms/staff/upload.html", {"error": error}, status=400 if error else 200
    )


@staff_only
@require_http_methods(["GET", "POST"])
def draft_edit(request: HttpRequest, slug: str) -> HttpResponse:
    version = _draft(slug)
    definition = FormDefinition.model_validate(version.definition)
    if request.method == "POST":
        edits: dict[str, dict[str, Any]] = {}
        for row in editing.rows(definition):
            prefix = f"item-{row.id}-"
            edits[row.id] = {
                "label_de": request.POST.get(prefix + "label_de", row.label_de).strip(),
                "label_en": request.POST.get(prefix + "label_en", row.label_en).strip(),
                "help_de": request.POST.get(prefix + "help_de", row.help_de).strip(),
                "help_en": request.POST.get(prefix + "help_en", row.help_en).strip(),
                "position": request.POST.get(prefix + "position", row.position),
            }
            if row.required is not None:
                edits[row.id]["required"] = request.POST.get(prefix + "required") == "on"
        try:
            edited = editing.apply_edits(definition, edits)
        except ValueError as exc:
            messages.error(request, _("Nicht gespeichert: %(reason)s") % {"reason": str(exc)[:300]})
        else:
            form_draft_save(
                form=version.form,
                definition=edited,
                actor=request.user,  # type: ignore[arg-type]
                source=version.source,
            )
            messages.success(request, _("Der Entwurf ist gespeichert."))
            return redirect("forms_staff:edit", slug=slug)
    return render(
        request,
        "forms/staff/edit.html",
        {
            "version": version,
            "rows": editing.rows(definition),
            "report": version.import_report or {},
        },
    )


@staff_only
@require_safe
def draft_preview(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The draft's step exactly as citizens will see it (nothing can be sent from here)."""
    version = _draft(slug)
    definition = FormDefinition.model_validate(version.definition)
    number = max(1, min(number, len(definition.steps)))
    step = definition.steps[number - 1]
    nodes = rendering.build(step.items, definition, {}, None, {}, {})
    return render(
        request,
        "forms/step.html",
        {
            "version": version,
            "title": rendering.text(definition.title),
            "step_title": rendering.text(step.title),
            "number": number,
            "total": len(definition.steps),
            "nodes": nodes,
            "errors": [],
            "preview": True,
        },
    )


@staff_only
@require_http_methods(["GET", "POST"])
def draft_publish(request: HttpRequest, slug: str) -> HttpResponse:
    version = _draft(slug)
    published = _published(version.form)
    old = FormDefinition.model_validate(published.definition) if published else None
    changes = editing.differences(old, FormDefinition.model_validate(version.definition))
    if request.method == "POST":
        form_version_publish(version=version, actor=request.user)  # type: ignore[arg-type]
        messages.success(
            request, _("Version %(number)d ist veröffentlicht.") % {"number": version.number}
        )
        return redirect("forms_staff:list")
    return render(
        request,
        "forms/staff/publish.html",
        {"version": version, "published": published, "changes": changes},
    )
