"""Hand-over to the office's systems: the FIT-Connect-shaped export (metadata valid against
FIT-Connect's schema, SHA-512 of everything), the pull API with per-office tokens and scopes,
and signed webhooks that a receiver can check and that cannot be replayed."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from rathaus.catalog.models import Service
from rathaus.core.models import AuditEntry
from rathaus.core.outbox import process_batch
from rathaus.core.webhooks import verify
from rathaus.forms.definition import fields_of
from rathaus.forms.fim import parse_file
from rathaus.submissions.handover import by_fim_ids, export_submission
from rathaus.submissions.models import ApiToken, Submission
from rathaus.submissions.services import api_token_create, webhook_destination_create
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

SHARED = Path(__file__).resolve().parents[5] / "shared" / "data"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


@pytest.fixture
def office(offices: dict[str, Any]) -> Any:
    Service.objects.get(leika_key="99102013000000").offices.add(offices["ordnungsamt"])
    return offices["ordnungsamt"]


def _submit(client: Client, **kwargs: Any) -> Submission:
    fill_in_dog_form(client, **kwargs)
    client.post("/antraege/absenden/hund-anmelden/")
    return Submission.objects.latest("pk")


def test_the_export_is_shaped_like_a_fit_connect_submission(client: Client, office: Any) -> None:
    submission = _submit(client, with_file=True)
    export = export_submission(submission)
    schema = json.loads((SHARED / "fitconnect" / "metadata.schema.v1.0.0.json").read_text())
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(export.metadata)
    content = export.metadata["contentStructure"]
    assert content["data"]["hash"]["content"] == hashlib.sha512(export.data).hexdigest()
    hashes = {a["attachmentId"]: a["hash"]["content"] for a in content["attachments"]}
    purposes = sorted(a["purpose"] for a in content["attachments"])
    assert purposes == ["attachment", "form"]
    for file in export.files:
        assert hashes[file.attachment_id] == hashlib.sha512(file.content).hexdigest()
    assert export.metadata["publicServiceType"]["identifier"] == (
        "urn:de:fim:leika:leistung:99102013000000"
    )
    assert export.metadata["replyChannel"] == {"eMail": {"address": "erika@example.org"}}
    assert json.loads(export.data)["vorname"] == "Erika"
    assert json.loads(export.data)["bescheid"] in hashes  # the file answer names its attachment
    # the same UUIDs on every export
    assert [f.attachment_id for f in export_submission(submission).files] == [
        f.attachment_id for f in export.files
    ]


def test_fim_forms_hand_over_their_data_keyed_by_fim_ids() -> None:
    definition, _report = parse_file(
        SHARED / "fim" / "xdf2" / "bewohnerparken" / "S05000058V1.0_xdf2.xml"
    )
    fields = fields_of(definition)
    data = {f.id: "x" for f in fields if not f.id.startswith("F") or "." in f.id}
    data.update({f.id: "x" for f in fields[:5]})
    keyed = by_fim_ids([i for s in definition.steps for i in s.items], data)
    assert set(keyed) <= {f.fim_id for f in fields} | {f.id for f in fields}
    assert all(key.startswith(("F", "G")) for key in keyed)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_pull_api_gives_an_office_its_submissions_and_nobody_elses(
    client: Client, office: Any, offices: dict[str, Any]
) -> None:
    submission = _submit(client, with_file=True)
    _record, token = api_token_create(
        office=office,
        name="Fachverfahren",
        scopes=["submissions:read", "submissions:acknowledge"],
        actor=None,
    )
    api = Client()
    listing = api.get("/api/v1/submissions?status=new", headers=_bearer(token)).json()
    assert [s["reference"] for s in listing["items"]] == [submission.reference]
    body = api.get(f"/api/v1/submissions/{submission.reference}", headers=_bearer(token)).json()
    assert body["data"]["vorname"] == "Erika"
    metadata_hashes = {
        a["attachmentId"]: a["hash"]["content"]
        for a in body["metadata"]["contentStructure"]["attachments"]
    }
    for attachment in body["attachments"]:
        file = api.get(attachment["url"].removeprefix("http://testserver"), headers=_bearer(token))
        assert (
            hashlib.sha512(file.content).hexdigest() == metadata_hashes[attachment["attachmentId"]]
        )
    acknowledged = api.post(
        f"/api/v1/submissions/{submission.reference}/acknowledge", headers=_bearer(token)
    )
    assert acknowledged.status_code == 200
    assert api.get("/api/v1/submissions?status=new", headers=_bearer(token)).json()["items"] == []
    assert (
        len(api.get("/api/v1/submissions?status=all", headers=_bearer(token)).json()["items"]) == 1
    )
    submission.refresh_from_db()
    assert submission.fetched_at and submission.acknowledged_at
    # another office's token sees nothing of it
    _other, other_token = api_token_create(
        office=offices["standesamt"], name="Standesamt", scopes=["submissions:read"], actor=None
    )
    assert (
        api.get(
            f"/api/v1/submissions/{submission.reference}", headers=_bearer(other_token)
        ).status_code
        == 404
    )
    assert (
        api.get("/api/v1/submissions?status=all", headers=_bearer(other_token)).json()["items"]
        == []
    )
    # nor can it acknowledge it, even with the scope for that; a wrong or revoked token: nothing
    _other, other_full = api_token_create(
        office=offices["standesamt"],
        name="Standesamt 2",
        scopes=["submissions:read", "submissions:acknowledge"],
        actor=None,
    )
    assert (
        api.post(
            f"/api/v1/submissions/{submission.reference}/acknowledge", headers=_bearer(other_full)
        ).status_code
        == 404
    )
    unknown = f"/api/v1/submissions/{submission.reference}/attachments/{uuid.uuid4()}"
    assert api.get(unknown, headers=_bearer(token)).status_code == 404
    assert api.get("/api/v1/submissions").status_code == 401
    assert api.get("/api/v1/submissions", headers=_bearer(token + "x")).status_code == 401
    ApiToken.objects.filter(name="Fachverfahren").update(revoked_at=timezone.now())
    assert api.get("/api/v1/submissions", headers=_bearer(token)).status_code == 401


def test_a_read_only_token_cannot_acknowledge(client: Client, office: Any) -> None:
    submission = _submit(client)
    _record, token = api_token_create(
        office=office, name="Lesen", scopes=["submissions:read"], actor=None
    )
    answer = Client().post(
        f"/api/v1/submissions/{submission.reference}/acknowledge", headers=_bearer(token)
    )
    assert answer.status_code == 403 and set(answer.json()["messages"]) == {"de", "en"}


@contextmanager
def signed_receiver(secret_holder: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Another system's webhook endpoint that checks signature, age and replays."""
    state: dict[str, Any] = {"url": "", "accepted": [], "refused": [], "raw": []}
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            state["raw"].append((headers, body))
            why = verify(secret=secret_holder["secret"], headers=headers, body=body, seen=seen)
            (state["refused"] if why else state["accepted"]).append(why or json.loads(body))
            self.send_response(401 if why else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_webhooks_are_signed_and_a_replay_is_refused(client: Client, office: Any) -> None:
    import urllib.request

    holder: dict[str, str] = {}
    with signed_receiver(holder) as receiver:
        _destination, holder["secret"] = webhook_destination_create(
            office=office, url=receiver["url"], actor=None
        )
        submission = _submit(client)
        process_batch(worker_id="test", limit=20)
        (event,) = receiver["accepted"]
        assert (
            event["event"] == "submission.received" and event["reference"] == submission.reference
        )
        assert "Erika" not in json.dumps(event)  # no personal data in the announcement
        raw_headers, body = receiver["raw"][0]
        headers = {
            k: v
            for k, v in raw_headers.items()
            if k.startswith("X-Rathaus") or k in {"Idempotency-Key", "Content-Type"}
        }
        for changed_headers, changed_body, why in (
            (headers, body, "replayed"),
            ({**headers, "Idempotency-Key": "new-key"}, body, "bad signature"),
            (headers, body.replace(b"received", b"deleted"), "bad signature"),
            (
                {**headers, "X-Rathaus-Timestamp": str(int(headers["X-Rathaus-Timestamp"]) - 3600)},
                body,
                "bad signature",
            ),
        ):
            request = urllib.request.Request(
                receiver["url"], data=changed_body, method="POST", headers=changed_headers
            )
            try:
                urllib.request.urlopen(request, timeout=5)  # noqa: S310 - local test server
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
            assert receiver["refused"][-1] == why
    too_old = verify(
        secret="s",
        headers={
            "X-Rathaus-Timestamp": "1000",
            "X-Rathaus-Signature": __import__(
                "rathaus.core.webhooks", fromlist=["signature"]
            ).signature("s", 1000, "k", b"{}"),
            "Idempotency-Key": "k",
        },
        body=b"{}",
        seen=set(),
        now=1000 + 301,
    )
    assert too_old == "too old"


def test_an_operator_switches_a_webhook_off_and_it_gets_nothing_more(
    client: Client, office: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    holder: dict[str, str] = {}
    with signed_receiver(holder) as receiver:
        destination, holder["secret"] = webhook_destination_create(
            office=office, url=receiver["url"], actor=None
        )
        _submit(client)  # its announcement is queued
        listing = StringIO()
        call_command("destinations", stdout=listing)
        assert f"{destination.pk:>5}  on " in listing.getvalue()
        assert receiver["url"] in listing.getvalue()
        out = StringIO()
        call_command("destinations", "--off", str(destination.pk), stdout=out)
        assert "is off; 1 queued hand-over(s) to it will not be sent" in out.getvalue()
        process_batch(worker_id="test", limit=20)
        assert receiver["raw"] == []  # the queued announcement was not sent
        _submit(Client())  # and a new submission announces nothing
        process_batch(worker_id="test", limit=20)
        assert receiver["raw"] == []
    assert AuditEntry.objects.filter(
        action="submissions.destination.switch_off", object_id=str(destination.pk)
    ).exists()
    with pytest.raises(CommandError, match="no destination with id 999999"):
        call_command("destinations", "--off", "999999")


def test_webhooks_queued_before_the_upgrade_name_their_destination_after_it(
    office: Any,
) -> None:
    """Migration 0008: an old ``webhook.post`` row of a submission becomes a message that a
    switched-off destination stops too; other webhooks are left alone."""
    from importlib import import_module

    from django.apps import apps

    from rathaus.core.services import outbox_message_create

    destination, _secret = webhook_destination_create(
        office=office, url="http://127.0.0.1:9/hook", actor=None
    )
    body = {"event": "submission.received", "reference": "L-2026-2345-6789"}
    old = outbox_message_create(
        topic="webhook.post",
        payload={"url": destination.url, "secret": destination.secret_encrypted, "body": body},
        idempotency_key=f"webhook:{destination.pk}:L-2026-2345-6789",
    )
    other = outbox_message_create(topic="webhook.post", payload={"url": "http://x/"})
    import_module("rathaus.submissions.migrations.0008_queued_messages").todays_shape(apps, None)
    old.refresh_from_db()
    assert old.topic == "submissions.webhook"
    assert old.payload == {"destination_id": destination.pk, "body": body}  # no secret in it
    other.refresh_from_db()
    assert other.topic == "webhook.post"


def test_an_operator_revokes_a_token_at_once(office: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    _record, token = api_token_create(
        office=office, name="Altes Fachverfahren", scopes=["submissions:read"], actor=None
    )
    api = Client()
    assert api.get("/api/v1/submissions", headers=_bearer(token)).status_code == 200
    out = StringIO()
    call_command("revoke-api-token", token[:10], stdout=out)
    assert "1 token(s) revoked" in out.getvalue()
    assert api.get("/api/v1/submissions", headers=_bearer(token)).status_code == 401
    from rathaus.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="submissions.api_token.revoke").exists()
