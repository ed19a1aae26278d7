"""Entries: a member of a published organisation enters a call for it, answers the phase's
form (checked by the form engine, stored encrypted) and submits while the phase is open;
staff check eligibility and pass entries on (by decision or by the phase's rule), and every
entrant gets the result by e-mail."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils import timezone

import rathaus.innovation.handlers  # noqa: F401 - registers the result e-mail's handler
from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.crypto import decrypt_json
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import process_batch
from rathaus.economy.constants import EntryStatus as DirectoryStatus
from rathaus.economy.tests.factories_directory import OrganisationFactory, membership
from rathaus.forms.definition import FormDefinition
from rathaus.forms.models import Form
from rathaus.forms.services import form_draft_save, form_version_publish
from rathaus.innovation.constants import (
    AdvanceRule,
    AssignmentState,
    CallStatus,
    Eligibility,
    EntryStatus,
    PhaseResult,
    Scale,
    TieBreak,
)
from rathaus.innovation.models import (
    Assignment,
    Call,
    Criterion,
    Entry,
    EntryPhase,
    JuryMember,
    Phase,
)
from rathaus.innovation.services import entries as services
from rathaus.innovation.services.entries import EntryError, TeamMember

pytestmark = pytest.mark.django_db

DEFINITION = {
    "title": {"de": "Ihre Idee", "en": "Your idea"},
    "steps": [
        {
            "id": "s1",
            "title": {"de": "Idee"},
            "items": [
                {
                    "kind": "field",
                    "id": "idee",
                    "type": "text",
                    "label": {"de": "Ihre Idee in einem Satz"},
                    "required": True,
                },
                {
                    "kind": "field",
                    "id": "budget",
                    "type": "number",
                    "label": {"de": "Benötigtes Budget in Euro"},
                    "minimum": 0,
                },
            ],
        }
    ],
}


def publish_form(slug: str = "wettbewerb-idee") -> Form:
    form = Form.objects.create(slug=slug, title="Ihre Idee")
    version = form_draft_save(
        form=form, definition=FormDefinition.model_validate(DEFINITION), actor=None
    )
    form_version_publish(version=version, actor=None)
    return form


def make_call(
    *, phases: int = 2, form: str = "wettbewerb-idee", **call_fields: Any
) -> tuple[Call, list[Phase]]:
    """A published call whose first phase is open now; later phases follow it."""
    values: dict[str, Any] = {
        "title": "Smart City Challenge",
        "slug": "smart-city-challenge",
        "status": CallStatus.PUBLISHED,
        "challenge": "Wie finden Menschen freie Ladesäulen?",
        "published_at": timezone.now(),
    }
    values.update(call_fields)
    call = Call.objects.create(**values)
    start = timezone.now() - timedelta(days=1)
    made = []
    for position in range(1, phases + 1):
        opens = start + timedelta(days=30 * (position - 1))
        phase = Phase.objects.create(
            call=call,
            position=position,
            name=["Konzept", "Pitch", "Finale"][position - 1],
            opens_at=opens,
            closes_at=opens + timedelta(days=14),
            evaluation_due_at=opens + timedelta(days=28),
            entry_form=form,
            advance_rule=AdvanceRule.TOP_N,
            advance_count=2,
        )
        for number, (name, weight) in enumerate((("Wirkung", "60"), ("Machbarkeit", "40")), 1):
            Criterion.objects.create(
                phase=phase,
                position=number,
                name=name,
                scale=Scale.POINTS,
                max_points=10,
                weight=Decimal(weight),
            )
        made.append(phase)
    return call, made


def answers(**values: str) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        data[key] = value
    return data


def member_of_new_organisation(email: str, **organisation: Any) -> tuple[Any, Any]:
    user = UserFactory(email=email)
    found = OrganisationFactory(**organisation)
    membership(user, found)
    return user, found


def submitted_entry(call: Call, email: str, title: str) -> Entry:
    user, organisation = member_of_new_organisation(email)
    entry = services.entry_create(
        actor=user,
        call_id=call.pk,
        organisation_id=organisation.pk,
        title=title,
        team=[TeamMember("Anna Schmidt", "Leitung")],
    )
    return services.entry_submit(actor=user, entry_id=entry.pk, data=answers(idee=title))


def close(phase: Phase) -> None:
    """Move the phase's deadline into the past (its entries are in)."""
    Phase.objects.filter(pk=phase.pk).update(
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(minutes=1),
    )
    phase.refresh_from_db()


