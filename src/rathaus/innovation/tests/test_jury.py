"""The jury's work: balanced automatic assignment, conflicts of interest from the directory
and declared ones, the declaration gate before an entry is shown, scores on their scales,
blind scoring, weighted totals, the disagreement flag and the consensus beside the
individual scores."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.crypto import encrypt_json
from rathaus.core.models import AuditEntry
from rathaus.economy.constants import RelationKind, RelationStatus
from rathaus.economy.models import Relation
from rathaus.economy.tests.factories_directory import OrganisationFactory
from rathaus.innovation.constants import (
    AssignmentState,
    CallStatus,
    ConflictSource,
    Eligibility,
    EntryStatus,
    Scale,
)
from rathaus.innovation.models import (
    Assignment,
    Call,
    ConsensusScore,
    Criterion,
    Entry,
    EntryPhase,
    JuryMember,
    Phase,
    Score,
)
from rathaus.innovation.selectors import jury as selectors
from rathaus.innovation.services import jury as services

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def make_call(**values: Any) -> Call:
    number = next(_numbers)
    defaults: dict[str, Any] = {
        "title": f"Smart City Challenge {number}",
        "slug": f"smart-city-{number}",
        "status": CallStatus.PUBLISHED,
        "challenge": "Wie finden Menschen freie Ladesäulen?",
        "evaluators_per_entry": 2,
        "blind_scoring": True,
        "disagreement_spread": Decimal(20),
        "published_at": timezone.now(),
    }
    defaults.update(values)
    return Call.objects.create(**defaults)


def make_phase(call: Call) -> Phase:
    opens = timezone.now() - timedelta(days=30)
    return Phase.objects.create(
        call=call,
        position=1,
        name="Konzept",
        opens_at=opens,
        closes_at=opens + timedelta(days=14),
        evaluation_due_at=opens + timedelta(days=60),
    )


def make_criteria(phase: Phase) -> list[Criterion]:
    """Points 0-10 weighing 50, half points 0-5 weighing 30, yes/no weighing 20."""
    return [
        Criterion.objects.create(
            phase=phase, position=1, name="Wirkung", scale=Scale.POINTS, max_points=10, weight=50
        ),
        Criterion.objects.create(
            phase=phase, position=2, name="Machbarkeit", scale=Scale.HALF_POINTS, weight=30
        ),
        Criterion.objects.create(
            phase=phase, position=3, name="Datenschutz", scale=Scale.YES_NO, weight=20
        ),
    ]


def make_member(call: Call, organisation_id: int | None = None, **values: Any) -> JuryMember:
    user = values.pop("user", None) or UserFactory()
    return JuryMember.objects.create(
        call=call,
        user=user,
        public_name=values.pop("public_name", f"Jurorin {next(_numbers)}"),
        organisation_id=organisation_id,
        **values,
    )


def make_entry(
    phase: Phase,
    organisation_id: int | None = None,
    answers: dict[str, Any] | None = None,
    **values: Any,
) -> EntryPhase:
    if organisation_id is None:
        organisation_id = OrganisationFactory().pk
    defaults: dict[str, Any] = {
        "call": phase.call,
        "organisation_id": organisation_id,
        "title": f"Beitrag {next(_numbers)}",
        "created_by": UserFactory(),
        "status": EntryStatus.SUBMITTED,
        "eligibility": Eligibility.ELIGIBLE,
        "current_phase": phase,
        "submitted_at": timezone.now(),
    }
    defaults.update(values)
    entry = Entry.objects.create(**defaults)
    stored = {"form_version": None, "values": answers or {"idee": "Ladesäulen-App"}}
    return EntryPhase.objects.create(
        entry=entry, phase=phase, answers_encrypted=encrypt_json(stored)
    )


def relate(source: Any, kind: str, target: Any) -> Relation:
    return Relation.objects.create(
        source=source, kind=kind, target=target, status=RelationStatus.CONFIRMED
    )


@pytest.fixture
def staff(personas: dict[str, Any]) -> Any:
    return personas["department"]


@pytest.fixture
def world(staff: Any) -> dict[str, Any]:
    """A published call with three criteria, two evaluators and one entry assigned to both
    (declared, cleared)."""
    call = make_call()
    phase = make_phase(call)
    criteria = make_criteria(phase)
    anna, ben = make_member(call, public_name="Anna"), make_member(call, public_name="Ben")
    entry_phase = make_entry(phase, answers={"idee": "Ladesäulen-App", "team": "drei"})
    services.assignments_add(
        actor=staff, entry_phase_id=entry_phase.pk, evaluator_ids=[anna.pk, ben.pk]
    )
    first = Assignment.objects.get(evaluator=anna)
    second = Assignment.objects.get(evaluator=ben)
    return {
        "call": call,
        "phase": phase,
        "criteria": criteria,
        "anna": anna,
        "ben": ben,
        "entry_phase": entry_phase,
        "a1": first,
        "a2": second,
    }


def declare_and_score(assignment: Assignment, values: list[Any], submit: bool = True) -> None:
    user = assignment.evaluator.user
    assignment.refresh_from_db()
    if assignment.declared_at is None:
        services.assignment_declare(actor=user, assignment_id=assignment.pk, conflict=False)
    criteria = list(assignment.entry_phase.phase.criteria.order_by("position"))
    services.assignment_score(
        actor=user,
        assignment_id=assignment.pk,
        values={c.pk: v for c, v in zip(criteria, values, strict=True)},
        comments={criteria[0].pk: "Starke Idee"},
        submit=submit,
    )


# ---- assignment ------------------------------------------------------------------------------


def test_automatic_assignment_gives_every_entry_the_minimum_and_balances_loads(
    staff: Any,
) -> None:
    call = make_call(evaluators_per_entry=3)
    phase = make_phase(call)
    members = [make_member(call) for _ in range(7)]
    make_member(call, active=False)  # left the jury: never assigned
    entries = [make_entry(phase) for _ in range(11)]
    make_entry(phase, eligibility=Eligibility.INELIGIBLE)
    make_entry(phase, status=EntryStatus.DRAFT)
    make_entry(phase, status=EntryStatus.WITHDRAWN, withdrawn_at=timezone.now())

    result = services.assignments_auto(actor=staff, phase_id=phase.pk)

    assert result.created == 33 and result.short == []
    per_entry = Counter(Assignment.objects.values_list("entry_phase_id", flat=True))
    assert per_entry == {entry.pk: 3 for entry in entries}
    loads = Counter(Assignment.objects.values_list("evaluator_id", flat=True))
    assert set(loads) == {member.pk for member in members}
    assert max(loads.values()) - min(loads.values()) <= 1
    assert AuditEntry.objects.filter(action="innovation.assignment.auto").count() == 1
    # running it again changes nothing
    assert services.assignments_auto(actor=staff, phase_id=phase.pk).created == 0


def test_automatic_assignment_skips_directory_conflicts_and_stays_balanced(staff: Any) -> None:
    call = make_call(evaluators_per_entry=2)
    phase = make_phase(call)
    uni, startup, funder = OrganisationFactory(), OrganisationFactory(), OrganisationFactory()
    relate(startup, RelationKind.SPIN_OFF_OF, uni)
    relate(startup, RelationKind.FUNDED_BY, funder)
    professor = make_member(call, organisation_id=uni.pk)
    sponsor = make_member(call, organisation_id=funder.pk)
    others = [make_member(call) for _ in range(4)]
    conflicted = make_entry(phase, organisation_id=startup.pk)
    own = make_entry(phase, organisation_id=uni.pk)
    entries = [conflicted, own] + [make_entry(phase) for _ in range(10)]

    services.assignments_auto(actor=staff, phase_id=phase.pk)

    pairs = set(Assignment.objects.values_list("entry_phase_id", "evaluator_id"))
    assert (conflicted.pk, professor.pk) not in pairs
    assert (conflicted.pk, sponsor.pk) not in pairs
    assert (own.pk, professor.pk) not in pairs
    assert not Assignment.objects.exclude(state=AssignmentState.ASSIGNED).exists()
    per_entry = Counter(entry_phase_id for entry_phase_id, _ in pairs)
    assert all(per_entry[entry.pk] == 2 for entry in entries)
    loads = Counter(evaluator_id for _, evaluator_id in pairs)
    assert len(loads) == len(others) + 2
    assert max(loads.values()) - min(loads.values()) <= 1


def test_automatic_assignment_asks_one_relation_lookup_per_evaluator_organisation(
    staff: Any, django_assert_max_num_queries: Any
) -> None:
    call = make_call(evaluators_per_entry=3)
    phase = make_phase(call)
    organisations = [OrganisationFactory() for _ in range(3)]
    for index in range(12):
        make_member(call, organisation_id=organisations[index % 3].pk)
    for _ in range(40):
        make_entry(phase)
    # fixed: savepoint, lock, jury, entries, existing, 3 x (2 relation queries), bulk insert,
    # audit - whatever the number of entries and evaluators
    with django_assert_max_num_queries(20):
        result = services.assignments_auto(actor=staff, phase_id=phase.pk)
    assert result.created == 120


@pytest.mark.parametrize(
    ("kind", "evaluator_is_source"),
    [
        (RelationKind.PARTNER_IN, True),
        (RelationKind.PARTNER_IN, False),
        (RelationKind.SPIN_OFF_OF, True),
        (RelationKind.SPIN_OFF_OF, False),
        (RelationKind.FUNDED_BY, True),
        (RelationKind.FUNDED_BY, False),
    ],
)
def test_a_directory_relation_blocks_the_assignment_with_a_note_naming_it(
    staff: Any, kind: str, evaluator_is_source: bool
) -> None:
    call = make_call()
    phase = make_phase(call)
    mine = OrganisationFactory(name="Hochschule Nord")
    theirs = OrganisationFactory(name="Lade GmbH")
    if evaluator_is_source:
        relate(mine, kind, theirs)
    else:
        relate(theirs, kind, mine)
    member = make_member(call, organisation_id=mine.pk)
    entry_phase = make_entry(phase, organisation_id=theirs.pk)

    result = services.assignments_add(
        actor=staff, entry_phase_id=entry_phase.pk, evaluator_ids=[member.pk]
    )

    assert result.blocked == 1
    assignment = Assignment.objects.get()
    assert assignment.state == AssignmentState.BLOCKED
    assert assignment.conflict_source == ConflictSource.DIRECTORY
    label = str(RelationKind(kind).label)
    assert label in assignment.conflict_note
    assert "Hochschule Nord" in assignment.conflict_note and "Lade GmbH" in assignment.conflict_note


def test_the_same_organisation_blocks_and_unrelated_or_declined_relations_do_not(
    staff: Any,
) -> None:
    call = make_call()
    phase = make_phase(call)
    mine, other, declined = OrganisationFactory(), OrganisationFactory(), OrganisationFactory()
    Relation.objects.create(
        source=mine, kind=RelationKind.PARTNER_IN, target=declined, status=RelationStatus.DECLINED
    )
    relate(mine, RelationKind.LOCATED_AT_HUB, other)  # not a kind that conflicts
    member = make_member(call, organisation_id=mine.pk)
    same = make_entry(phase, organisation_id=mine.pk)
    free = [make_entry(phase, organisation_id=org.pk) for org in (other, declined)]
    for entry_phase in [same, *free]:
        services.assignments_add(
            actor=staff, entry_phase_id=entry_phase.pk, evaluator_ids=[member.pk]
        )
    blocked = Assignment.objects.get(entry_phase=same)
    assert blocked.state == AssignmentState.BLOCKED
    assert "handelt für die Organisation" in blocked.conflict_note
    assert set(Assignment.objects.filter(entry_phase__in=free).values_list("state", flat=True)) == {
        AssignmentState.ASSIGNED
    }


def test_only_staff_assign_and_only_active_members_of_the_call(
    staff: Any, personas: dict[str, Any]
) -> None:
    call = make_call()
    phase = make_phase(call)
    entry_phase = make_entry(phase)
    member = make_member(call)
    gone = make_member(call, active=False)
    stranger = make_member(make_call())
    with pytest.raises(PermissionDenied):
        services.assignments_auto(actor=personas["citizen"], phase_id=phase.pk)
    for wrong in (gone, stranger):
        with pytest.raises(services.JuryError):
            services.assignments_add(
                actor=staff, entry_phase_id=entry_phase.pk, evaluator_ids=[wrong.pk, member.pk]
            )
    assert not Assignment.objects.exists()


# ---- conflicts: declaring and deciding --------------------------------------------------------


def test_declaring_a_conflict_blocks_until_staff_decide_and_recusals_stay_recorded(
    staff: Any, world: dict[str, Any]
) -> None:
    a1 = world["a1"]
    anna = world["anna"].user
    with pytest.raises(services.JuryError) as refused:
        services.assignment_declare(actor=anna, assignment_id=a1.pk, conflict=True)
    assert refused.value.field == "note"
    services.assignment_declare(
        actor=anna, assignment_id=a1.pk, conflict=True, note="Ich berate das Team."
    )
    a1.refresh_from_db()
    assert a1.state == AssignmentState.BLOCKED
    assert a1.conflict_source == ConflictSource.DECLARED and a1.declared_at is not None
    with pytest.raises(PermissionDenied):
        selectors.entry_content_for_evaluator(user=anna, assignment_id=a1.pk)
    with pytest.raises(services.JuryError):
        services.assignment_decide(actor=staff, assignment_id=a1.pk, decision="recuse", reason="")

    services.assignment_decide(
        actor=staff, assignment_id=a1.pk, decision="recuse", reason="Beratung des Teams."
    )
    a1.refresh_from_db()
    assert a1.state == AssignmentState.RECUSED
    assert a1.decided_by == staff and a1.decided_at is not None
    assert a1.decision_reason == "Beratung des Teams."
    with pytest.raises(services.JuryError):  # final
        services.assignment_decide(actor=staff, assignment_id=a1.pk, decision="clear", reason="x")
    with pytest.raises(PermissionDenied):
        selectors.entry_content_for_evaluator(user=anna, assignment_id=a1.pk)
    assert AuditEntry.objects.filter(action="innovation.assignment.recuse").exists()


def test_a_directory_conflict_cleared_by_staff_still_needs_the_evaluators_declaration(
    staff: Any,
) -> None:
    call = make_call()
    phase = make_phase(call)
    make_criteria(phase)
    mine, theirs = OrganisationFactory(), OrganisationFactory()
    relate(theirs, RelationKind.FUNDED_BY, mine)
    member = make_member(call, organisation_id=mine.pk)
    entry_phase = make_entry(phase, organisation_id=theirs.pk)
    services.assignments_add(actor=staff, entry_phase_id=entry_phase.pk, evaluator_ids=[member.pk])
    assignment = Assignment.objects.get()
    with pytest.raises(services.JuryError):  # blocked: staff decide first
        services.assignment_declare(actor=member.user, assignment_id=assignment.pk, conflict=False)
    services.assignment_decide(
        actor=staff,
        assignment_id=assignment.pk,
        decision="clear",
        reason="Förderung endete 2019.",
    )
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.CLEARED
    assert not selectors.assignment_shows_entry(assignment)
    services.assignment_declare(actor=member.user, assignment_id=assignment.pk, conflict=False)
    content = selectors.entry_content_for_evaluator(user=member.user, assignment_id=assignment.pk)
    assert content.rows == [{"label": "idee", "value": "Ladesäulen-App"}]


def test_the_entry_is_shown_only_after_declaring_no_conflict(world: dict[str, Any]) -> None:
    a1, anna = world["a1"], world["anna"].user
    client = Client()
    client.force_login(anna)
    url = reverse("innovation:jury_assignment", args=[a1.pk])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Interessenkonflikt erklären" in body
    assert world["entry_phase"].entry.title in body  # to know whom the declaration is about
    assert "Ladesäulen-App" not in body and "drei" not in body
    with pytest.raises(PermissionDenied):
        selectors.entry_content_for_evaluator(user=anna, assignment_id=a1.pk)
    # a score without a declaration is refused too
    with pytest.raises(services.JuryError):
        services.assignment_score(actor=anna, assignment_id=a1.pk, values={})

    answer = client.post(url, {"conflict": "no"})
    assert answer.status_code == 302
    page = client.get(url)
    assert "Ladesäulen-App" in page.content.decode()
    assert "Ihre Bewertung" in page.content.decode()


def test_someone_elses_assignment_is_not_found(world: dict[str, Any], staff: Any) -> None:
    a1 = world["a1"]
    url = reverse("innovation:jury_assignment", args=[a1.pk])
    services.assignment_declare(actor=world["anna"].user, assignment_id=a1.pk, conflict=False)
    for intruder in (world["ben"].user, UserFactory(), staff):
        client = Client()
        client.force_login(intruder)
        assert client.get(url).status_code == 404
        assert client.post(url, {"conflict": "no"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.assignment_declare(actor=world["ben"].user, assignment_id=a1.pk, conflict=False)
    assert Client().get(url).status_code == 302  # to the log-in


def test_a_blocked_assignment_shows_its_state_never_the_content(world: dict[str, Any]) -> None:
    a1, anna = world["a1"], world["anna"].user
    services.assignment_declare(actor=anna, assignment_id=a1.pk, conflict=True, note="Beirat")
    client = Client()
    client.force_login(anna)
    page = client.get(reverse("innovation:jury_assignment", args=[a1.pk]))
    body = page.content.decode()
    assert "Die Verwaltung prüft einen möglichen Interessenkonflikt" in body
    assert "Ladesäulen-App" not in body


# ---- scoring -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "value"),
    [(0, "11"), (0, "7.5"), (0, "-1"), (1, "5.5"), (1, "2.25"), (2, "2"), (2, "0.5")],
)
def test_a_value_off_the_scale_is_refused_at_its_field_and_nothing_is_saved(
    world: dict[str, Any], position: int, value: str
) -> None:
    a1 = world["a1"]
    anna = world["anna"].user
    services.assignment_declare(actor=anna, assignment_id=a1.pk, conflict=False)
    values = ["8", "3.5", "1"]
    values[position] = value
    criteria = world["criteria"]
    with pytest.raises(services.ScoreErrors) as refused:
        services.assignment_score(
            actor=anna,
            assignment_id=a1.pk,
            values={c.pk: v for c, v in zip(criteria, values, strict=True)},
            submit=True,
        )
    assert list(refused.value.errors) == [services.value_field(criteria[position].pk)]
    assert not Score.objects.exists()
    a1.refresh_from_db()
    assert a1.state == AssignmentState.CLEARED and a1.weighted_total is None


def test_the_score_form_shows_a_german_error_at_the_field(world: dict[str, Any]) -> None:
    a1, anna = world["a1"], world["anna"].user
    services.assignment_declare(actor=anna, assignment_id=a1.pk, conflict=False)
    criteria = world["criteria"]
    client = Client()
    client.force_login(anna)
    answer = client.post(
        reverse("innovation:jury_assignment", args=[a1.pk]),
        {
            f"value_{criteria[0].pk}": "12",
            f"value_{criteria[1].pk}": "3.5",
            f"value_{criteria[2].pk}": "1",
            "action": "submit",
        },
    )
    assert answer.status_code == 422
    body = answer.content.decode()
    assert "Bitte ganze Punkte von 0 bis 10 angeben." in body
    assert f'id="id_value_{criteria[0].pk}_error"' in body
    assert not Score.objects.exists()


def test_submitting_stores_the_weighted_total(world: dict[str, Any]) -> None:
    a1 = world["a1"]
    declare_and_score(a1, ["7", "3.5", "1"])
    a1.refresh_from_db()
    assert a1.state == AssignmentState.SUBMITTED and a1.submitted_at is not None
    # 7/10*50 + 3.5/5*30 + 1/1*20 = 35 + 21 + 20
    assert a1.weighted_total == Decimal("76.00")
    declare_and_score(world["a2"], ["3", "2.5", "0"])
    world["a2"].refresh_from_db()
    # 15 + 15 + 0
    assert world["a2"].weighted_total == Decimal("30.00")
    comment = Score.objects.get(assignment=a1, criterion=world["criteria"][0]).comment_encrypted
    assert comment and "Starke Idee" not in comment  # encrypted
    with pytest.raises(services.JuryError):  # submitted is final
        declare_and_score(a1, ["1", "1", "0"])


def test_weighted_totals_round_to_two_decimals() -> None:
    call = make_call()
    phase = make_phase(call)
    criteria = [
        Criterion.objects.create(
            phase=phase, position=1, name="A", scale=Scale.POINTS, max_points=3, weight=Decimal(40)
        ),
        Criterion.objects.create(
            phase=phase, position=2, name="B", scale=Scale.POINTS, max_points=7, weight=Decimal(60)
        ),
    ]
    # 1/3*40 + 2/7*60 = 13.333... + 17.142857... = 30.476...
    total = services.weighted_total(criteria, {criteria[0].pk: Decimal(1), criteria[1].pk: 2})
    assert total == Decimal("30.48")


def test_a_draft_keeps_values_and_submission_needs_every_criterion(world: dict[str, Any]) -> None:
    a1, anna = world["a1"], world["anna"].user
    criteria = world["criteria"]
    services.assignment_declare(actor=anna, assignment_id=a1.pk, conflict=False)
    services.assignment_score(actor=anna, assignment_id=a1.pk, values={criteria[0].pk: "6"})
    assert Score.objects.get().value == Decimal(6)
    with pytest.raises(services.ScoreErrors) as refused:
        services.assignment_score(
            actor=anna, assignment_id=a1.pk, values={criteria[0].pk: "6"}, submit=True
        )
    assert set(refused.value.errors) == {
        services.value_field(criteria[1].pk),
        services.value_field(criteria[2].pk),
    }


def test_blind_scoring_shows_the_others_scores_only_after_the_own_submission(
    world: dict[str, Any],
) -> None:
    a1, a2 = world["a1"], world["a2"]
    criteria = world["criteria"]
    declare_and_score(a2, ["9", "4.5", "1"])
    services.assignment_declare(actor=world["anna"].user, assignment_id=a1.pk, conflict=False)
    a1.refresh_from_db()
    assert selectors.others_scores_for_evaluator(assignment=a1, criteria=criteria) is None
    client = Client()
    client.force_login(world["anna"].user)
    url = reverse("innovation:jury_assignment", args=[a1.pk])
    body = client.get(url).content.decode()
    assert "Verdeckte Bewertung" in body and "Ben" not in body

    declare_and_score(a1, ["5", "2", "0"])
    a1.refresh_from_db()
    others = selectors.others_scores_for_evaluator(assignment=a1, criteria=criteria)
    assert others is not None and [o.name for o in others] == ["Ben"]
    assert others[0].total == Decimal("92.00")  # 45 + 27 + 20
    body = client.get(url).content.decode()
    assert "Ben: 92 von 100 Punkten" in body

    # staff always see every score on the consensus sheet
    sheet = selectors.consensus_sheet(entry_phase=world["entry_phase"])
    assert {e.name for e in sheet.evaluators} == {"Anna", "Ben"}


def test_without_blind_scoring_others_are_visible_before_the_own_submission(
    world: dict[str, Any],
) -> None:
    Call.objects.filter(pk=world["call"].pk).update(blind_scoring=False)
    declare_and_score(world["a2"], ["9", "4.5", "1"])
    a1 = world["a1"]
    services.assignment_declare(actor=world["anna"].user, assignment_id=a1.pk, conflict=False)
    a1 = Assignment.objects.select_related("entry_phase__phase__call").get(pk=a1.pk)
    others = selectors.others_scores_for_evaluator(assignment=a1, criteria=world["criteria"])
    assert others is not None and len(others) == 1


def test_disagreement_is_flagged_only_beyond_the_spread(world: dict[str, Any]) -> None:
    entry_phase = world["entry_phase"]
    declare_and_score(world["a1"], ["7", "3.5", "1"])  # 35 + 21 + 20 = 76
    entry_phase.refresh_from_db()
    assert entry_phase.disagreement is False  # one total alone
    declare_and_score(world["a2"], ["6", "1", "1"])  # 30 + 6 + 20 = 56: exactly 20 apart
    entry_phase.refresh_from_db()
    assert entry_phase.disagreement is False
    third = make_member(world["call"], public_name="Carla")
    assignment = Assignment.objects.create(entry_phase=entry_phase, evaluator=third)
    declare_and_score(assignment, ["6", "0.5", "1"])  # 30 + 3 + 20 = 53: 23 apart
    entry_phase.refresh_from_db()
    assert entry_phase.disagreement is True
    assert AuditEntry.objects.filter(action="innovation.entry_phase.disagreement").count() == 1


# ---- consensus ---------------------------------------------------------------------------------


def test_consensus_is_stored_beside_the_individual_scores_with_reasons(
    staff: Any, world: dict[str, Any]
) -> None:
    declare_and_score(world["a1"], ["8", "4", "1"])  # 40 + 24 + 20 = 84
    declare_and_score(world["a2"], ["4", "2", "0"])  # 20 + 12 + 0 = 32
    entry_phase = world["entry_phase"]
    entry_phase.refresh_from_db()
    assert entry_phase.disagreement is True
    criteria = world["criteria"]
    before = list(Score.objects.order_by("pk").values_list("pk", "value"))

    with pytest.raises(services.JuryError):  # flagged: no simple mean
        services.consensus_take_mean(actor=staff, entry_phase_id=entry_phase.pk)
    values = {criteria[0].pk: "7", criteria[1].pk: "3", criteria[2].pk: "1"}
    # means: 6, 3, 0.5: the first and last differ and need a reason
    with pytest.raises(services.ScoreErrors) as refused:
        services.consensus_record(actor=staff, entry_phase_id=entry_phase.pk, values=values)
    assert set(refused.value.errors) == {f"reason_{criteria[0].pk}", f"reason_{criteria[2].pk}"}
    assert not ConsensusScore.objects.exists()

    services.consensus_record(
        actor=staff,
        entry_phase_id=entry_phase.pk,
        values=values,
        reasons={criteria[0].pk: "Wirkung unterschätzt", criteria[2].pk: "Konzept liegt vor"},
        reason="Besprechung am 3. März",
    )
    entry_phase.refresh_from_db()
    # 7/10*50 + 3/5*30 + 1*20 = 35 + 18 + 20
    assert entry_phase.consensus_total == Decimal("73.00")
    assert entry_phase.consensus_by == staff
    assert entry_phase.consensus_reason == "Besprechung am 3. März"
    stored = {c.criterion_id: c for c in ConsensusScore.objects.all()}
    assert stored[criteria[0].pk].value == 7 and stored[criteria[0].pk].reason
    assert stored[criteria[1].pk].reason == ""
    assert list(Score.objects.order_by("pk").values_list("pk", "value")) == before
    assert AuditEntry.objects.filter(action="innovation.consensus.record").count() == 1


def test_the_mean_becomes_the_consensus_for_entries_without_disagreement(
    staff: Any, world: dict[str, Any]
) -> None:
    declare_and_score(world["a1"], ["7", "3.5", "1"])  # 76
    declare_and_score(world["a2"], ["6", "3", "1"])  # 30 + 18 + 20 = 68
    entry_phase = world["entry_phase"]
    services.consensus_take_mean(actor=staff, entry_phase_id=entry_phase.pk)
    entry_phase.refresh_from_db()
    values = dict(ConsensusScore.objects.values_list("criterion__position", "value"))
    assert values == {1: Decimal("6.5"), 2: Decimal("3.25"), 3: Decimal(1)}
    # 6.5/10*50 + 3.25/5*30 + 20 = 32.5 + 19.5 + 20
    assert entry_phase.consensus_total == Decimal("72.00")
    assert entry_phase.consensus_reason == "Mittelwert der Einzelbewertungen"


def test_the_chair_records_consensus_other_jury_members_and_citizens_do_not(
    world: dict[str, Any], personas: dict[str, Any]
) -> None:
    declare_and_score(world["a1"], ["7", "3.5", "1"])
    declare_and_score(world["a2"], ["6", "3", "1"])
    chair = make_member(world["call"], public_name="Vorsitz", chair=True)
    entry_phase = world["entry_phase"]
    url = reverse("innovation:jury_consensus", args=[entry_phase.pk])
    for user, status in (
        (world["anna"].user, 403),
        (personas["citizen"], 403),
        (chair.user, 200),
        (personas["department"], 200),
    ):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == status, user
    services.consensus_take_mean(actor=chair.user, entry_phase_id=entry_phase.pk)
    with pytest.raises(PermissionDenied):
        services.consensus_take_mean(actor=world["anna"].user, entry_phase_id=entry_phase.pk)


def test_a_consensus_recorded_meanwhile_is_not_overwritten(
    staff: Any, world: dict[str, Any]
) -> None:
    declare_and_score(world["a1"], ["7", "3.5", "1"])
    declare_and_score(world["a2"], ["6", "3", "1"])
    entry_phase = world["entry_phase"]
    seen = services.consensus_token(entry_phase_id=entry_phase.pk)
    services.consensus_take_mean(actor=staff, entry_phase_id=entry_phase.pk, expected=seen)
    with pytest.raises(services.JuryError) as refused:
        services.consensus_take_mean(actor=staff, entry_phase_id=entry_phase.pk, expected=seen)
    assert refused.value.code == "stale"


# ---- pages -------------------------------------------------------------------------------------


def test_staff_pages_answer_staff_only(staff: Any, world: dict[str, Any]) -> None:
    urls = [
        reverse("innovation:jury_staff_index"),
        reverse("innovation:jury_staff_phase", args=[world["phase"].pk]),
        reverse("innovation:jury_staff_entry", args=[world["entry_phase"].pk]),
        reverse("innovation:jury_staff_decide", args=[world["a1"].pk]),
    ]
    staff_client, jury_client = Client(), Client()
    staff_client.force_login(staff)
    jury_client.force_login(world["anna"].user)
    for url in urls:
        assert staff_client.get(url).status_code == 200, url
        assert jury_client.get(url).status_code == 403, url


def test_staff_assign_automatically_and_by_hand_through_the_pages(staff: Any) -> None:
    call = make_call(evaluators_per_entry=1)
    phase = make_phase(call)
    members = [make_member(call) for _ in range(2)]
    entry_phase = make_entry(phase)
    client = Client()
    client.force_login(staff)
    answer = client.post(reverse("innovation:jury_staff_auto", args=[phase.pk]))
    assert answer.status_code == 302
    assert Assignment.objects.count() == 1
    missing = next(m for m in members if not Assignment.objects.filter(evaluator=m).exists())
    answer = client.post(
        reverse("innovation:jury_staff_entry", args=[entry_phase.pk]),
        {"evaluators": [missing.pk]},
    )
    assert answer.status_code == 302
    assert Assignment.objects.count() == 2
    page = client.get(reverse("innovation:jury_staff_phase", args=[phase.pk]))
    assert entry_phase.entry.title in page.content.decode()


def test_staff_decide_a_conflict_through_the_page(staff: Any, world: dict[str, Any]) -> None:
    a1 = world["a1"]
    services.assignment_declare(
        actor=world["anna"].user, assignment_id=a1.pk, conflict=True, note="Beirat"
    )
    client = Client()
    client.force_login(staff)
    url = reverse("innovation:jury_staff_decide", args=[a1.pk])
    assert client.post(url, {"decision": "clear"}).status_code == 422
    assert client.post(url, {"decision": "clear", "reason": "Beirat ruht."}).status_code == 302
    a1.refresh_from_db()
    assert a1.state == AssignmentState.CLEARED and a1.decision_reason == "Beirat ruht."


def test_my_assignments_lists_only_my_own(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["anna"].user)
    page = client.get(reverse("innovation:jury_assignments"))
    assert page.status_code == 200
    assert [a.pk for a in page.context["assignments"]] == [world["a1"].pk]
