"""The demo city's digital economy: loaded once, again without doubling anything, and what a
visitor of the demo sees is there (published entries with relations, a full event)."""

from __future__ import annotations

import pytest
from django.test import Client

from rathaus.accounts.services import user_create
from rathaus.economy import demo
from rathaus.economy.models import Event, Membership, Organisation, Post, Relation, Room

pytestmark = pytest.mark.django_db


def test_the_demo_economy_loads_once_and_shows_on_the_pages() -> None:
    staff = user_create(email="referat@demo.rathaus.example", password="x" * 12)
    member = user_create(email="organisation@demo.rathaus.example", password="x" * 12)

    first = demo.load(staff=staff, member=member)
    again = demo.load(staff=staff, member=member)

    assert first["organisations"] == 14
    assert again == {key: 0 for key in first}
    assert Organisation.objects.filter(status="published").count() == 14
    assert Relation.objects.filter(status="confirmed").count() == len(demo.RELATIONS)
    assert Room.objects.count() == 3 and Event.objects.count() == 3 and Post.objects.count() == 3
    assert Membership.objects.get(user=member).organisation.name == "Sensorwerk Lindenau UG"
    page = Client().get("/wirtschaft/verzeichnis/?q=sensoren")
    assert page.status_code == 200
    assert "Sensorwerk Lindenau UG" in page.content.decode()
