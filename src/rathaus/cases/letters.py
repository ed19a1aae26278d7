"""Decision letters (Bescheide): a template's text with its placeholders filled in, set into
the letter layout (``pdf/decision.typ``) as a PDF/A-3b document, in the submission's
language for the fixed parts. Reads and rendering only; issuing is
``services.case_decide``."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.cases.constants import Decision
from rathaus.cases.models import Case, LetterTemplate
from rathaus.cases.selectors import case_applicant
from rathaus.cases.services import CaseRefused
from rathaus.core.pdf import render_pdf

TEMPLATE = Path(__file__).resolve().parent / "pdf" / "decision.typ"
PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]*)\s*\}\}")
PLACEHOLDERS = {
    "antragsteller": gettext_lazy("Name der antragstellenden Person"),
    "aktenzeichen": gettext_lazy("Aktenzeichen"),
    "leistung": gettext_lazy("Leistung"),
    "stelle": gettext_lazy("zuständige Stelle"),
    "entscheidung": gettext_lazy("Entscheidung (bewilligt, teilweise bewilligt, abgelehnt)"),
    "begruendung": gettext_lazy("der Entscheidungstext aus dem Vorgang"),
    "datum": gettext_lazy("Datum des Bescheids"),
    "eingang": gettext_lazy("Datum des Antrags"),
}
MAX_TEXT = 20_000


def _named(names: list[str]) -> str:
    return ", ".join("{{ " + name + " }}" for name in names)


def placeholders_check(body: str) -> None:
    """Refuse a template with a placeholder we do not know (a typo would otherwise print
    "{{ antragstelller }}" into a letter), or without ``{{ begruendung }}`` (the
    caseworker's text would appear nowhere)."""
    found = set(PLACEHOLDER.findall(body))
    unknown = sorted(name for name in found if name not in PLACEHOLDERS)
    if "begruendung" not in found and not unknown:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            gettext_lazy(
                "Die Vorlage braucht den Platzhalter {{ begruendung }} für den Entscheidungstext."
            )
        )
    if unknown:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            gettext_lazy(
                "Unbekannter Platzhalter in der Vorlage: %(names)s. Erlaubt sind: %(allowed)s."
            ),
            params={
                "names": _named(unknown),
                "allowed": _named(list(PLACEHOLDERS)),
            },
        )


def letter_templates(*, case: Case) -> QuerySet[LetterTemplate]:
    """The templates a case may use: its office's, for its service or for all services."""
    return LetterTemplate.objects.filter(office_id=case.office_id).filter(
        Q(service__isnull=True) | Q(service_id=case.service_id)
    )


def fee_range(case: Case) -> tuple[Decimal, Decimal] | None:
    """The service's fee (lowest, highest), or None when it charges none."""
    service = case.service
    if service is None or (not service.fee_min and not service.fee_max):
        return None
    low = service.fee_min or Decimal(0)
    return low, max(service.fee_max or low, low)


def letter_pdf(
    *,
    case: Case,
    template: LetterTemplate,
    decision: str,
    text: str,
    fee: Decimal | None,
) -> bytes:
    """The letter as PDF/A; ``CaseRefused`` for an unknown placeholder, a decision that is
    not one, an empty or overlong text, or a fee the service does not allow."""
    if decision not in Decision.values:
        raise CaseRefused(gettext_lazy("Bitte wählen Sie eine Entscheidung."))
    text = text.strip()
    if not text:
        raise CaseRefused(gettext_lazy("Bitte schreiben Sie den Entscheidungstext."))
    if len(text) > MAX_TEXT:
        raise CaseRefused(
            gettext_lazy("Der Entscheidungstext darf höchstens %(max)s Zeichen lang sein."),
            max=MAX_TEXT,
        )
    unknown = [n for n in PLACEHOLDER.findall(template.body) if n not in PLACEHOLDERS]
    if unknown:
        raise CaseRefused(
            gettext_lazy(
                "Die Vorlage „%(name)s“ enthält einen unbekannten Platzhalter: %(names)s. "
                "Bitte lassen Sie die Vorlage berichtigen."
            ),
            name=template.name,
            names=_named(unknown),
        )
    if "begruendung" not in PLACEHOLDER.findall(template.body):
        raise CaseRefused(
            gettext_lazy(
                "Die Vorlage „%(name)s“ enthält den Platzhalter {{ begruendung }} nicht. "
                "Bitte lassen Sie die Vorlage berichtigen."
            ),
            name=template.name,
        )
    allowed = fee_range(case)
    if fee is not None and (allowed is None or not allowed[0] <= fee <= allowed[1]):
        if allowed is None:
            raise CaseRefused(gettext_lazy("Für diese Leistung wird keine Gebühr erhoben."))
        raise CaseRefused(
            gettext_lazy("Die Gebühr muss zwischen %(low)s € und %(high)s € liegen."),
            low=formats.number_format(allowed[0], 2),
            high=formats.number_format(allowed[1], 2),
        )
    if fee is None and allowed is not None and allowed[0] == allowed[1] and allowed[0]:
        fee = allowed[0]  # a fixed fee is always charged
    submission = case.submission
    language = submission.language if submission.language in ("de", "en") else "de"
    with translation.override(language):
        today = formats.date_format(timezone.localdate(), "DATE_FORMAT")
        values = {
            "antragsteller": case_applicant(case=case),
            "aktenzeichen": case.reference,
            "leistung": case.service.name if case.service else "",
            "stelle": case.office.name,
            "entscheidung": str(Decision(decision).label),
            "begruendung": text,
            "datum": today,
            "eingang": formats.date_format(timezone.localtime(case.received_at), "DATE_FORMAT"),
        }
        body = PLACEHOLDER.sub(lambda m: values[m.group(1)], template.body)
        data = {
            "lang": language,
            "title": _("Bescheid"),
            "sender": _("Stadt %(city)s") % {"city": settings.CITY_NAME},
            "office": case.office.name,
            "date": today,
            "applicant": values["antragsteller"],
            "reference": case.reference,
            "service": values["leistung"],
            "decision": values["entscheidung"],
            "paragraphs": [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()],
            "fee": None
            if fee is None
            else {
                "text": _(
                    "Für diesen Bescheid wird eine Gebühr von %(amount)s € festgesetzt%(basis)s. "
                    "Bitte überweisen Sie den Betrag innerhalb eines Monats und geben Sie "
                    "dabei das Aktenzeichen %(reference)s an."
                )
                % {
                    "amount": formats.number_format(fee, 2),
                    "basis": f" ({case.service.fee_regulation})"
                    if case.service and case.service.fee_regulation
                    else "",
                    "reference": case.reference,
                }
            },
            "labels": {
                "page": _("Seite"),
                "date": _("Datum"),
                "reference": _("Aktenzeichen"),
                "service": _("Leistung"),
                "decision": _("Entscheidung"),
                "fee_title": _("Gebührenfestsetzung"),
                "closing": _("Mit freundlichen Grüßen"),
            },
        }
    return render_pdf(TEMPLATE, data=data, created=timezone.now())
