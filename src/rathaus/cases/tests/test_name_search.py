"""Searching the inbox by the applicant's name, which is stored only encrypted: the blind
index (keyed digests of the name's words) finds whole words however they are spelt (case,
umlauts, accents), keeps no name in the clear, follows key rotation and forgets the name
when retention anonymises the submission."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from rathaus.cases.models import Case, CaseNameToken
from rathaus.cases.selectors import case_inbox
from rathaus.catalog.models import Service
from rathaus.core.blind_index import current_key_id
from rathaus.core.outbox import process_batch
from rathaus.submissions.models import Submission
from rathaus.submissions.services import submissions_apply_retention
from rathaus.submissions.tests.test_retention import _age
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


def _case_of(given: str, family: str) -> Case:
    citizen = Client()
    fill_in_dog_form(citizen, name=given, family_name=family)
    assert citizen.post("/antraege/absenden/hund-anmelden/").status_code == 302
    process_batch(worker_id="test", limit=20)
    return Case.objects.get(submission=Submission.objects.latest("pk"))


def _found(user: Any, office: Any, name: str) -> list[str]:
    return sorted(c.reference for c in case_inbox(user=user, office_id=office.pk, search=name))


def test_a_caseworker_finds_cases_by_the_applicants_name(
    office: Any, personas: dict[str, Any]
) -> None:
    worker = personas["caseworker"]
    mueller = _case_of("Jürgen", "Müller-Lüdenscheidt")
    dordevic = _case_of("Ana", "Đorđević")
    other = _case_of("Anna", "Müller")
    assert _found(worker, office, "mueller luedenscheidt") == [mueller.reference]
    assert _found(worker, office, "MÜLLER") == sorted([mueller.reference, other.reference])
    assert _found(worker, office, "Müller Jürgen") == [mueller.reference]  # any order
    assert _found(worker, office, "dordevic") == [dordevic.reference]  # typed without accents
    assert _found(worker, office, "Ana") == [dordevic.reference]  # whole words: not "Anna"
    assert _found(worker, office, "Müll") == []  # no prefixes
    assert _found(worker, office, "- .") == []  # nothing to search for finds nothing
    # the name is stored encrypted and its index holds digests only, no word of it
    digests = list(CaseNameToken.objects.values_list("digest", flat=True))
    assert all(re.fullmatch(r"[0-9a-f]{32}", digest) for digest in digests)
    stored = " ".join([c.applicant_encrypted for c in Case.objects.all()])
    assert "Müller" not in stored and "Jürgen" not in stored and "mueller" not in stored


def test_name_search_stays_within_the_office(
    office: Any, offices: dict[str, Any], personas: dict[str, Any]
) -> None:
    _case_of("Jürgen", "Müller")
    other = personas["caseworker_other"]
    assert _found(other, offices["standesamt"], "Müller") == []


def test_name_search_follows_key_rotation(office: Any, personas: dict[str, Any]) -> None:
    before = list(settings.DATA_KEYS)
    old, new = "old-key-" + "x" * 40, "new-key-" + "y" * 40
    worker = personas["caseworker"]
    with override_settings(DATA_KEYS=[old, *before]):
        case = _case_of("Jürgen", "Müller")
    with override_settings(DATA_KEYS=[new, old, *before]):
        # before the rotation the old digests are still found
        assert _found(worker, office, "Müller") == [case.reference]
        report = StringIO()
        call_command("rotate-keys", stdout=report)
        assert set(CaseNameToken.objects.values_list("key_id", flat=True)) == {current_key_id()}
    with override_settings(DATA_KEYS=[new]):  # the old key is gone
        assert _found(worker, office, "jürgen müller") == [case.reference]


def test_retention_anonymising_the_submission_forgets_the_name(
    office: Any, personas: dict[str, Any]
) -> None:
    Service.objects.filter(leika_key="99102013000000").update(
        retention_days=10, retention_anonymise=True
    )
    case = _case_of("Jürgen", "Müller")
    _age(case.submission, 11)
    assert submissions_apply_retention() == {"deleted": 0, "anonymised": 1}
    process_batch(worker_id="test", limit=20)
    case.refresh_from_db()
    assert case.applicant_encrypted == "" and not CaseNameToken.objects.exists()
    assert _found(personas["caseworker"], office, "Müller") == []
    assert case_inbox(user=personas["caseworker"], office_id=office.pk).get() == case  # the frame


def test_names_typed_in_decomposed_form_or_other_scripts_are_found(
    office: Any, personas: dict[str, Any]
) -> None:
    worker = personas["caseworker"]
    mueller = _case_of("Jürgen", "Müller")
    ivanov = _case_of("Пётр", "Иванов")
    assert _found(worker, office, "Mu\u0308ller") == [mueller.reference]  # pasted from a PDF
    assert _found(worker, office, "иванов") == [ivanov.reference]


def test_cases_opened_before_names_were_indexed_get_them(
    office: Any, personas: dict[str, Any]
) -> None:
    case = _case_of("Jürgen", "Müller")
    Case.objects.filter(pk=case.pk).update(applicant_encrypted="")
    CaseNameToken.objects.all().delete()
    out = StringIO()
    call_command("index-case-names", stdout=out)
    assert "1 indexed, 0 skipped" in out.getvalue()
    assert _found(personas["caseworker"], office, "Müller") == [case.reference]
    again = StringIO()
    call_command("index-case-names", stdout=again)
    assert "0 indexed, 0 skipped" in again.getvalue()
