"""The demo city's official form: the dog tax registration PDF (made by us, with AcroForm
fields) on the Hundesteuer service, with the mapping from the "hund-anmelden" form. Idempotent."""

from __future__ import annotations

from django.core.files.base import ContentFile

from rathaus.catalog.models import Service
from rathaus.submissions.official_demo import DOG_TAX_MAPPING, make_dog_tax_form

DOG_TAX_SERVICE = "99102013000000"


def load_demo_official_forms() -> int:
    """Attach the official form where it is missing; how many services got one."""
    service = Service.objects.filter(leika_key=DOG_TAX_SERVICE).first()
    if service is None or service.official_form:
        return 0
    service.official_form.save(
        "hundesteuer-anmeldung.pdf", ContentFile(make_dog_tax_form()), save=False
    )
    service.official_form_mapping = DOG_TAX_MAPPING
    service.save(update_fields=["official_form", "official_form_mapping", "updated_at"])
    return 1