def score(entry: Entry, phase: Phase, *totals: str) -> EntryPhase:
    """Submitted evaluations with these weighted totals."""
    row = EntryPhase.objects.get(entry=entry, phase=phase)
    for total in totals:
        evaluator = JuryMember.objects.create(
            call=phase.call, user=UserFactory(), public_name=f"Jury {total}"
        )
        Assignment.objects.create(
            entry_phase=row,
            evaluator=evaluator,
            state=AssignmentState.SUBMITTED,
            weighted_total=Decimal(total),
        )
    return row


@pytest.fixture
def idea_form() -> Form:
    return publish_form()


@pytest.fixture
def staff(personas: dict[str, Any]) -> Any:
    return personas["department"]


# ---- entering ------------------------------------------------------------------------------


def test_a_member_enters_submits_and_the_answers_are_stored_encrypted(idea_form: Form) -> None:
    call, (phase, _second) = make_call()
    user, organisation = member_of_new_organisation("ines@example.org")
    entry = services.entry_create(
        actor=user,
        call_id=call.pk,
        organisation_id=organisation.pk,
        title="Ladesäulen-Radar",
        team=[TeamMember("Ines Vogel", "Entwicklung"), TeamMember("Tom Berg")],
    )
    assert entry.status == EntryStatus.DRAFT and entry.current_phase == phase
    assert "Ines Vogel" not in entry.team_encrypted
    assert decrypt_json(entry.team_encrypted)[0] == {"name": "Ines Vogel", "role": "Entwicklung"}

    services.entry_submit(
        actor=user,
        entry_id=entry.pk,
        data=answers(idee="Freie Ladesäulen auf einer Karte", budget="12000"),
    )
    entry.refresh_from_db()
    row = EntryPhase.objects.get(entry=entry, phase=phase)
    assert entry.status == EntryStatus.SUBMITTED and entry.submitted_at is not None
    assert row.submitted_at is not None
    assert "Freie Ladesäulen" not in row.answers_encrypted
    stored = decrypt_json(row.answers_encrypted)
    assert stored["values"] == {"idee": "Freie Ladesäulen auf einer Karte", "budget": 12000}
    assert stored["form_version"] == idea_form.versions.get().pk
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "innovation.entry.create" in actions and "innovation.entry.submit" in actions


def test_a_missing_required_answer_is_named_and_nothing_is_submitted(idea_form: Form) -> None:
    call, (phase, _second) = make_call()
    user, organisation = member_of_new_organisation("ines@example.org")
    entry = services.entry_create(
        actor=user,
        call_id=call.pk,
        organisation_id=organisation.pk,
        title="Radar",
        team=[TeamMember("Ines Vogel")],
    )
    with pytest.raises(EntryError) as refused:
        services.entry_submit(actor=user, entry_id=entry.pk, data=answers(budget="viel"))
    assert set(refused.value.errors) == {"idee", "budget"}
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DRAFT
    assert EntryPhase.objects.get(entry=entry).submitted_at is None


def test_after_the_deadline_the_entry_is_refused_and_the_draft_is_kept(idea_form: Form) -> None:
    call, (phase, _second) = make_call()
    user, organisation = member_of_new_organisation("ines@example.org")
    entry = services.entry_create(
        actor=user,
        call_id=call.pk,
        organisation_id=organisation.pk,
        title="Radar",
        team=[TeamMember("Ines Vogel")],
    )
    services.entry_update(
        actor=user,
        entry_id=entry.pk,
        title="Radar",
        team=[TeamMember("Ines Vogel")],
        data=answers(idee="Eine Karte"),
    )
    close(phase)
    with pytest.raises(EntryError) as refused:
        services.entry_submit(actor=user, entry_id=entry.pk, data=answers(idee="Eine Karte"))
    assert refused.value.code == "deadline"
    assert str(refused.value.message).startswith("Die Einreichungsfrist ist am ")
    assert str(refused.value.message).endswith(" abgelaufen.")
    entry.refresh_from_db()
    row = EntryPhase.objects.get(entry=entry)
    assert entry.status == EntryStatus.DRAFT and row.submitted_at is None
    assert decrypt_json(row.answers_encrypted)["values"] == {"idee": "Eine Karte"}


