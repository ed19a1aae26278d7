"""Sessions are kept in the database, which every node reads; the daily job removes expired
ones (and only those)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from rathaus.accounts.handlers import delete_expired_sessions

pytestmark = pytest.mark.django_db


def test_expired_sessions_are_removed_and_live_ones_kept() -> None:
    live, old = SessionStore(), SessionStore()
    live["n"] = 1
    old["n"] = 2
    live.create()
    old.create()
    Session.objects.filter(session_key=old.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    delete_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
