"""An event's own questions, built with the form engine: rendered on the registration page,
checked by the forms app's validation (messages per field, typed values kept), stored
encrypted with the registration and shown to staff by their labels."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rathaus.economy.models import Event, Registration
from rathaus.economy.selectors.events import registration_person
from rathaus.economy.tests.test_events import make_event, register
from rathaus.forms.definition import FormDefinition
from rathaus.forms.models import Form
from rathaus.forms.services import form_draft_save, form_version_publish

pytestmark = pytest.mark.django_db

DEFINITION = {
    "title": {"de": "Fragen zur Anmeldung", "en": "Registration questions"},
    "steps": [
        {
            "id": "s1",
            "title": {"de": "Über Sie"},
            "items": [
                {
                    "kind": "field",
                    "id": "firma",
                    "type": "text",
                    "label": {"de": "Firma"},
                    "required": True,
                },
                {
                    "kind": "field",
                    "id": "mitarbeitende",
                    "type": "number",
                    "label": {"de": "Zahl der Mitarbeitenden"},
                    "minimum": 1,
                },
            ],
        },
        {
            "id": "s2",
            "title": {"de": "Verpflegung"},
            "items": [
                {
                    "kind": "field",
                    "id": "essen",
                    "type": "choice",
                    "label": {"de": "Essen"},
                    "codelist": "essen",
                    "widget": "radio",
                    "required": True,
                }
            ],
        },
    ],
    "codelists": {
        "essen": {
            "title": {"de": "Essen"},
            "items": [
                {"code": "vegan", "label": {"de": "vegan"}},
                {"code": "alles", "label": {"de": "alles"}},
            ],
        }
    },
}


@pytest.fixture
def questions_form() -> Form:
    form = Form.objects.create(slug="anmeldung-ki", title="Fragen zur Anmeldung")
    version = form_draft_save(
        form=form, definition=FormDefinition.model_validate(DEFINITION), actor=None
    )
    form_version_publish(version=version, actor=None)
    return form


def test_the_registration_page_shows_the_questions_of_every_step(
    client: Client, questions_form: Form
) -> None:
    event = make_event(registration_form=questions_form.slug)
    page = client.get(f"/wirtschaft/veranstaltungen/{event.slug}/anmelden/").content.decode()
    for text in ("Fragen zur Anmeldung", 'name="firma"', 'name="mitarbeitende"', "vegan"):
        assert text in page


def test_malformed_answers_get_messages_per_field_and_nothing_is_lost(
    client: Client, questions_form: Form
) -> None:
    event = make_event(registration_form=questions_form.slug)
    response = register(
        client, event, "Jana Berger", "jana@example.org", firma="Basislager", mitarbeitende="viele"
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Bitte geben Sie eine ganze Zahl ein" in page
    assert "Bitte wählen Sie eine der Möglichkeiten." in page
    assert 'href="#mitarbeitende"' in page and 'href="#essen"' in page
    assert 'value="Basislager"' in page and 'value="Jana Berger"' in page
    assert Registration.objects.count() == 0


def test_answers_are_stored_encrypted_and_staff_read_them_by_label(
    client: Client, questions_form: Form, personas: dict[str, Any]
) -> None:
    event = make_event(registration_form=questions_form.slug)
    response = register(
        client,
        event,
        "Jana Berger",
        "jana@example.org",
        firma="Basislager",
        mitarbeitende="12",
        essen="vegan",
    )
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert "Basislager" not in registration.person_encrypted
    answers = registration_person(registration)["answers"]
    assert answers["values"] == {"firma": "Basislager", "mitarbeitende": 12, "essen": "vegan"}

    staff = Client()
    staff.force_login(personas["department"])
    page = staff.get(
        f"/wirtschaft/veranstaltungen/verwaltung/{event.pk}/anmeldungen/"
    ).content.decode()
    assert "Firma: Basislager" in page and "Essen: vegan" in page


def test_staff_cannot_choose_a_form_without_a_published_version(
    personas: dict[str, Any],
) -> None:
    Form.objects.create(slug="nur-entwurf", title="Nur Entwurf")
    staff = Client()
    staff.force_login(personas["department"])
    from rathaus.economy.tests.test_events import event_post

    response = staff.post(
        "/wirtschaft/veranstaltungen/verwaltung/neu/",
        event_post(registration_form="nur-entwurf"),
    )
    assert response.status_code == 422
    assert 'href="#id_registration_form"' in response.content.decode()
    assert not Event.objects.exists()