def test_only_members_of_a_published_organisation_enter_for_it(idea_form: Form) -> None:
    call, _phases = make_call()
    _member, organisation = member_of_new_organisation("ines@example.org")
    stranger = UserFactory(email="fremd@example.org")
    with pytest.raises(EntryError) as refused:
        services.entry_create(
            actor=stranger,
            call_id=call.pk,
            organisation_id=organisation.pk,
            title="Radar",
            team=[TeamMember("X")],
        )
    assert refused.value.code == "not_member"
    pending_member, pending = member_of_new_organisation(
        "neu@example.org", status=DirectoryStatus.PENDING
    )
    with pytest.raises(EntryError) as refused:
        services.entry_create(
            actor=pending_member,
            call_id=call.pk,
            organisation_id=pending.pk,
            title="Radar",
            team=[TeamMember("X")],
        )
    assert refused.value.code == "not_published_organisation"
    assert not Entry.objects.exists()


def test_a_second_entry_of_the_same_organisation_is_refused_until_the_first_is_withdrawn(
    idea_form: Form,
) -> None:
    call, _phases = make_call()
    user, organisation = member_of_new_organisation("ines@example.org")
    colleague = UserFactory(email="kollege@example.org")
    membership(colleague, organisation)
    first = services.entry_create(
        actor=user,
        call_id=call.pk,
        organisation_id=organisation.pk,
        title="Radar",
        team=[TeamMember("Ines Vogel")],
    )
    with pytest.raises(EntryError) as refused:
        services.entry_create(
            actor=colleague,
            call_id=call.pk,
            organisation_id=organisation.pk,
            title="Noch eins",
            team=[TeamMember("Kollege")],
        )
    assert refused.value.code == "duplicate"
    services.entry_withdraw(actor=colleague, entry_id=first.pk)
    second = services.entry_create(
        actor=colleague,
        call_id=call.pk,
        organisation_id=organisation.pk,
        title="Noch eins",
        team=[TeamMember("Kollege")],
    )
    assert second.status == EntryStatus.DRAFT


def test_only_members_change_or_withdraw_an_entry(idea_form: Form) -> None:
    call, _phases = make_call()
    entry = submitted_entry(call, "ines@example.org", "Radar")
    with pytest.raises(PermissionDenied):
        services.entry_withdraw(actor=UserFactory(), entry_id=entry.pk)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED


def test_a_draft_call_takes_no_entries(idea_form: Form) -> None:
    call, _phases = make_call(status=CallStatus.DRAFT)
    user, organisation = member_of_new_organisation("ines@example.org")
    with pytest.raises(EntryError) as refused:
        services.entry_create(
            actor=user,
            call_id=call.pk,
            organisation_id=organisation.pk,
            title="Radar",
            team=[TeamMember("X")],
        )
    assert refused.value.code == "not_published"


# ---- eligibility ---------------------------------------------------------------------------


def test_staff_check_eligibility_and_not_eligible_needs_a_reason(
    idea_form: Form, staff: Any
) -> None:
    call, _phases = make_call()
    entry = submitted_entry(call, "ines@example.org", "Radar")
    with pytest.raises(PermissionDenied):
        services.entry_eligibility_set(actor=entry.created_by, entry_id=entry.pk, eligible=True)
    with pytest.raises(EntryError) as refused:
        services.entry_eligibility_set(actor=staff, entry_id=entry.pk, eligible=False)
    assert refused.value.field == "reason"
    services.entry_eligibility_set(
        actor=staff, entry_id=entry.pk, eligible=False, reason="Sitz außerhalb der Stadt."
    )
    entry.refresh_from_db()
    assert entry.eligibility == Eligibility.INELIGIBLE
    assert entry.eligibility_reason == "Sitz außerhalb der Stadt."
    assert entry.eligibility_by == staff
    audit = AuditEntry.objects.get(action="innovation.entry.eligibility")
    assert audit.after == {"eligibility": "ineligible", "reason": "Sitz außerhalb der Stadt."}


