"""The services and selectors of the city's applications: linking to open calls only, the
amounts (refused or warned about), the go/no-go decision, the status table with its rules,
the history read back from the audit log, the consortium, documents, and two staff changing
the status at the same moment (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.utils import timezone

from rathaus.accounts.constants import Role as AccountRole
from rathaus.accounts.tests.factories import UserFactory, with_role
from rathaus.core import blobs
from rathaus.core.models import AuditEntry
from rathaus.economy.tests.factories_directory import OrganisationFactory
from rathaus.funding.constants import (
    ApplicationStatus,
    CallStatus,
    DocumentKind,
    GoDecision,
    Level,
    Role,
)
from rathaus.funding.models import (
    Application,
    ApplicationDocument,
    Call,
    ConsortiumMember,
    Programme,
)
from rathaus.funding.selectors.applications import (
    application_history,
    application_list_for_staff,
    application_warnings,
)
from rathaus.funding.services import applications as services
from rathaus.funding.services.applications import (
    TRANSITIONS,
    ApplicationData,
    ApplicationError,
    MemberData,
)

pytestmark = pytest.mark.django_db

S = ApplicationStatus
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def data_for(call: Call, **overrides: Any) -> ApplicationData:
    values: dict[str, Any] = {
        "call_id": call.pk,
        "title": "Urbane Datenplattform Leipzig",
        "acronym": "UDP",
        "total_cost": Decimal("2000000"),
        "requested_funding": Decimal("1000000"),
    }
    values.update(overrides)
    return ApplicationData(**values)


def in_status(application: Application, status: str, **fields: Any) -> Application:
    """Put an application into a status directly (the steps before are tested elsewhere)."""
    Application.objects.filter(pk=application.pk).update(status=status, **fields)
    application.refresh_from_db()
    return application


# ---- creating and changing -----------------------------------------------------------------


def test_creating_an_application_links_measures_and_is_audited(funding: dict[str, Any]) -> None:
    staff, measure = funding["staff"], funding["measure"]
    application = services.application_create(
        actor=staff, data=data_for(funding["call"], measure_ids=[measure.pk, measure.pk])
    )
    assert application.status == S.IDEA
    assert application.created_by == staff
    assert list(application.measure_links.values_list("measure_id", flat=True)) == [measure.pk]
    entry = AuditEntry.objects.get(action="funding.application.create")
    assert entry.object_id == str(application.pk)
    assert entry.actor == staff
    assert entry.after["title"] == "Urbane Datenplattform Leipzig"
    assert entry.after["measure_ids"] == [measure.pk]
    assert entry.after["requested_funding"] == "1000000.00"
    assert entry.after["status"] == S.IDEA


def test_linking_a_new_application_to_a_closed_call_is_refused_and_saves_nothing(
    funding: dict[str, Any],
) -> None:
    before = Application.objects.count()
    with pytest.raises(ApplicationError) as refused:
        services.application_create(actor=funding["staff"], data=data_for(funding["closed_call"]))
    assert refused.value.field == "call"
    assert "DIGITAL-2024-AI-01" in str(refused.value.message)
    assert "geschlossen" in str(refused.value.message)
    assert Application.objects.count() == before
    assert not AuditEntry.objects.filter(action="funding.application.create").exists()


def test_a_call_still_marked_open_but_past_its_final_deadline_is_refused(
    funding: dict[str, Any],
) -> None:
    Call.objects.filter(pk=funding["call"].pk).update(
        final_deadline=timezone.now() - timedelta(hours=1)
    )
    with pytest.raises(ApplicationError) as refused:
        services.application_create(actor=funding["staff"], data=data_for(funding["call"]))
    assert "abgelaufen" in str(refused.value.message)


def test_an_application_in_preparation_can_move_to_another_open_call_but_not_a_closed_one(
    funding: dict[str, Any],
) -> None:
    staff, application = funding["staff"], funding["application"]
    other = Call.objects.create(
        programme=funding["programme"],
        identifier="DIGITAL-2026-AI-02",
        title="Second cut-off",
        status=CallStatus.OPEN,
        final_deadline=timezone.now() + timedelta(days=90),
    )
    in_status(application, S.PREPARATION)
    with pytest.raises(ApplicationError) as refused:
        services.application_update(
            actor=staff, application=application, data=data_for(funding["closed_call"])
        )
    assert refused.value.code == "call_closed"
    application.refresh_from_db()
    assert application.call == funding["call"]
    services.application_update(actor=staff, application=application, data=data_for(other))
    application.refresh_from_db()
    assert application.call == other


def test_a_submitted_application_keeps_its_call_even_after_the_call_closed(
    funding: dict[str, Any],
) -> None:
    staff, application = funding["staff"], funding["application"]
    in_status(application, S.SUBMITTED, submitted_on=date(2026, 1, 10))
    Call.objects.filter(pk=funding["call"].pk).update(status=CallStatus.CLOSED)
    other = Call.objects.create(
        programme=funding["programme"],
        identifier="DIGITAL-2027-AI-01",
        title="Next year",
        status=CallStatus.OPEN,
    )
    with pytest.raises(ApplicationError) as refused:
        services.application_update(actor=staff, application=application, data=data_for(other))
    assert refused.value.code == "call_fixed"
    assert "bleibt beim Aufruf „DIGITAL-2026-AI-01“" in str(refused.value.message)
    # the other fields still change, with the (now closed) call kept
    services.application_update(
        actor=staff,
        application=application,
        data=data_for(funding["call"], result_score="13 von 15 Punkten"),
    )
    application.refresh_from_db()
    assert application.result_score == "13 von 15 Punkten"


def test_requested_funding_above_the_total_cost_is_refused(funding: dict[str, Any]) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.application_create(
            actor=funding["staff"],
            data=data_for(
                funding["call"],
                total_cost=Decimal("100000"),
                requested_funding=Decimal("150000"),
            ),
        )
    assert refused.value.field == "requested_funding"
    assert str(refused.value.message) == (
        "Die beantragte Förderung (150.000,00 €) kann nicht höher sein als die Gesamtkosten "
        "(100.000,00 €)."
    )


def test_unknown_measure_ids_are_refused(funding: dict[str, Any]) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.application_create(
            actor=funding["staff"],
            data=data_for(funding["call"], measure_ids=[funding["measure"].pk, 999999]),
        )
    assert refused.value.field == "measures"
    assert "999999" in str(refused.value.message)
    assert not Application.objects.filter(acronym="UDP").exists()


def test_the_responsible_person_must_be_an_account_of_the_administration(
    funding: dict[str, Any], personas: dict[str, Any]
) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.application_create(
            actor=funding["staff"],
            data=data_for(funding["call"], responsible_id=personas["citizen"].pk),
        )
    assert refused.value.field == "responsible"
    created = services.application_create(
        actor=funding["staff"],
        data=data_for(funding["call"], responsible_id=personas["caseworker"].pk),
    )
    assert created.responsible == personas["caseworker"]


def test_the_own_share_is_the_unfunded_part_unless_given(funding: dict[str, Any]) -> None:
    staff, call = funding["staff"], funding["call"]
    application = services.application_create(
        actor=staff,
        data=data_for(call, total_cost=Decimal("800000"), requested_funding=Decimal("560000")),
    )
    assert application.own_share == Decimal("240000")
    given = services.application_create(
        actor=staff,
        data=data_for(call, own_share=Decimal("100000"), own_share_budget_line="1.11.02.01"),
    )
    assert given.own_share == Decimal("100000")
    assert given.own_share_budget_line == "1.11.02.01"


def test_an_update_audits_only_what_changed_with_before_and_after(
    funding: dict[str, Any],
) -> None:
    staff, application = funding["staff"], funding["application"]
    services.application_update(
        actor=staff,
        application=application,
        data=data_for(
            funding["call"],
            title=application.title,
            acronym=application.acronym,
            requested_funding=Decimal("900000"),
            own_share=Decimal("1000000"),
            responsible_id=staff.pk,
            measure_ids=[funding["measure"].pk],
        ),
    )
    entry = AuditEntry.objects.get(action="funding.application.update")
    assert entry.before == {"requested_funding": "1000000.00", "measure_ids": []}
    assert entry.after == {"requested_funding": "900000.00", "measure_ids": [funding["measure"].pk]}


def test_only_department_staff_may_write(funding: dict[str, Any], personas: dict[str, Any]) -> None:
    for name in ("citizen", "organisation", "caseworker"):
        with pytest.raises(PermissionDenied):
            services.application_create(actor=personas[name], data=data_for(funding["call"]))
        with pytest.raises(PermissionDenied):
            services.application_transition(
                actor=personas[name],
                application=funding["application"],
                to_status=S.PREPARATION,
                expected_status=S.IDEA,
            )


# ---- warnings ------------------------------------------------------------------------------


def test_a_rate_above_the_programmes_maximum_is_a_warning_not_a_refusal(
    funding: dict[str, Any],
) -> None:
    application = services.application_create(
        actor=funding["staff"],
        data=data_for(
            funding["call"], total_cost=Decimal("2000000"), requested_funding=Decimal("1200000")
        ),
    )
    assert Application.objects.filter(pk=application.pk).exists()
    assert application_warnings(application) == [
        "Die Förderquote von 60,00 % liegt über dem Höchstsatz des Programms (50,00 %)."
    ]


def test_requested_funding_outside_the_programmes_range_is_a_warning(
    funding: dict[str, Any],
) -> None:
    staff, call = funding["staff"], funding["call"]
    small = services.application_create(
        actor=staff,
        data=data_for(call, total_cost=Decimal("400000"), requested_funding=Decimal("200000")),
    )
    assert application_warnings(small) == [
        "Die beantragte Förderung von 200.000,00 € liegt unter dem Mindestbetrag des "
        "Programms (500.000,00 €)."
    ]
    large = services.application_create(
        actor=staff,
        data=data_for(call, total_cost=Decimal("12000000"), requested_funding=Decimal("6000000")),
    )
    assert application_warnings(large) == [
        "Die beantragte Förderung von 6.000.000,00 € liegt über dem Höchstbetrag des "
        "Programms (5.000.000,00 €)."
    ]
    assert application_warnings(funding["application"]) == []


def test_a_consortium_that_no_longer_adds_up_is_a_warning(funding: dict[str, Any]) -> None:
    application = funding["application"]
    services.consortium_set(
        actor=funding["staff"],
        application=application,
        members=[
            MemberData(is_city=True, role=Role.COORDINATOR, budget_share=Decimal("1500000")),
            MemberData(name="Universität Leipzig", role=Role.PARTNER, budget_share=Decimal(500000)),
        ],
    )
    Application.objects.filter(pk=application.pk).update(total_cost=Decimal("2100000"))
    application.refresh_from_db()
    assert application_warnings(application) == [
        "Die Budgetanteile des Konsortiums ergeben 2.000.000,00 €, die Gesamtkosten betragen "
        "2.100.000,00 €."
    ]


# ---- the decision and the status -----------------------------------------------------------


def test_a_decision_records_who_when_and_why_and_is_audited(funding: dict[str, Any]) -> None:
    staff, application = funding["staff"], funding["application"]
    services.application_decide(
        actor=staff, application=application, decision=GoDecision.GO, note="Passt zu LD-3.2."
    )
    application.refresh_from_db()
    assert application.decision == GoDecision.GO
    assert application.decided_by == staff
    assert application.decision_on == timezone.localdate()
    assert application.status == S.IDEA  # a decision moves nothing
    entry = AuditEntry.objects.get(action="funding.application.decide")
    assert entry.before["decision"] == GoDecision.PENDING
    assert entry.after["decision"] == GoDecision.GO
    assert entry.after["decided_by_id"] == staff.pk


def test_a_decision_needs_a_reason_and_comes_before_submission(funding: dict[str, Any]) -> None:
    staff, application = funding["staff"], funding["application"]
    with pytest.raises(ApplicationError) as refused:
        services.application_decide(
            actor=staff, application=application, decision=GoDecision.NO_GO, note="  "
        )
    assert refused.value.field == "note"
    in_status(application, S.SUBMITTED)
    with pytest.raises(ApplicationError) as late:
        services.application_decide(
            actor=staff, application=application, decision=GoDecision.NO_GO, note="zu spät"
        )
    assert late.value.code == "too_late"


@pytest.mark.parametrize("status", list(S.values))
def test_only_the_steps_of_the_table_are_allowed(funding: dict[str, Any], status: str) -> None:
    staff, application = funding["staff"], funding["application"]
    in_status(application, status)
    for to_status in S.values:
        if to_status in TRANSITIONS[status]:
            continue
        with pytest.raises(ApplicationError) as refused:
            services.application_transition(
                actor=staff, application=application, to_status=to_status, expected_status=status
            )
        assert refused.value.code == "not_allowed"
    application.refresh_from_db()
    assert application.status == status


def test_submission_needs_a_go(funding: dict[str, Any]) -> None:
    staff, application = funding["staff"], funding["application"]
    in_status(application, S.PREPARATION)
    with pytest.raises(ApplicationError) as undecided:
        services.application_transition(
            actor=staff,
            application=application,
            to_status=S.SUBMITTED,
            expected_status=S.PREPARATION,
        )
    assert undecided.value.code == "no_decision"
    assert "erst nach der internen Entscheidung für Go" in str(undecided.value.message)
    services.application_decide(
        actor=staff, application=application, decision=GoDecision.NO_GO, note="Eigenanteil fehlt"
    )
    application.refresh_from_db()
    assert application.status == S.PREPARATION  # the no-go moved nothing
    with pytest.raises(ApplicationError) as no_go:
        services.application_transition(
            actor=staff,
            application=application,
            to_status=S.SUBMITTED,
            expected_status=S.PREPARATION,
        )
    assert no_go.value.code == "no_go"
    application.refresh_from_db()
    assert application.status == S.PREPARATION
    assert application.submitted_on is None


def test_submission_after_a_go_sets_the_date(funding: dict[str, Any]) -> None:
    staff, application = funding["staff"], funding["application"]
    in_status(application, S.PREPARATION)
    services.application_decide(
        actor=staff, application=application, decision=GoDecision.GO, note="Passt."
    )
    services.application_transition(
        actor=staff, application=application, to_status=S.SUBMITTED, expected_status=S.PREPARATION
    )
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert application.submitted_on == timezone.localdate()
    entry = AuditEntry.objects.get(action="funding.application.transition")
    assert entry.before == {"status": S.PREPARATION, "submitted_on": None}
    assert entry.after == {
        "status": S.SUBMITTED,
        "submitted_on": timezone.localdate().isoformat(),
    }


def test_a_grant_needs_the_granted_amount(funding: dict[str, Any]) -> None:
    staff, application = funding["staff"], funding["application"]
    in_status(application, S.SUBMITTED)
    with pytest.raises(ApplicationError) as refused:
        services.application_transition(
            actor=staff, application=application, to_status=S.GRANTED, expected_status=S.SUBMITTED
        )
    assert refused.value.field == "granted_amount"
    services.application_transition(
        actor=staff,
        application=application,
        to_status=S.GRANTED,
        expected_status=S.SUBMITTED,
        granted_amount=Decimal("950000"),
    )
    application.refresh_from_db()
    assert (application.status, application.granted_amount) == (S.GRANTED, Decimal("950000"))


def test_a_running_project_needs_its_agreement_number_and_period(
    funding: dict[str, Any],
) -> None:
    staff, application = funding["staff"], funding["application"]
    in_status(application, S.GRANTED, granted_amount=Decimal("950000"))
    with pytest.raises(ApplicationError) as refused:
        services.application_transition(
            actor=staff,
            application=application,
            to_status=S.RUNNING,
            expected_status=S.GRANTED,
            project_start=date(2026, 9, 1),
            project_end=date(2029, 8, 31),
        )
    assert refused.value.field == "grant_agreement_number"
    with pytest.raises(ApplicationError) as no_end:
        services.application_transition(
            actor=staff,
            application=application,
            to_status=S.RUNNING,
            expected_status=S.GRANTED,
            grant_agreement_number="101123456",
            project_start=date(2026, 9, 1),
        )
    assert no_end.value.field == "project_end"
    application.refresh_from_db()
    assert application.status == S.GRANTED
    assert application.grant_agreement_number == ""  # nothing of a refused step is kept
    services.application_transition(
        actor=staff,
        application=application,
        to_status=S.RUNNING,
        expected_status=S.GRANTED,
        grant_agreement_number="101123456",
        project_start=date(2026, 9, 1),
        project_end=date(2029, 8, 31),
    )
    application.refresh_from_db()
    assert application.status == S.RUNNING
    assert application.grant_agreement_number == "101123456"


def test_a_step_chosen_on_an_outdated_page_is_refused(funding: dict[str, Any]) -> None:
    staff, application = funding["staff"], funding["application"]
    in_status(application, S.PREPARATION)
    with pytest.raises(ApplicationError) as refused:
        services.application_transition(
            actor=staff, application=application, to_status=S.PREPARATION, expected_status=S.IDEA
        )
    assert refused.value.code == "stale"
    assert "inzwischen geändert (jetzt: „In Vorbereitung“)" in str(refused.value.message)


def test_the_history_reads_the_status_changes_back_from_the_audit_log(
    funding: dict[str, Any],
) -> None:
    staff = funding["staff"]
    other = with_role(
        UserFactory(first_name="Ida", last_name="Berger"), AccountRole.DEPARTMENT_STAFF
    )
    application = services.application_create(actor=staff, data=data_for(funding["call"]))
    services.application_transition(
        actor=other, application=application, to_status=S.PREPARATION, expected_status=S.IDEA
    )
    services.application_decide(
        actor=staff, application=application, decision=GoDecision.GO, note="Passt."
    )
    services.application_transition(
        actor=staff,
        application=application,
        to_status=S.WITHDRAWN,
        expected_status=S.PREPARATION,
        note="Partner abgesprungen",
    )
    history = application_history(application=application)
    assert [(row.from_status, row.to_status) for row in history] == [
        ("", "Idee"),
        ("Idee", "In Vorbereitung"),
        ("In Vorbereitung", "Zurückgezogen"),
    ]
    assert history[1].actor == "Ida Berger"
    assert history[2].actor == (staff.get_full_name() or staff.email)
    assert history[2].note == "Partner abgesprungen"
    assert history[0].at <= history[1].at <= history[2].at


# ---- the consortium ------------------------------------------------------------------------


def three_members(**city: Any) -> list[MemberData]:
    return [
        MemberData(
            is_city=True, role=city.get("role", Role.COORDINATOR), budget_share=Decimal("1000000")
        ),
        MemberData(name="Fraunhofer IAO", role=Role.PARTNER, budget_share=Decimal("600000")),
        MemberData(name="Stadtwerke Leipzig", role=Role.PARTNER, budget_share=Decimal("400000")),
    ]


def test_setting_the_consortium_replaces_it_and_is_audited(funding: dict[str, Any]) -> None:
    staff, application = funding["staff"], funding["application"]
    organisation = OrganisationFactory(name="Spatial Labs GmbH")
    services.consortium_set(actor=staff, application=application, members=three_members())
    members = [
        MemberData(is_city=True, role=Role.COORDINATOR, budget_share=Decimal("1200000")),
        MemberData(
            organisation_id=organisation.pk, role=Role.PARTNER, budget_share=Decimal("800000")
        ),
    ]
    services.consortium_set(actor=staff, application=application, members=members)
    stored = list(ConsortiumMember.objects.filter(application=application).order_by("position"))
    assert [(m.is_city, m.organisation_id, m.budget_share) for m in stored] == [
        (True, None, Decimal("1200000")),
        (False, organisation.pk, Decimal("800000")),
    ]
    entries = AuditEntry.objects.filter(action="funding.consortium.set").order_by("id")
    assert entries.count() == 2
    assert len(entries[1].before["members"]) == 3
    assert entries[1].after["members"][1]["organisation_id"] == organisation.pk


def test_shares_that_do_not_add_up_are_refused_with_the_sum_and_the_total(
    funding: dict[str, Any],
) -> None:
    staff, application = funding["staff"], funding["application"]
    services.consortium_set(actor=staff, application=application, members=three_members())
    members = three_members()
    members[2].budget_share = Decimal("300000")
    with pytest.raises(ApplicationError) as refused:
        services.consortium_set(actor=staff, application=application, members=members)
    assert str(refused.value.message) == (
        "Die Budgetanteile ergeben 1.900.000,00 €, die Gesamtkosten betragen 2.000.000,00 €."
    )
    # the consortium stored before is untouched
    assert sorted(
        ConsortiumMember.objects.filter(application=application).values_list(
            "budget_share", flat=True
        )
    ) == [Decimal("400000"), Decimal("600000"), Decimal("1000000")]


@pytest.mark.parametrize(
    ("change", "code", "row"),
    [
        ("two_coordinators", "coordinator", None),
        ("no_coordinator", "city_role", 0),
        ("no_city", "city", None),
        ("city_twice", "city", 3),
        ("city_as_partner", "city_role", 0),
    ],
)
def test_the_consortium_has_the_city_once_in_its_role_and_one_coordinator(
    funding: dict[str, Any], change: str, code: str, row: int | None
) -> None:
    members = three_members()
    if change == "two_coordinators":
        members[1].role = Role.COORDINATOR
    elif change == "no_coordinator":
        members[0].role = Role.PARTNER
    elif change == "no_city":
        members[0] = MemberData(name="Leipzig GmbH", role=Role.COORDINATOR, budget_share=Decimal(1))
    elif change == "city_twice":
        members.append(MemberData(is_city=True, role=Role.PARTNER, budget_share=Decimal(0)))
    elif change == "city_as_partner":
        members[0].role = Role.PARTNER
        members[1].role = Role.COORDINATOR
    with pytest.raises(ApplicationError) as refused:
        services.consortium_set(
            actor=funding["staff"], application=funding["application"], members=members
        )
    assert (refused.value.code, refused.value.row) == (code, row)
    assert not ConsortiumMember.objects.exists()


def test_when_the_city_is_partner_another_member_coordinates(funding: dict[str, Any]) -> None:
    application = funding["application"]
    Application.objects.filter(pk=application.pk).update(role=Role.PARTNER)
    application.refresh_from_db()
    members = three_members(role=Role.PARTNER)
    members[1].role = Role.COORDINATOR
    services.consortium_set(actor=funding["staff"], application=application, members=members)
    assert ConsortiumMember.objects.get(is_city=True).role == Role.PARTNER


def test_an_organisation_is_in_the_consortium_at_most_once_and_must_exist(
    funding: dict[str, Any],
) -> None:
    organisation = OrganisationFactory()
    members = [
        MemberData(is_city=True, role=Role.COORDINATOR, budget_share=Decimal("1000000")),
        MemberData(organisation_id=organisation.pk, role=Role.PARTNER, budget_share=Decimal(5e5)),
        MemberData(organisation_id=organisation.pk, role=Role.PARTNER, budget_share=Decimal(5e5)),
    ]
    with pytest.raises(ApplicationError) as twice:
        services.consortium_set(
            actor=funding["staff"], application=funding["application"], members=members
        )
    assert twice.value.row == 2
    assert "schon in Zeile 2" in str(twice.value.message)
    members[2].organisation_id = 987654
    with pytest.raises(ApplicationError) as unknown:
        services.consortium_set(
            actor=funding["staff"], application=funding["application"], members=members
        )
    assert (unknown.value.row, unknown.value.field) == (2, "member")


# ---- documents -----------------------------------------------------------------------------


def test_a_document_is_checked_and_stored_encrypted_and_read_back_audited(
    funding: dict[str, Any],
) -> None:
    staff, application = funding["staff"], funding["application"]
    document = services.application_document_upload(
        actor=staff,
        application=application,
        kind=DocumentKind.LETTER,
        title="",
        file=SimpleUploadedFile("../Bescheid 2026.pdf", PDF, content_type="application/pdf"),
    )
    assert document.title == "Bescheid 2026.pdf"  # the name, without the path
    assert document.content_type == "application/pdf"
    stored = blobs.fetch(f"{blobs.UPLOADS}/{document.storage_path}")
    assert PDF not in stored.raw  # encrypted at rest
    assert services.application_document_read(actor=staff, document=document) == PDF
    actions = list(
        AuditEntry.objects.filter(object_id=str(application.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["funding.document.upload", "funding.document.download"]


def test_a_program_renamed_to_pdf_is_refused(funding: dict[str, Any]) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.application_document_upload(
            actor=funding["staff"],
            application=funding["application"],
            kind=DocumentKind.APPLICATION,
            title="Antrag",
            file=SimpleUploadedFile(
                "antrag.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "application/pdf"
            ),
        )
    assert refused.value.field == "file"
    assert "PDF, PNG oder JPEG" in str(refused.value.message)
    assert not ApplicationDocument.objects.exists()
    assert blobs.names(blobs.UPLOADS) == []


# ---- the list ------------------------------------------------------------------------------


def test_the_list_filters_by_status_level_year_and_words(funding: dict[str, Any]) -> None:
    staff = funding["staff"]
    federal = Programme.objects.create(
        name="Modellprojekte Smart Cities", code="MPSC", funder="BMWSB", level=Level.FEDERAL
    )
    federal_call = Call.objects.create(
        programme=federal, identifier="MPSC-2025", title="Staffel 4", status=CallStatus.OPEN
    )
    submitted = Application.objects.create(
        call=federal_call,
        title="Sensoren im Auwald",
        status=S.SUBMITTED,
        submitted_on=date(2025, 3, 1),
    )
    twin = funding["application"]

    def found(**filters: Any) -> list[int]:
        return [a.pk for a in application_list_for_staff(user=staff, **filters)]

    assert set(found()) == {twin.pk, submitted.pk}
    assert found(status=S.SUBMITTED) == [submitted.pk]
    assert found(level=Level.EU) == [twin.pk]
    assert found(year=2025) == [submitted.pk]
    assert found(year=timezone.localtime(funding["call"].final_deadline).year) == [twin.pk]
    assert found(query="twin-west") == [twin.pk]
    assert found(query="mpsc-20") == [submitted.pk]
    listed = {a.pk: a for a in application_list_for_staff(user=staff)}
    assert listed[twin.pk].next_deadline == funding["call"].final_deadline
    assert listed[submitted.pk].next_deadline is None


# ---- two staff at once ---------------------------------------------------------------------


def in_parallel(count: int, work: Callable[[int], Any]) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            result = str(work(index))
        except ApplicationError as error:
            result = f"refused:{error.code}"
        except Exception as error:  # noqa: BLE001 - any other outcome fails the test
            result = f"error:{type(error).__name__}:{error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == count, outcomes
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: concurrent writers on separate connections; SQLite lets only "
    "one writer in at a time, so there is no race to test there",
)
def test_two_staff_changing_the_status_at_once_one_wins_the_other_is_told(
    funding: dict[str, Any],
) -> None:
    staff = [funding["staff"], with_role(UserFactory(), AccountRole.DEPARTMENT_STAFF)]
    application = in_status(funding["application"], S.PREPARATION, decision=GoDecision.GO)
    wanted = [S.SUBMITTED, S.WITHDRAWN]

    def step(index: int) -> str:
        services.application_transition(
            actor=staff[index],
            application=Application.objects.get(pk=application.pk),
            to_status=wanted[index],
            expected_status=S.PREPARATION,
        )
        return wanted[index]

    outcomes = in_parallel(2, step)
    winners = [o for o in outcomes if not o.startswith("refused")]
    assert len(winners) == 1, outcomes
    assert "refused:stale" in outcomes, outcomes
    application.refresh_from_db()
    assert application.status == winners[0]
    assert AuditEntry.objects.filter(action="funding.application.transition").count() == 1
