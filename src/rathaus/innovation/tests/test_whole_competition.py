"""One competition from start to finish through the services only: staff prepare and publish
a call, two organisations enter and submit, the jury is assigned automatically (a conflict
from the directory is left out), declares, scores, the best passes by rule and wins, the
results are published, and every entrant hears of it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.outbox import process_batch
from rathaus.economy.constants import RelationKind, RelationStatus
from rathaus.economy.models import Relation
from rathaus.economy.tests.factories_directory import OrganisationFactory, membership
from rathaus.innovation.constants import AdvanceRule, AssignmentState, CallStatus, Scale
from rathaus.innovation.models import Assignment, Call, EntryPhase
from rathaus.innovation.services import calls, entries, jury, results

pytestmark = pytest.mark.django_db


def test_a_call_from_publication_to_published_winners(personas: dict[str, Any]) -> None:
    staff = personas["department"]
    now = timezone.now()
    alpha, beta, university = (
        OrganisationFactory(name="Alpha Mobility GmbH"),
        OrganisationFactory(name="Beta Daten UG"),
        OrganisationFactory(name="Hochschule Leipzig"),
    )
    # the university is Alpha's partner: its professor must not evaluate Alpha
    Relation.objects.create(
        source=alpha,
        kind=RelationKind.PARTNER_IN,
        target=university,
        status=RelationStatus.CONFIRMED,
    )
    anna, ben = UserFactory(email="anna@alpha.example"), UserFactory(email="ben@beta.example")
    membership(anna, alpha)
    membership(ben, beta)

    call = calls.call_create(
        actor=staff,
        data=calls.CallData(title="Ladesäulen finden", challenge="Wie?", evaluators_per_entry=1),
    )
    phase = calls.phase_save(
        actor=staff,
        call_id=call.pk,
        data=calls.PhaseData(
            name="Konzept",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            evaluation_due_at=now + timedelta(days=5),
            advance_rule=AdvanceRule.TOP_N,
            advance_count=1,
        ),
    )
    criterion = calls.criterion_save(
        actor=staff,
        phase_id=phase.pk,
        data=calls.CriterionData(name="Wirkung", scale=Scale.HALF_POINTS, weight=Decimal(100)),
    )
    professor = UserFactory(email="prof@hochschule.example")
    practitioner = UserFactory(email="praxis@example.org")
    calls.jury_member_save(
        actor=staff,
        call_id=call.pk,
        data=calls.JuryData(
            user=professor, public_name="Prof. Dr. Hoch", organisation_id=university.pk
        ),
    )
    calls.jury_member_save(
        actor=staff,
        call_id=call.pk,
        data=calls.JuryData(user=practitioner, public_name="Petra Praxis"),
    )
    calls.call_publish(actor=staff, call_id=call.pk)

    submitted = []
    for user, organisation in ((anna, alpha), (ben, beta)):
        entry = entries.entry_create(
            actor=user,
            call_id=call.pk,
            organisation_id=organisation.pk,
            title=f"Idee von {organisation.name}",
            team=[entries.TeamMember(name=user.email, role="Leitung")],
        )
        entries.entry_submit(actor=user, entry_id=entry.pk, data=QueryDict())
        submitted.append(entry)

    # the deadline passes; the jury is assigned: nobody evaluates an entry they are related to
    later = now + timedelta(days=2)
    jury.assignments_auto(actor=staff, phase_id=phase.pk)
    for assignment in Assignment.objects.select_related("evaluator", "entry_phase__entry"):
        if assignment.entry_phase.entry.organisation_id == alpha.pk:
            assert assignment.evaluator.user != professor
    values = {alpha.pk: "4.5", beta.pk: "3"}
    for assignment in Assignment.objects.select_related("evaluator__user", "entry_phase__entry"):
        evaluator = assignment.evaluator.user
        jury.assignment_declare(actor=evaluator, assignment_id=assignment.pk, conflict=False)
        jury.assignment_score(
            actor=evaluator,
            assignment_id=assignment.pk,
            values={criterion.pk: values[assignment.entry_phase.entry.organisation_id]},
            submit=True,
        )
    assert set(Assignment.objects.values_list("state", flat=True)) == {AssignmentState.SUBMITTED}

    entries.phase_advance_by_rule(actor=staff, phase_id=phase.pk, now=later)
    results_by_title = dict(
        EntryPhase.objects.filter(phase=phase).values_list("entry__title", "result")
    )
    assert results_by_title == {
        "Idee von Alpha Mobility GmbH": "winner",
        "Idee von Beta Daten UG": "not_advanced",
    }
    results.results_publish(actor=staff, call_id=call.pk)
    assert Call.objects.get(pk=call.pk).status == CallStatus.RESULTS

    process_batch(worker_id="test", limit=20)
    told = {address for message in mail.outbox for address in message.to}
    assert {"anna@alpha.example", "ben@beta.example"} <= told
    page = Client().get(f"/wettbewerbe/{call.slug}/ergebnisse/").content.decode()
    assert "Idee von Alpha Mobility GmbH" in page and "Alpha Mobility GmbH" in page
    assert "Idee von Beta Daten UG" not in page and "Petra Praxis" not in page