# ---- passing on ----------------------------------------------------------------------------


def test_the_best_two_pass_by_rule_and_every_entrant_gets_the_result(
    idea_form: Form, staff: Any
) -> None:
    call, (phase, second) = make_call()
    entries = {
        title: submitted_entry(call, f"{title.lower()}@example.org", title)
        for title in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
    }
    score(entries["Alpha"], phase, "90", "80")  # mean 85
    score(entries["Beta"], phase, "70")
    row = score(entries["Gamma"], phase, "50")
    row.consensus_total = Decimal("88")  # the consensus wins over the mean
    row.save()
    score(entries["Delta"], phase, "99")
    services.entry_eligibility_set(
        actor=staff, entry_id=entries["Delta"].pk, eligible=False, reason="Zu groß."
    )
    score(entries["Epsilon"], phase, "95")
    services.entry_withdraw(actor=entries["Epsilon"].created_by, entry_id=entries["Epsilon"].pk)
    close(phase)

    services.phase_advance_by_rule(actor=staff, phase_id=phase.pk)
    results = dict(EntryPhase.objects.filter(phase=phase).values_list("entry__title", "result"))
    assert results == {
        "Gamma": PhaseResult.ADVANCED,
        "Alpha": PhaseResult.ADVANCED,
        "Beta": PhaseResult.NOT_ADVANCED,
        "Delta": PhaseResult.NOT_ADVANCED,  # not eligible: never passes
        "Epsilon": PhaseResult.NOT_ADVANCED,  # withdrawn
    }
    for title in ("Gamma", "Alpha"):
        entry = Entry.objects.get(title=title)
        assert entry.current_phase == second
        assert EntryPhase.objects.filter(entry=entry, phase=second).exists()
    assert EntryPhase.objects.get(entry__title="Gamma", phase=phase).rank == 1
    phase.refresh_from_db()
    assert phase.decided_at is not None
    assert AuditEntry.objects.filter(action="innovation.phase.decide").count() == 1

    # one e-mail per entrant (the withdrawn one is not asked), once per entry and phase
    assert OutboxMessage.objects.filter(topic=services.RESULT_TOPIC).count() == 4
    process_batch(worker_id="test", limit=50)
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {f"{t}@example.org" for t in ("alpha", "beta", "gamma", "delta")}
    assert "eine Runde weiter" in by_address["alpha@example.org"].body
    assert "„Pitch“" in by_address["alpha@example.org"].body
    assert "leider nicht weiter" in by_address["beta@example.org"].body


def test_passing_the_last_phase_wins(idea_form: Form, staff: Any) -> None:
    call, (phase,) = make_call(phases=1)
    entry = submitted_entry(call, "eve@example.org", "Alpha")
    score(entry, phase, "80")
    close(phase)
    services.phase_advance_by_rule(actor=staff, phase_id=phase.pk)
    assert EntryPhase.objects.get(entry=entry).result == PhaseResult.WINNER
    entry.refresh_from_db()
    assert entry.current_phase == phase
    process_batch(worker_id="test", limit=50)
    assert [m.subject for m in mail.outbox] == ["Gewonnen: Alpha"]
    assert "hat den Wettbewerb „Smart City Challenge“ gewonnen" in mail.outbox[0].body


