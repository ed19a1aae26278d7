"""The directory's rules: duplicates, moderation, the gate, per-field visibility, members,
claims, the logo check and the CSV import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from PIL import Image

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.models import AuditEntry
from rathaus.economy.constants import (
    ClaimStatus,
    EntrySource,
    EntryStatus,
    MemberRole,
    TermKind,
    Visibility,
)
from rathaus.economy.models import Membership, Organisation
from rathaus.economy.selectors import directory as selectors
from rathaus.economy.services import directory as services
from rathaus.economy.tests.factories_directory import (
    OrganisationFactory,
    TermFactory,
    membership,
    shadow,
)

pytestmark = pytest.mark.django_db


def data(**kwargs: Any) -> services.OrganisationInput:
    kwargs.setdefault("name", "Muster Software GmbH")
    kwargs.setdefault("kind", "startup")
    return services.OrganisationInput(**kwargs)


def png(size: tuple[int, int] = (40, 20), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, format=fmt)
    return out.getvalue()


# ---- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("hrb12345", "HRB 12345"), ("HRB  12345", "HRB 12345"), (" vr 99 ", "VR 99"), ("", "")],
)
def test_register_numbers_are_normalised(raw: str, expected: str) -> None:
    assert services.register_number_normalise(raw) == expected


def test_a_register_number_that_is_none_is_refused() -> None:
    with pytest.raises(ValidationError):
        services.register_number_normalise("12345 Amtsgericht")


def test_name_key_drops_legal_forms_and_folds_umlauts() -> None:
    assert services.name_key_of("Müller Software GmbH & Co. KG") == "muller software"
    assert services.name_key_of("Müller-Software UG (haftungsbeschränkt)") == "muller software"
    assert services.name_key_of("Verein Digitales Leipzig e.V.") == "verein digitales leipzig"
    assert services.name_key_of("AGRAR Systeme AG") == "agrar systeme"


# ---- registration and duplicates --------------------------------------------------------------


def test_registering_makes_a_pending_entry_with_the_person_as_its_admin(
    personas: dict[str, Any],
) -> None:
    citizen = personas["citizen"]
    organisation = services.organisation_register(user=citizen, data=data())
    assert organisation.status == EntryStatus.PENDING
    assert organisation.name_key == "muster software"
    assert Membership.objects.get(organisation=organisation, user=citizen).role == MemberRole.ADMIN
    assert list(selectors.organisations_of_user(user=citizen)) == [organisation]


def test_same_register_number_in_other_spelling_is_a_duplicate_and_never_a_second_entry(
    personas: dict[str, Any],
) -> None:
    existing = OrganisationFactory(name="Alpha GmbH", register_number="HRB 12345")
    with pytest.raises(services.DuplicateError) as caught:
        services.organisation_register(
            user=personas["citizen"],
            data=data(name="Ganz anders", register_number="HRB 12345"),
            duplicate_of=existing,  # even when confirmed: one register number, one entry
        )
    assert caught.value.existing == existing
    assert caught.value.by_register
    assert Organisation.objects.count() == 1


def test_same_name_in_same_city_is_shown_and_can_be_confirmed_as_a_different_one(
    personas: dict[str, Any],
) -> None:
    existing = OrganisationFactory(name="Muster Software AG", city="Leipzig")
    with pytest.raises(services.DuplicateError) as caught:
        services.organisation_register(user=personas["citizen"], data=data())
    assert caught.value.existing == existing and not caught.value.by_register
    second = services.organisation_register(
        user=personas["citizen"], data=data(), duplicate_of=existing
    )
    assert second.duplicate_of == existing
    assert second.status == EntryStatus.PENDING
    # the same name in another city is no duplicate
    other = services.organisation_register(user=personas["citizen"], data=data(city="Halle"))
    assert other.duplicate_of is None


# ---- moderation ------------------------------------------------------------------------------


def test_staff_publish_and_reject_with_a_note_and_it_is_audited(personas: dict[str, Any]) -> None:
    one = services.organisation_register(user=personas["citizen"], data=data(name="Eins"))
    two = services.organisation_register(user=personas["citizen"], data=data(name="Zwei"))
    assert list(selectors.organisation_moderation_list(user=personas["department"])) == [one, two]
    services.organisation_moderate(actor=personas["department"], organisation=one, publish=True)
    services.organisation_moderate(
        actor=personas["department"], organisation=two, publish=False, note="Kein Bezug"
    )
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.status == EntryStatus.PUBLISHED and one.moderated_by == personas["department"]
    assert two.status == EntryStatus.REJECTED and two.moderation_note == "Kein Bezug"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"economy.organisation.publish", "economy.organisation.reject"} <= actions
    with pytest.raises(services.DirectoryError):
        services.organisation_moderate(actor=personas["department"], organisation=one, publish=True)


def test_only_staff_moderate(personas: dict[str, Any]) -> None:
    entry = services.organisation_register(user=personas["citizen"], data=data())
    with pytest.raises(PermissionDenied):
        services.organisation_moderate(actor=personas["citizen"], organisation=entry, publish=True)
    with pytest.raises(PermissionDenied):
        selectors.organisation_moderation_list(user=personas["caseworker"])


# ---- the gate --------------------------------------------------------------------------------


def test_gate_hides_pending_entries_from_everyone_but_members_and_staff(
    personas: dict[str, Any],
) -> None:
    from django.contrib.auth.models import AnonymousUser

    entry = services.organisation_register(user=personas["citizen"], data=data())
    for outsider in (AnonymousUser(), personas["caseworker"]):
        with pytest.raises(Http404):
            selectors.organisation_get_for_user(user=outsider, organisation_id_or_slug=entry.pk)
    for insider in (personas["citizen"], personas["department"]):
        found = selectors.organisation_get_for_user(
            user=insider, organisation_id_or_slug=entry.slug
        )
        assert found == entry
    with pytest.raises(Http404):
        selectors.organisation_get_for_user(
            user=personas["citizen"], organisation_id_or_slug="no-such-entry"
        )
    with pytest.raises(Http404):
        selectors.organisation_get_for_user(
            user=personas["citizen"], organisation_id_or_slug=str(2**70)
        )


def test_gate_for_editing_admits_admins_and_staff_only(personas: dict[str, Any]) -> None:
    entry = OrganisationFactory()
    plain_member = UserFactory()
    membership(personas["citizen"], entry, MemberRole.ADMIN)
    membership(plain_member, entry, MemberRole.MEMBER)
    for allowed in (personas["citizen"], personas["department"]):
        selectors.organisation_get_for_user(
            user=allowed, organisation_id_or_slug=entry.pk, for_edit=True
        )
    for refused in (plain_member, personas["caseworker"]):
        with pytest.raises(PermissionDenied):
            selectors.organisation_get_for_user(
                user=refused, organisation_id_or_slug=entry.pk, for_edit=True
            )
    with pytest.raises(PermissionDenied):
        services.organisation_update(actor=plain_member, organisation=entry, data=data())


# ---- visibility ------------------------------------------------------------------------------


def test_contact_person_is_shown_only_to_members_of_the_directory(
    personas: dict[str, Any],
) -> None:
    from django.contrib.auth.models import AnonymousUser

    admin = personas["citizen"]
    entry = OrganisationFactory()
    membership(admin, entry)
    services.organisation_update(
        actor=admin,
        organisation=entry,
        data=data(
            contact={"name": "Erika Muster", "email": "erika@example.org"},
            phone="0341 123",
            visibility={"phone": Visibility.ORGANISATION},
        ),
    )
    entry.refresh_from_db()
    assert "Erika" not in entry.contact_encrypted  # encrypted at rest
    other_member = UserFactory()
    membership(other_member, OrganisationFactory(), MemberRole.MEMBER)
    anonymous = selectors.organisation_profile(user=AnonymousUser(), organisation=entry)
    logged_in_outsider = selectors.organisation_profile(
        user=personas["caseworker"], organisation=entry
    )
    directory_member = selectors.organisation_profile(user=other_member, organisation=entry)
    own = selectors.organisation_profile(user=admin, organisation=entry)
    assert anonymous.contact is None and logged_in_outsider.contact is None
    assert directory_member.contact == {"name": "Erika Muster", "email": "erika@example.org"}
    assert directory_member.phone is None and own.phone == "0341 123"
    public = selectors.organisation_public_get(organisation_id=entry.pk)
    assert public["phone"] == "" and "contact" not in public


# ---- members ----------------------------------------------------------------------------------


def test_admin_invites_members_changes_roles_and_never_removes_the_last_admin(
    personas: dict[str, Any],
) -> None:
    admin = personas["citizen"]
    entry = OrganisationFactory()
    own = membership(admin, entry)
    colleague = UserFactory(email="kollegin@example.org")
    token = services.membership_invite(
        actor=admin, organisation=entry, email="KOLLEGIN@example.org", role=MemberRole.MEMBER
    )
    # nobody becomes a member without saying yes
    assert not entry.memberships.filter(user=colleague).exists()
    added = services.invitation_accept(user=colleague, token=token)
    assert added.user == colleague and added.role == MemberRole.MEMBER
    with pytest.raises(services.DirectoryError, match="gilt nicht mehr"):  # the link works once
        services.invitation_accept(user=UserFactory(), token=token)
    with pytest.raises(services.DirectoryError):
        services.membership_remove(actor=admin, membership=own)
    with pytest.raises(services.DirectoryError):
        services.membership_role_set(actor=admin, membership=own, role=MemberRole.MEMBER)
    with pytest.raises(PermissionDenied):  # a plain member manages nobody
        services.membership_remove(actor=colleague, membership=own)
    with pytest.raises(PermissionDenied):  # and invites nobody
        services.membership_invite(actor=colleague, organisation=entry, email="x@example.org")
    services.membership_role_set(actor=admin, membership=added, role=MemberRole.ADMIN)
    services.membership_remove(actor=colleague, membership=own)  # now there is another admin
    assert list(entry.memberships.values_list("user_id", flat=True)) == [colleague.pk]


def test_an_invitation_goes_out_by_mail_and_cannot_be_used_withdrawn_or_expired(
    personas: dict[str, Any],
) -> None:
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from rathaus.core.outbox import process_batch
    from rathaus.economy.models import Invitation

    admin = personas["citizen"]
    entry = OrganisationFactory(name="Datenwerk GmbH")
    membership(admin, entry)
    token = services.membership_invite(
        actor=admin, organisation=entry, email="neu@example.org", role=MemberRole.ADMIN
    )
    invitation = Invitation.objects.get()
    assert "neu@example.org" not in invitation.email_encrypted and token not in str(
        invitation.__dict__
    )
    process_batch(worker_id="test", limit=10)
    (message,) = mail.outbox
    assert message.to == ["neu@example.org"]
    assert "Datenwerk GmbH" in message.subject
    assert f"/wirtschaft/einladung/{token}/" in message.body
    assert "Verwaltet das Profil" in message.body and "manages the profile" in message.body.lower()
    # withdrawn: the link is dead
    services.invitation_withdraw(actor=admin, invitation=invitation)
    assert selectors.invitation_by_token(token=token) is None
    with pytest.raises(services.DirectoryError):
        services.invitation_accept(user=UserFactory(), token=token)
    # expired: dead too
    late = services.membership_invite(actor=admin, organisation=entry, email="spaet@example.org")
    Invitation.objects.filter(withdrawn_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(services.DirectoryError):
        services.invitation_accept(user=UserFactory(), token=late)
    assert entry.memberships.count() == 1
    assert AuditEntry.objects.filter(action="economy.invitation.withdraw").count() == 1
    # a month after they are over, the addresses go
    assert services.invitations_purge() == 0
    assert services.invitations_purge(now=timezone.now() + timedelta(days=31)) == 2
    assert not Invitation.objects.exists()


# ---- claims -------------------------------------------------------------------------------


def test_a_claim_gives_no_access_until_staff_approve_it(personas: dict[str, Any]) -> None:
    entry = shadow(name="Schatten GmbH")
    claimant = personas["citizen"]
    claim = services.claim_create(
        user=claimant, organisation=entry, evidence="Ich bin die Geschäftsführerin."
    )
    with pytest.raises(PermissionDenied):
        selectors.organisation_get_for_user(
            user=claimant, organisation_id_or_slug=entry.pk, for_edit=True
        )
    with pytest.raises(services.DirectoryError):  # one pending claim per person and entry
        services.claim_create(user=claimant, organisation=entry, evidence="noch einmal bitte")
    rival = services.claim_create(
        user=personas["caseworker"], organisation=entry, evidence="Ich auch, wirklich."
    )
    with pytest.raises(PermissionDenied):
        services.claim_decide(actor=claimant, claim=claim, approve=True)
    services.claim_decide(actor=personas["department"], claim=claim, approve=True)
    selectors.organisation_get_for_user(
        user=claimant, organisation_id_or_slug=entry.pk, for_edit=True
    )
    rival.refresh_from_db()
    assert rival.status == ClaimStatus.REJECTED
    assert AuditEntry.objects.filter(action="economy.claim.approve").exists()
    with pytest.raises(services.DirectoryError):  # now it has members: no more claims
        services.claim_create(user=UserFactory(), organisation=entry, evidence="Ich gehöre dazu.")


def test_a_claim_on_an_entry_that_got_an_admin_meanwhile_is_not_approved(
    personas: dict[str, Any],
) -> None:
    """Review finding: approving a second claim made a second stranger admin."""
    entry = shadow(name="Doppelt GmbH")
    claim = services.claim_create(
        user=personas["citizen"], organisation=entry, evidence="Ich leite die Firma."
    )
    membership(UserFactory(), entry)  # someone became its admin in the meantime

    with pytest.raises(services.DirectoryError):
        services.claim_decide(actor=personas["department"], claim=claim, approve=True)

    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDING
    assert not entry.memberships.filter(user=personas["citizen"]).exists()


# ---- logo ----------------------------------------------------------------------------------


def test_logo_is_reencoded_and_a_non_image_is_refused(personas: dict[str, Any]) -> None:
    from django.core.files.storage import default_storage

    admin = personas["citizen"]
    entry = OrganisationFactory()
    membership(admin, entry)
    services.organisation_logo_set(
        actor=admin, organisation=entry, content=png((1200, 600), "JPEG")
    )
    entry.refresh_from_db()
    with default_storage.open(entry.logo) as stored, Image.open(stored) as image:
        assert image.format == "PNG" and max(image.size) == services.LOGO_BOX
    for bad in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + b"\0" * 30, png()[:40]):
        with pytest.raises(ValidationError):
            services.organisation_logo_set(actor=admin, organisation=entry, content=bad)
    gif = io.BytesIO()
    Image.new("RGB", (5, 5)).save(gif, format="GIF")
    with pytest.raises(ValidationError, match="PNG-, JPEG- oder WebP"):
        services.logo_check(content=gif.getvalue())


# ---- import -------------------------------------------------------------------------------


CSV = """name;kind;register_number;competences;city;lat;lon;website;email;hiring
Import Eins GmbH;sme;hrb 111;ki;Leipzig;51,34;12,37;eins.example.org;info@eins.example.org;ja
Import Zwei;startup;;;Leipzig;;;;;
Import Eins GmbH;sme;HRB 111;;Leipzig;;;;;
;sme;;;;;;;;
Kaputt AG;unknown;;;;;;;;
Schlecht AG;sme;;nichtda;;;;;;
Halb AG;sme;;;;51,3;;;;
"""


def test_import_creates_shadow_entries_once_and_reports_every_bad_line(
    personas: dict[str, Any],
) -> None:
    TermFactory(kind=TermKind.COMPETENCE, slug="ki", name="Künstliche Intelligenz")
    result = services.organisations_import(actor=None, lines=io.StringIO(CSV))
    assert (result.created, result.updated) == (2, 0)
    assert [line for line, _reason in result.skipped] == [4]
    assert [line for line, _reason in result.rejected] == [5, 6, 7, 8]
    assert "unknown terms: nichtda" in dict(result.rejected)[7]
    eins = Organisation.objects.get(register_number="HRB 111")
    assert eins.source == EntrySource.IMPORT and eins.status == EntryStatus.PUBLISHED
    assert eins.hiring and eins.website == "https://eins.example.org" and eins.lat == 51.34
    assert not eins.memberships.exists()
    again = services.organisations_import(actor=None, lines=io.StringIO(CSV))
    assert (again.created, again.updated) == (0, 2)
    assert Organisation.objects.count() == 2
    # a claimed entry is not overwritten by the next import
    membership(personas["citizen"], eins)
    third = services.organisations_import(actor=None, lines=io.StringIO(CSV))
    assert (third.created, third.updated) == (0, 1)
    assert 2 in [line for line, _reason in third.skipped]


def test_import_command_prints_a_summary(tmp_path: Any, capsys: Any) -> None:
    from django.core.management import call_command

    path = tmp_path / "orgs.csv"
    path.write_text("name,kind\nEins,sme\nZwei,nonsense\n", encoding="utf-8")
    call_command("import-organisations", str(path))
    out = capsys.readouterr().out
    assert "1 created, 0 updated, 0 skipped, 1 rejected" in out
    assert "rejected line 3: kind: unknown" in out
