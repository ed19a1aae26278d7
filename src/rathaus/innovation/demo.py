"""The demo city's competition (``rathaus seed-demo``): the "Smart City Challenge Leipzig"
with a concept phase open now (its entry form a small form of the form engine) and a pitch
phase after it, published with its criteria and a jury of the demo jury member and the
department's demo account. Idempotent: a second run creates nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.economy.selectors.directory import (
    DirectoryFilters,
    organisation_names,
    organisation_search_ids,
)
from rathaus.forms.definition import FormDefinition
from rathaus.forms.models import Form
from rathaus.forms.services import form_draft_save, form_version_publish
from rathaus.innovation.constants import AdvanceRule, Scale, TieBreak
from rathaus.innovation.models import Call
from rathaus.innovation.services import calls

SLUG = "smart-city-challenge-leipzig"
ORGANISER = "Referat Digitale Stadt"  # an organisation of the economy app's demo data
FORM_SLUG = "wettbewerb-konzept"
CONCEPT_FORM = {
    "title": {"de": "Konzept", "en": "Concept"},
    "steps": [
        {
            "id": "konzept",
            "title": {"de": "Ihr Konzept", "en": "Your concept"},
            "items": [
                {
                    "kind": "field",
                    "id": "idee",
                    "type": "textarea",
                    "label": {"de": "Ihre Idee in wenigen Sätzen", "en": "Your idea in brief"},
                    "required": True,
                    "max_length": 2000,
                },
                {
                    "kind": "field",
                    "id": "pilot",
                    "type": "textarea",
                    "label": {
                        "de": "Was würden Sie in einem Pilotprojekt mit der Stadt zeigen?",
                        "en": "What would you show in a pilot with the city?",
                    },
                    "max_length": 2000,
                },
            ],
        }
    ],
}


def _entry_form(staff: User | None) -> str:
    if Form.objects.filter(slug=FORM_SLUG).exists():
        return FORM_SLUG
    form = Form.objects.create(slug=FORM_SLUG, title="Wettbewerb: Konzept")
    version = form_draft_save(
        form=form, definition=FormDefinition.model_validate(CONCEPT_FORM), actor=staff
    )
    form_version_publish(version=version, actor=staff)
    return FORM_SLUG


def load(*, staff: User | None, jury: list[tuple[User, str, str]]) -> dict[str, int]:
    """The demo call (if it is not there yet); counts of what was created."""
    created = {"calls": 0, "phases": 0, "criteria": 0, "jury members": 0}
    if staff is None or Call.objects.filter(slug=SLUG).exists():
        return created
    _query, found = organisation_search_ids(query=ORGANISER, filters=DirectoryFilters())
    organisers = [
        pk
        for pk, (name, _slug) in organisation_names(organisation_ids=found[:10]).items()
        if name == ORGANISER
    ]
    call = calls.call_create(
        actor=staff,
        data=calls.CallData(
            title="Smart City Challenge Leipzig",
            title_en="Smart City Challenge Leipzig",
            challenge=(
                "Wie finden Menschen in Leipzig freie Ladesäulen, Carsharing-Autos und "
                "Fahrradbügel, ohne drei Apps zu öffnen? Gesucht sind Ideen, die offene Daten "
                "der Stadt nutzen und im Alltag wirklich helfen."
            ),
            challenge_en=(
                "How can people in Leipzig find free charging points, car-sharing cars and "
                "bike racks without opening three apps? We look for ideas that use the city's "
                "open data and really help every day."
            ),
            organiser_ids=organisers,
            prize="Ein Pilotprojekt mit der Stadt Leipzig für die beste Idee.",
            budget_euros=50000,
            eligibility="Unternehmen, Start-ups und Forschungseinrichtungen aus Sachsen.",
            terms="Die Rechte an den Beiträgen bleiben bei den Teilnehmenden.",
            tie_break=TieBreak.CRITERIA_ORDER,
            evaluators_per_entry=2,
            disagreement_spread=Decimal(25),
        ),
    )
    created["calls"] = 1
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    concept = calls.phase_save(
        actor=staff,
        call_id=call.pk,
        data=calls.PhaseData(
            name="Konzept",
            name_en="Concept",
            opens_at=now - timedelta(days=7),
            closes_at=now + timedelta(days=30),
            evaluation_due_at=now + timedelta(days=44),
            entry_form=_entry_form(staff),
            advance_rule=AdvanceRule.TOP_N,
            advance_count=5,
        ),
    )
    pitch = calls.phase_save(
        actor=staff,
        call_id=call.pk,
        data=calls.PhaseData(
            name="Pitch",
            name_en="Pitch",
            opens_at=now + timedelta(days=45),
            closes_at=now + timedelta(days=60),
            evaluation_due_at=now + timedelta(days=61),
            advance_rule=AdvanceRule.TOP_N,
            advance_count=1,
        ),
    )
    created["phases"] = 2
    for phase, criteria in (
        (
            concept,
            [
                ("Nutzen für die Stadt", "Benefit for the city", Scale.HALF_POINTS, 40, None),
                ("Machbarkeit", "Feasibility", Scale.HALF_POINTS, 25, None),
                ("Nutzung offener Daten", "Use of open data", Scale.POINTS, 25, None),
                # a knock-out: without it, no entry passes however good the rest is
                ("Barrierefreiheit bedacht", "Accessibility considered", Scale.YES_NO, 10, 1),
            ],
        ),
        (
            pitch,
            [
                ("Überzeugung im Pitch", "Pitch", Scale.HALF_POINTS, 50, None),
                ("Plan für den Piloten", "Pilot plan", Scale.HALF_POINTS, 50, None),
            ],
        ),
    ):
        for name, name_en, scale, weight, threshold in criteria:
            calls.criterion_save(
                actor=staff,
                phase_id=phase.pk,
                data=calls.CriterionData(
                    name=name,
                    name_en=name_en,
                    scale=scale,
                    weight=Decimal(weight),
                    max_points=10,
                    threshold=Decimal(threshold) if threshold is not None else None,
                ),
            )
            created["criteria"] += 1
    for user, public_name, public_role in jury:
        calls.jury_member_save(
            actor=staff,
            call_id=call.pk,
            data=calls.JuryData(user=user, public_name=public_name, public_role=public_role),
        )
        created["jury members"] += 1
    calls.call_publish(actor=staff, call_id=call.pk)
    return created