def test_from_a_threshold_every_entry_at_or_above_it_passes(idea_form: Form, staff: Any) -> None:
    call, (phase, _second) = make_call()
    Phase.objects.filter(pk=phase.pk).update(
        advance_rule=AdvanceRule.THRESHOLD, advance_threshold=Decimal("70")
    )
    for title, total in (("Alpha", "70"), ("Beta", "69.99"), ("Gamma", "85")):
        score(submitted_entry(call, f"{title}@example.org", title), phase, total)
    close(phase)
    services.phase_advance_by_rule(actor=staff, phase_id=phase.pk)
    passed = set(
        EntryPhase.objects.filter(phase=phase, result=PhaseResult.ADVANCED).values_list(
            "entry__title", flat=True
        )
    )
    assert passed == {"Alpha", "Gamma"}


def test_a_tie_at_the_cut_goes_by_the_earlier_entry_or_is_left_to_staff(
    idea_form: Form, staff: Any
) -> None:
    call, (phase, _second) = make_call(tie_break=TieBreak.EARLIER_ENTRY)
    for title, total in (("Alpha", "90"), ("Beta", "80"), ("Gamma", "80")):
        score(submitted_entry(call, f"{title}@example.org", title), phase, total)
    close(phase)
    services.phase_advance_by_rule(actor=staff, phase_id=phase.pk)
    passed = set(
        EntryPhase.objects.filter(phase=phase, result=PhaseResult.ADVANCED).values_list(
            "entry__title", flat=True
        )
    )
    assert passed == {"Alpha", "Beta"}  # Beta was submitted before Gamma

    other, (jury_phase, _next) = make_call(
        slug="zweiter", tie_break=TieBreak.JURY_DECISION, form=""
    )
    for title, total in (("Eins", "90"), ("Zwei", "80"), ("Drei", "80")):
        score(submitted_entry(other, f"{title}@example.org", title), jury_phase, total)
    close(jury_phase)
    with pytest.raises(EntryError) as refused:
        services.phase_advance_by_rule(actor=staff, phase_id=jury_phase.pk)
    assert refused.value.code == "tie"
    jury_phase.refresh_from_db()
    assert jury_phase.decided_at is None


def test_staff_decide_with_a_reason_and_a_phase_is_decided_once(
    idea_form: Form, staff: Any
) -> None:
    call, (phase, _second) = make_call()
    alpha = submitted_entry(call, "alpha@example.org", "Alpha")
    beta = submitted_entry(call, "beta@example.org", "Beta")
    services.entry_eligibility_set(actor=staff, entry_id=beta.pk, eligible=False, reason="Nein.")
    with pytest.raises(EntryError) as refused:
        services.phase_decide(
            actor=staff, phase_id=phase.pk, advanced_entry_ids=[alpha.pk], reason="Gut."
        )
    assert refused.value.code == "still_open"
    close(phase)
    with pytest.raises(EntryError) as refused:
        services.phase_decide(
            actor=staff, phase_id=phase.pk, advanced_entry_ids=[beta.pk], reason="Gut."
        )
    assert refused.value.code == "cannot_pass"
    with pytest.raises(EntryError):
        services.phase_decide(
            actor=staff, phase_id=phase.pk, advanced_entry_ids=[alpha.pk], reason=" "
        )
    services.phase_decide(
        actor=staff, phase_id=phase.pk, advanced_entry_ids=[alpha.pk], reason="Überzeugend."
    )
    assert EntryPhase.objects.get(entry=alpha, phase=phase).result == PhaseResult.ADVANCED
    with pytest.raises(EntryError) as refused:
        services.phase_advance_by_rule(actor=staff, phase_id=phase.pk)
    assert str(refused.value.message) == "Diese Phase wurde schon entschieden."
    # decided: the entry can no longer be withdrawn from it
    with pytest.raises(EntryError):
        services.entry_withdraw(actor=beta.created_by, entry_id=beta.pk)


def test_the_rule_decision_is_left_to_staff(idea_form: Form, staff: Any) -> None:
    call, (phase, _second) = make_call()
    Phase.objects.filter(pk=phase.pk).update(advance_rule=AdvanceRule.DECISION)
    submitted_entry(call, "alpha@example.org", "Alpha")
    close(phase)
    with pytest.raises(EntryError) as refused:
        services.phase_advance_by_rule(actor=staff, phase_id=phase.pk)
    assert refused.value.code == "decision_needed"
