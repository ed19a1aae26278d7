"""Relations between organisations and to people: proposed by a member of one side,
confirmed or declined by the other, entered by staff at once; shown on the profile and in
the network view; read by other apps through ``relations_of`` and ``organisations_related``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from rathaus.accounts.constants import Role
from rathaus.accounts.tests.factories import UserFactory, with_role
from rathaus.core.models import AuditEntry
from rathaus.economy.constants import EntryStatus, MemberRole, RelationKind, RelationStatus
from rathaus.economy.models import Membership, Organisation, Person, Relation
from rathaus.economy.selectors.relations import (
    organisations_are_related,
    organisations_related,
    relations_of,
)
from rathaus.economy.services.relations import (
    RelationRefused,
    relation_confirm,
    relation_decline,
    relation_propose,
)

pytestmark = pytest.mark.django_db


def org(name: str, status: str = EntryStatus.PUBLISHED) -> Organisation:
    slug = name.lower().replace(" ", "-")
    return Organisation.objects.create(
        name=name, name_key=slug, slug=slug, kind="startup", status=status
    )


def member(user: Any, organisation: Organisation) -> Any:
    Membership.objects.create(user=user, organisation=organisation, role=MemberRole.ADMIN)
    return user


@pytest.fixture
def world() -> dict[str, Any]:
    a, b, c = org("Alpha Labs"), org("Beta Uni"), org("Gamma Hub")
    return {
        "a": a,
        "b": b,
        "c": c,
        "alice": member(UserFactory(email="alice@example.org"), a),
        "bob": member(UserFactory(email="bob@example.org"), b),
        "carl": member(UserFactory(email="carl@example.org"), c),
        "staff": with_role(UserFactory(email="staff@example.org"), Role.DEPARTMENT_STAFF),
        "outsider": UserFactory(email="out@example.org"),
    }


def propose(w: dict[str, Any], **kwargs: Any) -> Relation:
    args = {
        "actor": w["alice"],
        "source_id": w["a"].pk,
        "kind": RelationKind.PARTNER_IN,
        "target_id": w["b"].pk,
    }
    args.update(kwargs)
    return relation_propose(**args)


def test_a_proposal_waits_until_a_member_of_the_other_side_confirms(world: dict[str, Any]) -> None:
    relation = propose(world, starts_on=date(2024, 1, 1))
    assert relation.status == RelationStatus.PROPOSED
    assert relations_of(organisation_id=world["b"].pk) == []
    relation_confirm(actor=world["bob"], relation_id=relation.pk)
    shown = relations_of(organisation_id=world["b"].pk)
    assert [r.pk for r in shown] == [relation.pk]
    assert shown[0].decided_by == world["bob"]


def test_the_proposing_side_cannot_confirm_its_own_proposal(world: dict[str, Any]) -> None:
    relation = propose(world)
    with pytest.raises(RelationRefused, match="andere Seite"):
        relation_confirm(actor=world["alice"], relation_id=relation.pk)
    with pytest.raises(RelationRefused, match="andere Seite"):
        relation_confirm(actor=world["carl"], relation_id=relation.pk)
    relation.refresh_from_db()
    assert relation.status == RelationStatus.PROPOSED


def test_a_declined_proposal_is_never_shown_and_cannot_be_confirmed_later(
    world: dict[str, Any],
) -> None:
    relation = propose(world)
    relation_decline(actor=world["bob"], relation_id=relation.pk)
    assert relations_of(organisation_id=world["a"].pk, confirmed_only=False) == []
    with pytest.raises(RelationRefused, match="schon entschieden"):
        relation_confirm(actor=world["bob"], relation_id=relation.pk)


def test_nobody_proposes_for_an_organisation_they_are_not_a_member_of(
    world: dict[str, Any],
) -> None:
    with pytest.raises(RelationRefused, match="deren Mitglied Sie sind"):
        propose(world, actor=world["bob"])
    with pytest.raises(RelationRefused, match="deren Mitglied Sie sind"):
        propose(world, actor=world["outsider"])
    assert not Relation.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_id": "self"}, "zu sich selbst"),
        ({"starts_on": date(2024, 5, 1), "ends_on": date(2024, 4, 30)}, "Ende liegt vor"),
        ({"kind": RelationKind.FOUNDED_BY}, "Person"),
        ({"kind": "friend_of"}, "gibt es nicht"),
    ],
)
def test_bad_relations_are_refused_with_a_clear_message(
    world: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    if kwargs.get("target_id") == "self":
        kwargs["target_id"] = world["a"].pk
    with pytest.raises(RelationRefused, match=message):
        propose(world, **kwargs)


def test_the_same_relation_twice_is_refused(world: dict[str, Any]) -> None:
    propose(world)
    with pytest.raises(RelationRefused, match="schon eingetragen"):
        propose(world)


def test_staff_entries_count_as_confirmed_and_are_audited(world: dict[str, Any]) -> None:
    relation = propose(world, actor=world["staff"], kind=RelationKind.FUNDED_BY)
    assert relation.status == RelationStatus.CONFIRMED
    entry = AuditEntry.objects.get(action="economy.relation.create")
    assert entry.actor_id == world["staff"].pk
    assert entry.after["kind"] == RelationKind.FUNDED_BY


def test_a_person_confirms_a_link_to_them_with_their_own_account(world: dict[str, Any]) -> None:
    founder_user = UserFactory(email="founder@example.org")
    founder = Person.objects.create(name="Frida Gründer", user=founder_user)
    relation = propose(world, kind=RelationKind.FOUNDED_BY, target_id=None, person_id=founder.pk)
    with pytest.raises(RelationRefused):
        relation_confirm(actor=world["bob"], relation_id=relation.pk)
    relation_confirm(actor=founder_user, relation_id=relation.pk)
    relation.refresh_from_db()
    assert relation.status == RelationStatus.CONFIRMED


def test_organisations_related_follows_links_both_ways_and_through_people(
    world: dict[str, Any],
) -> None:
    a, b, c = world["a"], world["b"], world["c"]
    d, e = org("Delta GmbH"), org("Epsilon AG")
    staff = world["staff"]
    relation_propose(actor=staff, source_id=a.pk, kind=RelationKind.PARTNER_IN, target_id=b.pk)
    relation_propose(actor=staff, source_id=c.pk, kind=RelationKind.SPIN_OFF_OF, target_id=b.pk)
    founder = Person.objects.create(name="Paula Person")
    relation_propose(
        actor=staff, source_id=a.pk, kind=RelationKind.FOUNDED_BY, person_id=founder.pk
    )
    relation_propose(
        actor=staff, source_id=d.pk, kind=RelationKind.ADVISED_BY, person_id=founder.pk
    )
    propose(world, target_id=e.pk)  # only proposed: not a relation yet

    assert organisations_related(organisation_id=a.pk) == {b.pk, d.pk}
    assert organisations_related(organisation_id=a.pk, depth=2) == {b.pk, c.pk, d.pk}
    assert organisations_related(organisation_id=a.pk, confirmed_only=False) == {b.pk, d.pk, e.pk}
    assert organisations_related(organisation_id=a.pk, kinds=[RelationKind.PARTNER_IN]) == {b.pk}
    assert organisations_are_related(organisation_id=c.pk, other_id=a.pk, depth=2)
    assert not organisations_are_related(organisation_id=c.pk, other_id=a.pk)
    assert not organisations_are_related(organisation_id=e.pk, other_id=a.pk)


def test_the_selectors_for_other_apps_take_a_fixed_number_of_queries(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    hub = world["a"]
    for i in range(15):
        other = org(f"Firma {i}")
        relation_propose(
            actor=world["staff"], source_id=other.pk, kind=RelationKind.MEMBER_OF, target_id=hub.pk
        )
    with django_assert_max_num_queries(2):
        rows = relations_of(organisation_id=hub.pk)
        names = {r.source.name for r in rows} | {r.target.name for r in rows if r.target}
    assert len(rows) == 15 and "Firma 3" in names
    with django_assert_max_num_queries(3 * 2):
        related = organisations_related(organisation_id=hub.pk, depth=2)
    assert len(related) == 15


# ---- pages -------------------------------------------------------------------------------


def render_profile(organisation: Organisation, user: Any) -> str:
    request = RequestFactory().get(f"/wirtschaft/{organisation.slug}/")
    request.user = user
    return render_to_string(
        "economy/relations/_on_profile.html",
        {"organisation": organisation, "user": user},
        request=request,
    )


def test_profile_shows_confirmed_relations_to_all_and_proposals_only_to_the_sides(
    world: dict[str, Any],
) -> None:
    from django.contrib.auth.models import AnonymousUser

    confirmed = propose(world, starts_on=date(2023, 3, 1))
    relation_confirm(actor=world["bob"], relation_id=confirmed.pk)
    propose(world, kind=RelationKind.MEMBER_OF, target_id=world["c"].pk)

    public = render_profile(world["a"], AnonymousUser())
    assert (
        "Beta Uni" in public
        and "Ist partner in".lower() in public.lower()
        and "seit 01.03.2023" in public
    )
    assert "Gamma Hub" not in public and "Vorgeschlagen" not in public

    other_side = render_profile(world["c"], world["carl"])
    assert "Vorgeschlagen, noch nicht bestätigt" in other_side and "Bestätigen" in other_side
    proposer = render_profile(world["a"], world["alice"])
    assert "Gamma Hub" in proposer and "Bestätigen" not in proposer
    assert "Gamma Hub" not in render_profile(world["a"], world["outsider"])
    # the target's side reads the relation from its own point of view
    assert "Hat als Partner" in render_profile(world["b"], AnonymousUser())


def test_member_proposes_on_the_page_and_the_other_side_confirms_there(
    world: dict[str, Any],
) -> None:
    alice, bob = Client(), Client()
    alice.force_login(world["alice"])
    bob.force_login(world["bob"])
    bad = alice.post(
        "/wirtschaft/beziehungen/neu/",
        {
            "source": world["a"].pk,
            "kind": RelationKind.PARTNER_IN,
            "target": world["b"].pk,
            "starts_on": "2024-05-01",
            "ends_on": "2024-04-01",
        },
    )
    assert bad.status_code == 400
    assert "Das Ende liegt vor dem Beginn." in bad.content.decode()
    assert 'value="2024-05-01"' in bad.content.decode()  # nothing typed is lost
    ok = alice.post(
        "/wirtschaft/beziehungen/neu/",
        {"source": world["a"].pk, "kind": RelationKind.PARTNER_IN, "target": world["b"].pk},
        follow=True,
    )
    assert "vorgeschlagen" in ok.content.decode()
    relation = Relation.objects.get()
    waiting = bob.get("/wirtschaft/beziehungen/").content.decode()
    assert "Alpha Labs" in waiting and "Bestätigen" in waiting
    # the proposing side's attempt is refused with a message, nothing changes
    refused = alice.post(f"/wirtschaft/beziehungen/{relation.pk}/bestaetigen/", follow=True)
    assert "andere Seite" in refused.content.decode()
    relation.refresh_from_db()
    assert relation.status == RelationStatus.PROPOSED
    bob.post(f"/wirtschaft/beziehungen/{relation.pk}/bestaetigen/")
    relation.refresh_from_db()
    assert relation.status == RelationStatus.CONFIRMED


def test_someone_without_an_organisation_cannot_open_the_relation_form(
    world: dict[str, Any],
) -> None:
    client = Client()
    client.force_login(world["outsider"])
    response = client.get("/wirtschaft/beziehungen/neu/")
    assert response.status_code == 403
    assert "Mitglieder einer Organisation" in response.content.decode()


def test_network_view_draws_the_links_and_lists_them_in_a_table(world: dict[str, Any]) -> None:
    staff = world["staff"]
    relation_propose(
        actor=staff,
        source_id=world["a"].pk,
        kind=RelationKind.LOCATED_AT_HUB,
        target_id=world["c"].pk,
        starts_on=date(2022, 1, 1),
    )
    hidden = org("Versteckt GmbH", status=EntryStatus.PENDING)
    relation_propose(
        actor=staff, source_id=hidden.pk, kind=RelationKind.PARTNER_IN, target_id=world["c"].pk
    )
    page = Client().get("/wirtschaft/netzwerk/").content.decode()
    assert '<svg role="img"' in page and '<title id="network-title">' in page
    assert "Netzwerkgrafik mit 2 Knoten und 1 Beziehung." in page
    assert "sitzt im Hub" in page and "seit 01.01.2022" in page
    assert "Versteckt" not in page
    centred = Client().get("/wirtschaft/netzwerk/", {"organisation": world["c"].slug})
    assert "Netzwerk von Gamma Hub" in centred.content.decode()
    unknown = Client().get("/wirtschaft/netzwerk/", {"organisation": "gibt-es-nicht"}, follow=True)
    assert "nicht im Verzeichnis" in unknown.content.decode()


def test_the_other_side_is_told_of_a_proposal_by_e_mail(world: dict[str, Any]) -> None:
    from django.core import mail

    from rathaus.core.outbox import process_batch

    propose(world)
    propose(world, actor=world["staff"], target_id=world["c"].pk)  # confirmed: nobody asked
    process_batch(worker_id="test", limit=10)
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    sent = mail.outbox[0]
    assert "Alpha Labs ist Partner in Beta Uni" in sent.subject
    assert "/wirtschaft/beziehungen/" in sent.body
