"""The board of offers and needs: posting (members for their organisation, staff for the
administration), the list with its filters, closing, matching by shared competences,
conversations that only their two participants can read, the reply notice and the weekly
digest through the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from rathaus.accounts.constants import Role
from rathaus.accounts.tests.factories import UserFactory, with_role
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import process_batch
from rathaus.economy.constants import EntryStatus, MemberRole, PostKind, PostStatus, TermKind
from rathaus.economy.models import DigestSubscription, Membership, Message, Organisation, Post, Term
from rathaus.economy.selectors.board import post_matching_organisations, posts_matching_user
from rathaus.economy.services.board import (
    BoardRefused,
    board_digest_send,
    digest_subscription_set,
    message_send,
    post_create,
)

pytestmark = pytest.mark.django_db


def term(name: str) -> Term:
    return Term.objects.create(kind=TermKind.COMPETENCE, slug=name.lower(), name=name)


def org(name: str, *competences: Term, status: str = EntryStatus.PUBLISHED) -> Organisation:
    slug = name.lower().replace(" ", "-")
    organisation = Organisation.objects.create(
        name=name, name_key=slug, slug=slug, kind="startup", status=status
    )
    organisation.competences.set(competences)
    return organisation


def member(email: str, organisation: Organisation) -> Any:
    user = UserFactory(email=email)
    Membership.objects.create(user=user, organisation=organisation, role=MemberRole.MEMBER)
    return user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def board() -> dict[str, Any]:
    ki, daten, iot = term("KI"), term("Daten"), term("IoT")
    a = org("Alpha Labs", ki, daten)
    b = org("Beta Analytics", ki)
    c = org("Gamma Sensorik", iot)
    return {
        "ki": ki,
        "daten": daten,
        "iot": iot,
        "a": a,
        "b": b,
        "c": c,
        "alice": member("alice@example.org", a),
        "bob": member("bob@example.org", b),
        "carl": member("carl@example.org", c),
        "staff": with_role(UserFactory(email="staff@example.org"), Role.DEPARTMENT_STAFF),
        "citizen": UserFactory(email="citizen@example.org"),
    }


def need_of_the_city(w: dict[str, Any], **kwargs: Any) -> Post:
    args: dict[str, Any] = {
        "author": w["staff"],
        "kind": PostKind.NEED,
        "title": "Wir suchen eine Lösung für Parkraumdaten",
        "body": "Sensoren und Auswertung.",
        "competence_ids": [w["ki"].pk, w["daten"].pk],
    }
    args.update(kwargs)
    return post_create(**args)


FORM = {
    "kind": PostKind.OFFER,
    "title": "Wir bieten Datenanalyse",
    "body": "Auswertung von Verkehrsdaten mit KI.",
    "tags": "KI, Verkehr, ki",
    "contact": "team@alpha.example",
}


def test_a_member_posts_an_offer_for_their_organisation(board: dict[str, Any]) -> None:
    alice = client_for(board["alice"])
    assert alice.get("/wirtschaft/marktplatz/neu/").status_code == 200
    response = alice.post(
        "/wirtschaft/marktplatz/neu/",
        {**FORM, "organisation": board["a"].pk, "competences": [board["ki"].pk]},
        follow=True,
    )
    post = Post.objects.get()
    assert response.redirect_chain[-1][0] == f"/wirtschaft/marktplatz/{post.pk}/"
    assert post.organisation == board["a"] and post.author == board["alice"]
    assert post.tags == ["KI", "Verkehr"]
    page = response.content.decode()
    assert "Wir bieten Datenanalyse" in page and "team@alpha.example" in page
    # the contact is for members only: not for visitors, not for any logged-in account
    url = f"/wirtschaft/marktplatz/{post.pk}/"
    for outsider in (Client(), client_for(board["citizen"])):
        shown = outsider.get(url).content.decode()
        assert "team@alpha.example" not in shown
        assert "für Mitglieder von Organisationen im Verzeichnis sichtbar" in shown
    assert "team@alpha.example" in client_for(board["staff"]).get(url).content.decode()
    # and it is kept encrypted
    assert "team@alpha.example" not in post.contact_encrypted


def test_a_member_cannot_post_for_an_organisation_they_do_not_belong_to(
    board: dict[str, Any],
) -> None:
    response = client_for(board["alice"]).post(
        "/wirtschaft/marktplatz/neu/", {**FORM, "organisation": board["b"].pk}
    )
    assert response.status_code == 400
    assert "Auswahl" in response.content.decode() or "gültige" in response.content.decode()
    with pytest.raises(BoardRefused, match="deren Mitglied Sie sind"):
        post_create(
            author=board["alice"], kind="offer", title="x", body="y", organisation_id=board["b"].pk
        )
    assert not Post.objects.exists()


def test_bad_post_input_gets_a_message_and_keeps_what_was_typed(board: dict[str, Any]) -> None:
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client_for(board["alice"]).post(
        "/wirtschaft/marktplatz/neu/",
        {**FORM, "organisation": board["a"].pk, "deadline": yesterday},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Die Frist liegt in der Vergangenheit." in page
    assert 'aria-describedby="id_deadline_helptext id_deadline_error"' in page
    assert "Auswertung von Verkehrsdaten mit KI." in page
    too_many = client_for(board["alice"]).post(
        "/wirtschaft/marktplatz/neu/",
        {**FORM, "organisation": board["a"].pk, "tags": ",".join(f"t{i}" for i in range(11))},
    )
    assert "höchstens 10 Schlagworte" in too_many.content.decode()
    assert not Post.objects.exists()


def test_the_honeypot_swallows_a_bot_post(board: dict[str, Any]) -> None:
    response = client_for(board["alice"]).post(
        "/wirtschaft/marktplatz/neu/",
        {**FORM, "organisation": board["a"].pk, "website": "http://spam.example"},
    )
    assert response.status_code == 302
    assert not Post.objects.exists()


def test_posting_is_rate_limited(board: dict[str, Any]) -> None:
    alice = client_for(board["alice"])
    statuses = [
        alice.post(
            "/wirtschaft/marktplatz/neu/", {**FORM, "organisation": board["a"].pk}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [302] * 10 and statuses[10] == 429
    assert Post.objects.count() == 10


def test_people_without_an_organisation_cannot_post(board: dict[str, Any]) -> None:
    response = client_for(board["citizen"]).get("/wirtschaft/marktplatz/neu/")
    assert response.status_code == 403
    assert "Tragen Sie zuerst Ihre Organisation ein" in response.content.decode()
    assert Client().get("/wirtschaft/marktplatz/neu/").status_code == 302  # to the log-in


def test_staff_post_for_the_administration_and_it_is_audited(board: dict[str, Any]) -> None:
    response = client_for(board["staff"]).post(
        "/wirtschaft/marktplatz/neu/",
        {
            **FORM,
            "kind": PostKind.NEED,
            "organisation": "",
            "title": "Wir suchen eine Lösung für X",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.organisation is None
    assert AuditEntry.objects.filter(action="economy.post.create", object_id=str(post.pk)).exists()
    page = Client().get(f"/wirtschaft/marktplatz/{post.pk}/").content.decode()
    assert "Referat Digitale Stadt" in page


def test_the_list_filters_by_kind_competence_and_state(board: dict[str, Any]) -> None:
    need = need_of_the_city(board)
    offer = post_create(
        author=board["carl"],
        kind=PostKind.OFFER,
        title="Sensoren zu vermieten",
        body="LoRaWAN",
        organisation_id=board["c"].pk,
        competence_ids=[board["iot"].pk],
    )
    closed = need_of_the_city(board, title="Alte Suche")
    Post.objects.filter(pk=closed.pk).update(status=PostStatus.CLOSED)
    org("Versteckt", status=EntryStatus.PENDING)

    def titles(**params: Any) -> str:
        return Client().get("/wirtschaft/marktplatz/", params).content.decode()

    everything = titles()
    assert need.title in everything and offer.title in everything and "Alte Suche" not in everything
    assert offer.title not in titles(art="need") and need.title in titles(art="need")
    assert need.title not in titles(kompetenz=board["iot"].pk)
    assert "Alte Suche" in titles(status="closed") and need.title not in titles(status="closed")
    bad = Client().get("/wirtschaft/marktplatz/", {"kompetenz": "abc", "art": "nonsense"})
    assert bad.status_code == 400 and "Bitte prüfen Sie Ihre Angaben" in bad.content.decode()


def test_the_author_or_staff_close_a_post_nobody_else(board: dict[str, Any]) -> None:
    post = post_create(
        author=board["alice"],
        kind="offer",
        title="Angebot",
        body="...",
        organisation_id=board["a"].pk,
    )
    assert (
        client_for(board["bob"]).post(f"/wirtschaft/marktplatz/{post.pk}/schliessen/").status_code
        == 403
    )
    post.refresh_from_db()
    assert post.status == PostStatus.OPEN
    client_for(board["alice"]).post(f"/wirtschaft/marktplatz/{post.pk}/schliessen/")
    post.refresh_from_db()
    assert post.status == PostStatus.CLOSED
    other = need_of_the_city(board)
    client_for(board["staff"]).post(f"/wirtschaft/marktplatz/{other.pk}/schliessen/")
    other.refresh_from_db()
    assert other.status == PostStatus.CLOSED


def test_matching_ranks_organisations_by_shared_competences(board: dict[str, Any]) -> None:
    post = need_of_the_city(board)
    matches = post_matching_organisations(post=post)
    assert [(o.name, o.overlap) for o in matches] == [("Alpha Labs", 2), ("Beta Analytics", 1)]
    page = Client().get(f"/wirtschaft/marktplatz/{post.pk}/").content.decode()
    assert page.index("Alpha Labs") < page.index("Beta Analytics")
    assert "Gamma Sensorik" not in page


def test_members_see_posts_matching_their_competences_first(board: dict[str, Any]) -> None:
    both = need_of_the_city(board)
    one = need_of_the_city(board, title="Nur KI", competence_ids=[board["ki"].pk])
    need_of_the_city(board, title="Nur IoT", competence_ids=[board["iot"].pk])
    own = post_create(
        author=board["alice"],
        kind="offer",
        title="Eigenes",
        body="...",
        organisation_id=board["a"].pk,
        competence_ids=[board["ki"].pk],
    )
    assert [p.pk for p in posts_matching_user(user=board["alice"])] == [both.pk, one.pk]
    assert own.pk not in [p.pk for p in posts_matching_user(user=board["alice"])]
    page = client_for(board["alice"]).get("/wirtschaft/marktplatz/").content.decode()
    assert "Passend zu Ihren Kompetenzen" in page


# ---- conversations -----------------------------------------------------------------------


def test_a_member_replies_and_the_author_answers_in_one_conversation(
    board: dict[str, Any],
) -> None:
    post = need_of_the_city(board)
    alice, staff = client_for(board["alice"]), client_for(board["staff"])
    response = alice.post(
        f"/wirtschaft/marktplatz/{post.pk}/antworten/", {"body": "Wir können das. Geheim 4711."}
    )
    url = f"/wirtschaft/marktplatz/{post.pk}/gespraech/{board['alice'].pk}/"
    assert response["Location"] == url
    stored = Message.objects.get()
    assert "Geheim 4711" not in stored.body_encrypted  # encrypted at rest
    notice = OutboxMessage.objects.get(topic="economy.board_reply")
    assert "4711" not in str(notice.payload)
    assert "Geheim 4711" in staff.get(url).content.decode()
    staff.post(url, {"body": "Bitte schicken Sie ein Angebot."})
    page = alice.get(url).content.decode()
    assert "Geheim 4711" in page and "Bitte schicken Sie ein Angebot." in page
    assert Message.objects.filter(recipient=board["alice"]).count() == 1
    alice.post(f"/wirtschaft/marktplatz/{post.pk}/antworten/", {"body": "Gern."})
    assert Message.objects.filter(thread_user=board["alice"]).count() == 3  # one conversation


def test_only_the_two_participants_can_read_a_conversation(board: dict[str, Any]) -> None:
    post = need_of_the_city(board)
    message_send(sender=board["alice"], post_id=post.pk, body="Nur für das Referat.")
    own_post = post_create(
        author=board["bob"], kind="offer", title="Bobs", body="...", organisation_id=board["b"].pk
    )
    alice_id, bob_id, staff_id = board["alice"].pk, board["bob"].pk, board["staff"].pk
    for viewer, path in [
        (board["bob"], f"/wirtschaft/marktplatz/{post.pk}/gespraech/{alice_id}/"),
        (board["carl"], f"/wirtschaft/marktplatz/{post.pk}/gespraech/{alice_id}/"),
        (board["alice"], f"/wirtschaft/marktplatz/{post.pk}/gespraech/{staff_id}/"),
        (board["bob"], f"/wirtschaft/marktplatz/{own_post.pk}/gespraech/{alice_id}/"),
        (board["citizen"], f"/wirtschaft/marktplatz/{post.pk}/gespraech/{alice_id}/"),
    ]:
        response = client_for(viewer).get(path)
        assert response.status_code == 404, (viewer.email, path)
        assert "Nur für das Referat." not in response.content.decode()
    # with his own id bob only sees his own (empty) conversation, never someone else's
    own = client_for(board["bob"]).get(f"/wirtschaft/marktplatz/{post.pk}/gespraech/{bob_id}/")
    assert own.status_code == 200 and "Nur für das Referat." not in own.content.decode()
    # bob's id in bob's own post: he may not write into alice's conversation with the city
    refused = client_for(board["bob"]).post(
        f"/wirtschaft/marktplatz/{post.pk}/gespraech/{alice_id}/", {"body": "Hallo"}
    )
    assert refused.status_code == 404
    assert (
        Client().get(f"/wirtschaft/marktplatz/{post.pk}/gespraech/{alice_id}/").status_code == 302
    )
    assert Message.objects.count() == 1


def test_a_post_one_may_not_see_cannot_be_read_or_answered_through_a_conversation(
    board: dict[str, Any],
) -> None:
    """Review finding: one's own (empty) conversation showed any post's title."""
    hidden_org = org("Bald archiviert GmbH")
    author = member("verborgen@example.org", hidden_org)
    hidden = post_create(
        author=author, kind="offer", title="Geheimes Angebot", body="...",
        organisation_id=hidden_org.pk,
    )  # fmt: skip
    Organisation.objects.filter(pk=hidden_org.pk).update(status=EntryStatus.ARCHIVED)
    page = client_for(board["bob"]).get(
        f"/wirtschaft/marktplatz/{hidden.pk}/gespraech/{board['bob'].pk}/"
    )
    assert page.status_code == 404
    assert "Geheimes Angebot" not in page.content.decode()
    with pytest.raises(BoardRefused):
        message_send(sender=board["bob"], post_id=hidden.pk, body="Hallo")
    assert not Message.objects.filter(post=hidden).exists()


def test_people_without_an_organisation_cannot_reply_and_closed_posts_take_no_new_replies(
    board: dict[str, Any],
) -> None:
    post = need_of_the_city(board)
    with pytest.raises(BoardRefused, match="Mitglieder"):
        message_send(sender=board["citizen"], post_id=post.pk, body="Hallo")
    message_send(sender=board["alice"], post_id=post.pk, body="Erste Antwort")
    Post.objects.filter(pk=post.pk).update(status=PostStatus.CLOSED)
    response = client_for(board["bob"]).post(
        f"/wirtschaft/marktplatz/{post.pk}/antworten/", {"body": "Zu spät"}
    )
    assert response.status_code == 400
    assert "geschlossen" in response.content.decode()
    message_send(sender=board["alice"], post_id=post.pk, body="Nachfrage")  # begun: goes on
    empty = client_for(board["alice"]).post(
        f"/wirtschaft/marktplatz/{post.pk}/antworten/", {"body": "  "}
    )
    assert (
        empty.status_code == 400 and "Bitte schreiben Sie eine Nachricht." in empty.content.decode()
    )


def test_the_reply_notice_is_sent_without_the_message_text(board: dict[str, Any]) -> None:
    post = need_of_the_city(board)
    message_send(sender=board["alice"], post_id=post.pk, body="Vertrauliches Angebot 4711")
    process_batch(worker_id="test", limit=10)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["staff@example.org"]
    assert "Parkraumdaten" in sent.subject
    assert "4711" not in sent.body and f"/gespraech/{board['alice'].pk}/" in sent.body


def test_my_messages_lists_only_my_conversations_with_unread_counts(board: dict[str, Any]) -> None:
    post = need_of_the_city(board)
    message_send(sender=board["alice"], post_id=post.pk, body="A")
    message_send(sender=board["bob"], post_id=post.pk, body="B")
    staff_page = (
        client_for(board["staff"]).get("/wirtschaft/marktplatz/nachrichten/").content.decode()
    )
    assert staff_page.count(post.title) == 2
    bob_page = client_for(board["bob"]).get("/wirtschaft/marktplatz/nachrichten/").content.decode()
    assert bob_page.count(post.title) == 1
    assert f"/gespraech/{board['alice'].pk}/" not in bob_page


# ---- the weekly digest ---------------------------------------------------------------------


def test_members_subscribe_and_unsubscribe_on_the_digest_page(board: dict[str, Any]) -> None:
    alice = client_for(board["alice"])
    assert "nicht" in alice.get("/wirtschaft/marktplatz/wochenuebersicht/").content.decode()
    alice.post("/wirtschaft/marktplatz/wochenuebersicht/", {"active": "on", "only_matching": "on"})
    subscription = DigestSubscription.objects.get(user=board["alice"])
    assert subscription.active and subscription.only_matching
    alice.post("/wirtschaft/marktplatz/wochenuebersicht/", {})
    subscription.refresh_from_db()
    assert not subscription.active


def test_the_digest_goes_once_a_week_to_each_subscriber_with_the_matching_new_posts(
    board: dict[str, Any],
) -> None:
    digest_subscription_set(user=board["alice"], active=True, only_matching=True)
    digest_subscription_set(user=board["carl"], active=True, only_matching=True)
    digest_subscription_set(user=board["bob"], active=False, only_matching=False)
    ki_post = need_of_the_city(board)
    old = need_of_the_city(board, title="Von vor zwei Wochen")
    Post.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=14))
    now = timezone.now()

    assert board_digest_send(now=now) == 1  # carl (IoT) has nothing new that matches
    assert board_digest_send(now=now + timedelta(hours=1)) == 0  # same week: nothing again
    digests = OutboxMessage.objects.filter(topic="economy.board_digest")
    assert digests.count() == 1 and digests.get().payload["post_ids"] == [ki_post.pk]
    process_batch(worker_id="test", limit=10)
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert (
        "Parkraumdaten" in mail.outbox[0].body and "Von vor zwei Wochen" not in mail.outbox[0].body
    )

    later = now + timedelta(days=7)
    need_of_the_city(board, title="Neu in der nächsten Woche", competence_ids=[board["daten"].pk])
    Post.objects.filter(title="Neu in der nächsten Woche").update(
        created_at=later - timedelta(days=1)
    )
    assert board_digest_send(now=later) == 1
    assert OutboxMessage.objects.filter(topic="economy.board_digest").count() == 2


def test_a_subscriber_without_only_matching_gets_every_new_post(board: dict[str, Any]) -> None:
    digest_subscription_set(user=board["carl"], active=True, only_matching=False)
    post = need_of_the_city(board)
    assert board_digest_send() == 1
    assert OutboxMessage.objects.get(topic="economy.board_digest").payload["post_ids"] == [post.pk]


def test_deadline_today_is_accepted(board: dict[str, Any]) -> None:
    post = need_of_the_city(board, deadline=timezone.localdate())
    assert post.deadline == timezone.localdate()


def test_the_list_takes_the_same_number_of_queries_for_many_posts(
    board: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for i in range(25):
        post_create(
            author=board["alice"],
            kind="offer",
            title=f"Angebot {i}",
            body="...",
            organisation_id=board["a"].pk,
            competence_ids=[board["ki"].pk, board["daten"].pk],
        )
    client = client_for(board["bob"])
    client.get("/wirtschaft/marktplatz/")  # the session and the caches warm
    with django_assert_max_num_queries(14):
        page = client.get("/wirtschaft/marktplatz/").content.decode()
    assert "Angebot 24" in page and "Angebot 4" not in page  # 20 a page, newest first
    assert "Seite 1 von 2" in page
    assert "Angebot 4" in client.get("/wirtschaft/marktplatz/", {"seite": 2}).content.decode()
