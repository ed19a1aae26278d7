"""A milestone's evidence document: a download for the measure's editors only."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _with_document(plan: dict[str, Any]) -> Any:
    milestone = plan["reached"]
    milestone.evidence_file.save("abnahme protokoll.pdf", ContentFile(PDF), save=True)
    return milestone


def test_responsible_person_downloads_the_evidence_of_a_milestone(
    plan: dict[str, Any], responsible_client: Client
):
    milestone = _with_document(plan)
    page = responsible_client.get(reverse("strategy:measure_edit", args=[plan["ld1"].pk]))
    url = reverse("strategy:milestone_evidence", args=[milestone.pk])
    assert url in page.content.decode()
    response = responsible_client.get(url)
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "private, no-store"


def test_evidence_is_refused_to_others_and_missing_documents_are_404(
    plan: dict[str, Any], personas: dict[str, Any], staff_client: Client
):
    milestone = _with_document(plan)
    url = reverse("strategy:milestone_evidence", args=[milestone.pk])
    other = Client()
    other.force_login(personas["caseworker_other"])
    assert other.get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to the log-in
    without = reverse("strategy:milestone_evidence", args=[plan["slipped"].pk])
    assert staff_client.get(without).status_code == 404
    assert staff_client.get(url).content == PDF
