"""The demo city's forms: Bewohnerparkausweis and Gewerbeanmeldung from FIM, "Hund anmelden"
in our own format; each published and linked to its LeiKa service. Idempotent."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from rathaus.catalog.models import Service
from rathaus.forms.constants import VersionStatus
from rathaus.forms.definition import FormDefinition
from rathaus.forms.models import Form, FormVersion
from rathaus.forms.services import form_draft_save, form_import_fim, form_version_publish

DATA = Path(__file__).resolve().parent / "data"
DEMO_FORMS = (
    (
        "bewohnerparkausweis",
        DATA / "fim-demo" / "bewohnerparken" / "S05000058V1.0_xdf2.xml",
        ("99108001001000", "99108001020000"),
    ),
    (
        "gewerbeanmeldung",
        DATA / "fim-demo" / "gewerbeanmeldung" / "S00000009_xdatenfelder.xml",
        ("99050012104000",),
    ),
    ("hund-anmelden", DATA / "hund-anmelden.json", ("99102013000000",)),
)


def load_demo_forms() -> list[str]:
    """Import, publish and link the demo forms that are not published yet; their slugs."""
    loaded: list[str] = []
    for slug, path, leika_keys in DEMO_FORMS:
        if FormVersion.objects.filter(form__slug=slug, status=VersionStatus.PUBLISHED).exists():
            continue
        with transaction.atomic():
            if path.suffix == ".json":
                definition = FormDefinition.model_validate(
                    json.loads(path.read_text(encoding="utf-8"))
                )
                form, _ = Form.objects.get_or_create(
                    slug=slug, defaults={"title": definition.title.de}
                )
                version = form_draft_save(
                    form=form, definition=definition, actor=None, source=definition.source
                )
            else:
                version, _report = form_import_fim(path=path, slug=slug)
            form_version_publish(version=version, actor=None)
            services = Service.objects.filter(leika_key__in=leika_keys)
            version.form.services.add(*services)
            services.update(
                form_url=f"/formulare/{slug}/", online_information=True, online_form=True
            )
        loaded.append(slug)
    return loaded
