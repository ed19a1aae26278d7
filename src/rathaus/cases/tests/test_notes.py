"""Internal notes: for the office only, encrypted at rest, not in the audit log's text and
not on the citizen's timeline; still readable after the keys are rotated."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from rathaus.cases.models import CaseNote
from rathaus.cases.selectors import case_notes
from rathaus.cases.services import CaseRefused, case_note_add
from rathaus.cases.tests.test_workflow import _case
from rathaus.core.models import AuditEntry
from rathaus.submissions.selectors import submission_timeline
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]
TEXT = "Rückruf bei Frau Beispiel: Versicherungsnachweis kommt per Post."


def test_a_note_is_for_the_office_only_and_encrypted(office: Any, personas: dict[str, Any]) -> None:
    case = _case(office)
    case_note_add(case=case, author=personas["caseworker"], text=f"  {TEXT}\n")
    (note,) = case_notes(case=case)
    assert (note["text"], note["author"]) == (TEXT, personas["caseworker"])
    stored = CaseNote.objects.get().text_encrypted
    assert "Beispiel" not in stored and "Versicherung" not in stored
    entry = AuditEntry.objects.get(action="case.note")
    assert "Beispiel" not in str(entry.after)
    assert all("Beispiel" not in t["message"] for t in submission_timeline(case.submission))


@pytest.mark.parametrize("text", ["", "   \n", "x" * 10_001])
def test_an_empty_or_overlong_note_is_refused_in_both_languages(
    office: Any, personas: dict[str, Any], text: str
) -> None:
    case = _case(office)
    with pytest.raises(CaseRefused) as refusal:
        case_note_add(case=case, author=personas["caseworker"], text=text)
    assert not CaseNote.objects.exists()
    with translation.override("de"):
        german = refusal.value.message
    with translation.override("en"):
        english = refusal.value.message
    assert german != english and "Notiz" in german and "note" in english.lower()


def test_notes_survive_key_rotation(office: Any, personas: dict[str, Any]) -> None:
    before = list(settings.DATA_KEYS)  # what the fixtures' data was written with
    with override_settings(DATA_KEYS=["old-key-" + "x" * 40]):
        case = _case(office)
        case_note_add(case=case, author=None, text=TEXT)
    with override_settings(DATA_KEYS=["new-key-" + "y" * 40, "old-key-" + "x" * 40, *before]):
        call_command("rotate-keys", stdout=StringIO())
    with override_settings(DATA_KEYS=["new-key-" + "y" * 40]):
        assert case_notes(case=case)[0]["text"] == TEXT
