from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings

from rathaus.accounts.models import User
from rathaus.accounts.tests.factories import PASSWORD, UserFactory, current_code, enrol_totp
from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.outbox import process_batch

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/konto/anmelden/", {"username": email, "password": password}, **extra)


def test_citizen_logs_in_with_email_and_password(client: Client) -> None:
    UserFactory(email="bea@example.org")
    response = _login(client, "BEA@example.org")
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 200


def test_wrong_password_says_so_next_to_the_form_in_german(client: Client) -> None:
    UserFactory(email="bea@example.org")
    response = _login(client, "bea@example.org", "wrong-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert "E-Mail-Adresse oder Passwort sind nicht richtig" in html
    assert 'role="alert"' in html


def test_failed_logins_are_throttled_after_five_attempts(client: Client) -> None:
    UserFactory(email="bea@example.org")
    for _ in range(5):
        _login(client, "bea@example.org", "wrong-password")
    response = _login(client, "bea@example.org", PASSWORD)
    assert response.status_code == 429
    assert "fehlgeschlagene Anmeldeversuche" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_enrolled_staff_must_enter_the_totp_code(client: Client, personas: dict[str, Any]) -> None:
    device = enrol_totp(personas["caseworker"])
    response = _login(client, "cw1@example.org")
    assert response["Location"] == "/konto/anmelden/code/"
    assert "_auth_user_id" not in client.session  # not logged in before the code
    wrong = client.post("/konto/anmelden/code/", {"token": "000000"})
    assert "Der Code ist falsch" in wrong.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes a user wait after a wrong code; we "waited"
    right = client.post("/konto/anmelden/code/", {"token": current_code(device)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(personas["caseworker"].pk)


def test_staff_without_second_factor_is_asked_to_enrol(
    client: Client, personas: dict[str, Any]
) -> None:
    client.force_login(personas["caseworker"])
    html = client.get("/konto/").content.decode()
    assert "/konto/zwei-faktor/" in html
    assert "richten Sie bitte die Zwei-Faktor-Anmeldung ein" in html


def test_enrolling_totp_needs_a_valid_code_and_is_audited(
    client: Client, personas: dict[str, Any]
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(personas["caseworker"])
    page = client.get("/konto/zwei-faktor/")
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = TOTPDevice.objects.get(user=personas["caseworker"], confirmed=False)
    bad = client.post("/konto/zwei-faktor/", {"token": "12345"})
    assert "sechs Ziffern" in bad.content.decode()
    good = client.post("/konto/zwei-faktor/", {"token": current_code(device)})
    assert good.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action="user.two_factor.enrol").exists()


def test_admin_of_enrolled_staff_needs_the_second_factor_in_this_session(
    client: Client, personas: dict[str, Any]
) -> None:
    enrol_totp(personas["admin"])
    client.force_login(personas["admin"])  # password only, no code
    assert client.get("/admin/").status_code == 302


def test_magic_link_logs_a_new_citizen_in_once(client: Client) -> None:
    response = client.post("/konto/anmelden/link/", {"email": "neu@example.org"})
    assert "Bitte sehen Sie in Ihr Postfach" in response.content.decode()
    assert OutboxMessage.objects.filter(topic="accounts.magic_link").count() == 1
    # no e-mail address and no token in the outbox row
    assert "neu@example.org" not in str(OutboxMessage.objects.get().payload)
    process_batch(worker_id="test")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["neu@example.org"]
    link = re.search(r"http://\S+", mail.outbox[0].body)
    assert link
    path = link.group(0).split("8000", 1)[1]
    confirm = client.get(path)
    assert "Anmeldung bestätigen" in confirm.content.decode()
    assert "_auth_user_id" not in client.session  # a GET (mail scanner) does not log in
    client.post(path)
    assert client.session["_auth_user_id"] == str(User.objects.get(email="neu@example.org").pk)
    client.logout()
    reused = client.post(path)
    assert reused.status_code == 400
    assert "Dieser Link gilt nicht mehr" in reused.content.decode()


def test_magic_link_form_rejects_a_malformed_address_with_a_linked_error(client: Client) -> None:
    response = client.post("/konto/anmelden/link/", {"email": "not-an-address"})
    html = response.content.decode()
    assert 'id="id_email_error"' in html
    assert 'aria-describedby="id_email_error"' in html
    assert 'aria-invalid="true"' in html
    assert not OutboxMessage.objects.exists()


@override_settings(RATELIMIT_MAGIC_LINK="3/h")
def test_magic_link_requests_are_rate_limited(client: Client) -> None:
    for _ in range(3):
        assert client.post("/konto/anmelden/link/", {"email": "a@example.org"}).status_code == 200
    response = client.post("/konto/anmelden/link/", {"email": "a@example.org"})
    assert response.status_code == 429
    assert OutboxMessage.objects.count() == 3


def test_magic_link_api_answers_202_and_the_same_for_unknown_addresses(client: Client) -> None:
    UserFactory(email="known@example.org")
    for email in ("known@example.org", "unknown@example.org"):
        response = client.post(
            "/api/v1/auth/magic-link", {"email": email}, content_type="application/json"
        )
        assert response.status_code == 202
        assert response.json() == {"status": "sent"}


def test_magic_link_api_rejects_bad_address_per_field_in_two_languages(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/magic-link", {"email": "nope"}, content_type="application/json"
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["field"] == "email"
    assert set(errors[0]["messages"]) == {"de", "en"}


@override_settings(RATELIMIT_MAGIC_LINK="2/h")
def test_magic_link_api_is_rate_limited(client: Client) -> None:
    statuses = [
        client.post(
            "/api/v1/auth/magic-link", {"email": "x@example.org"}, content_type="application/json"
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429]


def test_logout_needs_post(client: Client, personas: dict[str, Any]) -> None:
    client.force_login(personas["citizen"])
    assert client.get("/konto/abmelden/").status_code == 405
    client.post("/konto/abmelden/")
    assert "_auth_user_id" not in client.session


def test_login_does_not_redirect_to_other_sites(client: Client) -> None:
    UserFactory(email="bea@example.org")
    response = client.post(
        "/konto/anmelden/",
        {"username": "bea@example.org", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/konto/"


def test_citizen_from_a_magic_link_sets_a_password_and_logs_in_with_it(client: Client) -> None:
    user = User.objects.create_user("link.only@example.org")
    assert not user.has_usable_password()
    client.force_login(user)
    page = client.get("/konto/passwort/")
    assert "Passwort festlegen" in page.content.decode()
    short = client.post("/konto/passwort/", {"new_password1": "kurz", "new_password2": "kurz"})
    assert 'aria-invalid="true"' in short.content.decode()
    new = "ein-langes-passwort-2026"
    response = client.post("/konto/passwort/", {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="user.password.set", object_id=str(user.pk)).exists()
    client.logout()
    assert _login(client, "link.only@example.org", new).status_code == 302


def test_admin_reached_through_the_real_login(client: Client, personas: dict[str, Any]) -> None:
    first = client.get("/admin/", follow=True)
    assert first.redirect_chain[-1][0].startswith("/konto/anmelden/")
    response = client.post(
        first.redirect_chain[-1][0],
        {"username": "admin@example.org", "password": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/admin/"
    assert response.status_code == 200


def test_enrolled_admin_gets_the_code_step_then_the_admin(
    client: Client, personas: dict[str, Any]
) -> None:
    device = enrol_totp(personas["admin"])
    client.force_login(personas["admin"])  # password only
    step = client.get("/admin/login/?next=/admin/")
    assert step["Location"] == "/konto/anmelden/code/"
    done = client.post("/konto/anmelden/code/", {"token": current_code(device)})
    assert done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_login_throttling_counts_all_spellings_of_an_address(client: Client) -> None:
    UserFactory(email="bea@example.org")
    for spelling in (
        "bea@example.org",
        "Bea@example.org",
        "BEA@example.org",
        "bea@Example.org",
        "bEa@example.org",
    ):
        _login(client, spelling, "wrong-password")
    assert _login(client, "Bea@Example.org", PASSWORD).status_code == 429


def test_413_page_speaks_english_to_an_english_browser(client: Client) -> None:
    from django.test import override_settings

    with override_settings(MAX_REQUEST_BYTES=100):
        response = client.post(
            "/konto/anmelden/link/", {"email": "x" * 500}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 413
    assert 'lang="en"' in response.content.decode()


def test_magic_link_api_refuses_form_posts_from_other_sites(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/magic-link", data='{"email": "a@example.org"}', content_type="text/plain"
    )
    assert response.status_code == 415
    assert not OutboxMessage.objects.exists()


def test_staff_addresses_of_persons_are_not_imported_from_open_data() -> None:
    from django.core.management import call_command

    from rathaus.accounts.models import Office

    call_command("import-leipzig-offices", stdout=open("/dev/null", "w"))  # noqa: SIM115
    emails = set(Office.objects.exclude(email="").values_list("email", flat=True))
    assert "umweltschutz@leipzig.de" in emails
    assert not [e for e in emails if "." in e.partition("@")[0]]


def test_staff_page_asks_for_the_code_in_a_session_started_without_it(
    client: Client, personas: dict[str, Any]
) -> None:
    client.force_login(personas["caseworker"])
    device = enrol_totp(personas["caseworker"])  # enrolled elsewhere, after this session began
    response = client.get("/konto/einheiten/")
    assert response["Location"] == "/konto/anmelden/code/"
    client.post("/konto/anmelden/code/", {"token": current_code(device)})
    assert client.get("/konto/einheiten/").status_code == 200


def test_admin_password_change_is_audited(client: Client, personas: dict[str, Any]) -> None:
    client.force_login(personas["admin"])
    target = personas["citizen"]
    new = "ein-neues-passwort-2026"
    response = client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(
        action="admin.password.change", object_id=str(target.pk)
    ).exists()
