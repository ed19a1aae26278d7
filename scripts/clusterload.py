"""Load driver for the local cluster (scripts/cluster.py): citizens and staff as real HTTP
through nginx, shared by the fault test (scripts/fault_test.py) and the cluster benchmark
(bench/cluster.py).

- ``Citizen``: fills in a demo form that takes attachments (the Bewohnerparkausweis: two file
  fields) page by page as a browser without JavaScript does, uploads a real PDF and PNG,
  submits, and keeps the reference, the status link and the receipt (a PDF) that the
  confirmation page gives; or submits the same through the JSON API in one request with an
  ``Idempotency-Key`` (``mode="api"``). A request that fails (a 5xx or no answer) is retried
  as a browser's user or an API client would: the submit is idempotent (the draft's token,
  the key), so a retry must never make a second submission.
- ``Staff``: a demo caseworker logs in and moves the cases of those submissions on
  (received -> in progress).
- ``view_status``: the citizen's status page (reference + code).
- ``Receiver``: an idempotent webhook receiver (a threaded http.server) that records every
  request by its ``Idempotency-Key`` (repeats counted) and checks the signature.
- ``Recorder``: every request timed (for p50/p99) with its status or error and wall-clock
  start and end (to tell requests in flight on a killed node from anything else).

Python's standard library and ``requests`` only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import struct
import threading
import time
import traceback
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_DIR = Path(os.environ.get("RATHAUS_CLUSTER_DIR") or ROOT / "var" / "cluster").resolve()
STATE_FILE = CLUSTER_DIR / "state.json"


def read_state() -> dict[str, Any] | None:
    """The running cluster's state.json (scripts/cluster.py), or None."""
    try:
        state: dict[str, Any] = json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return state


def answers(url: str) -> bool:
    """Whether the cluster at ``url`` answers its health check."""
    try:
        return requests.get(url + "/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


FORM_SLUG = "bewohnerparkausweis"  # the demo form with attachments, handled by the Ordnungsamt
STAFF_EMAILS = ("sachbearbeitung@demo.rathaus.example", "amtsleitung@demo.rathaus.example")
DEMO_PASSWORD = "rathaus-demo"  # noqa: S105 - the demo accounts' public password (seed-demo)
TIMEOUT = 60.0  # seconds per request
RETRIES = 8  # attempts per request when the answer is a 5xx or none
RETRY_PAUSE = 0.5  # seconds, doubled per attempt up to 4 s

# -- files to upload -----------------------------------------------------------------------


def pdf_bytes(text: str = "Rathaus Lasttest") -> bytes:
    """A small valid one-page PDF (objects, cross-reference table and trailer)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_bytes(width: int = 32, height: int = 24) -> bytes:
    """A small valid RGB PNG (a colour gradient), which Pillow opens and verifies."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 8 % 256, y * 10 % 256, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


UPLOADS = (
    ("nutzungsueberlassung.pdf", "application/pdf", pdf_bytes("Nutzungsueberlassung")),
    ("fahrzeugschein.png", "image/png", png_bytes()),
)

# -- recording -----------------------------------------------------------------------------


@dataclass
class Sample:
    """One HTTP request: what, when (wall clock, seconds since 1970), how long, the answer."""

    kind: str
    method: str
    path: str
    started: float
    ended: float
    status: int | None  # None: no answer (connection refused/reset, timeout)
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def failed(self) -> bool:
        """A server error or no answer at all (what a dying node produces)."""
        return self.status is None or self.status >= 500


class Recorder:
    """Thread-safe list of samples plus finished journeys, with summaries."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.events: list[tuple[float, str]] = []  # (wall clock, what happened), e.g. kills

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def event(self, text: str, at: float | None = None) -> float:
        at = time.time() if at is None else at
        with self.lock:
            self.events.append((at, text))
        return at

    def snapshot(self) -> list[Sample]:
        with self.lock:
            return list(self.samples)

    def by_kind(self, samples: list[Sample] | None = None) -> dict[str, dict[str, Any]]:
        """Per kind: count, status codes, failures, p50/p99 of the successful ones (ms)."""
        result: dict[str, dict[str, Any]] = {}
        for sample in self.snapshot() if samples is None else samples:
            entry = result.setdefault(
                sample.kind, {"count": 0, "statuses": Counter(), "failed": 0, "ms": []}
            )
            entry["count"] += 1
            entry["statuses"][str(sample.status) if sample.status else "no answer"] += 1
            if sample.failed:
                entry["failed"] += 1
            else:
                entry["ms"].append(sample.seconds * 1000)
        for entry in result.values():
            times = entry.pop("ms")
            entry["p50_ms"] = percentile(times, 50)
            entry["p99_ms"] = percentile(times, 99)
        return result


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Failed(Exception):
    """A step of a journey did not give what it must (after the retries)."""


class Stopped(Exception):
    """The run's time is up while a journey was retrying."""


class Client:
    """A browser-like HTTP client (its own cookies) that times and records every request
    and retries one that fails with a 5xx or no answer."""

    def __init__(
        self,
        base: str,
        recorder: Recorder,
        *,
        stop: threading.Event | None = None,
        retries: int = RETRIES,
    ) -> None:
        self.base = base.rstrip("/")
        self.recorder = recorder
        self.stop = stop
        self.retries = retries
        self.last_attempts = 0  # how many tries the last ``request`` took
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "Rathaus-Clusterload/1"
        self.http.headers["Accept-Language"] = "de"

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path)

    def once(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        url = self.url(path)
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        if method == "POST":
            # Django checks the Referer of unsafe requests only over HTTPS; a browser sends
            # one anyway, and the same origin is never wrong
            headers = dict(kwargs.pop("headers", {}) or {})
            headers.setdefault("Referer", url)
            kwargs["headers"] = headers
        started = time.time()
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.RequestException as exc:
            self.recorder.add(
                Sample(kind, method, urlsplit(url).path, started, time.time(), None, _why(exc))
            )
            return None
        self.recorder.add(
            Sample(kind, method, urlsplit(url).path, started, time.time(), response.status_code)
        )
        return response

    def request(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The answer that is not a 5xx, retrying (with a growing pause) what is; Failed when
        every attempt failed, Stopped when the run ended meanwhile."""
        pause = RETRY_PAUSE
        for attempt in range(self.retries):
            self.last_attempts = attempt + 1
            if attempt and self.stop is not None and self.stop.is_set():
                raise Stopped(f"{method} {path}")
            response = self.once(kind, method, path, **kwargs)
            if response is not None and response.status_code < 500:
                return response
            time.sleep(pause)
            pause = min(pause * 2, 4.0)
            for value in (kwargs.get("files") or {}).values():  # file objects are read again
                if hasattr(value[1], "seek"):
                    value[1].seek(0)
        raise Failed(f"{method} {path}: no answer without a server error in {self.retries} tries")

    def csrf(self) -> str:
        return self.http.cookies.get("csrftoken") or ""


def _why(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:300]


# -- HTML ----------------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)


@dataclass
class HtmlForm:
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value)


class PageParser(HTMLParser):
    """The forms (with their inputs, selects, textareas and buttons) and links of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.links: list[str] = []
        self._form: HtmlForm | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = HtmlForm(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                self._form.buttons.append((a["name"], a.get("value", "")))
            else:
                self._form.fields.append(Field(a["name"], kind, a.get("value", ""), "checked" in a))
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._form.buttons.append((a.get("name", ""), a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a:
                self._select.value = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def form_with(
    page: PageParser,
    action_contains: str = "",
    *,
    field_name: str = "",
    button: tuple[str, str] | None = None,
) -> HtmlForm:
    """The first form of the page whose action contains ``action_contains``, with a field
    ``field_name`` and a submit ``button`` (name, value), as far as given."""
    for form in page.forms:
        if action_contains and action_contains not in form.action:
            continue
        if field_name and not any(f.name == field_name for f in form.fields):
            continue
        if button and button not in form.buttons:
            continue
        return form
    raise Failed(f"no form {action_contains or field_name or button!r} on the page")


def error_text(html: str) -> str:
    """The error summary of a page, short (for a failure message)."""
    found = re.findall(r'class="kern-error[^"]*"[^>]*>(.*?)<', html, flags=re.S)
    found += re.findall(r'<li><a href="#[^"]+">(.*?)</a>', html, flags=re.S)
    return "; ".join(" ".join(t.split()) for t in found if t.strip())[:300]


# -- the form's answers --------------------------------------------------------------------


class FormSpec:
    """The field specs of a published form (GET /api/v1/forms/{slug}), keyed by field id,
    and the JSON Schema of its data: values are made from them, for the web form and the
    API alike."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.slug: str = document["slug"]
        self.schema: dict[str, Any] = document["data_schema"]
        self.codelists: dict[str, Any] = document["definition"].get("codelists", {})
        self.specs: dict[str, dict[str, Any]] = {}
        self.repeats: dict[str, dict[str, Any]] = {}
        for step in document["definition"]["steps"]:
            self._collect(step["items"])

    def _collect(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("kind") == "group":
                if item.get("repeat"):
                    self.repeats[item["id"]] = item
                self._collect(item.get("items", []))
            elif item.get("kind") == "field":
                self.specs[item["id"]] = item

    @classmethod
    def fetch(cls, client: Client, slug: str = FORM_SLUG) -> FormSpec:
        response = client.request("page", "GET", f"/api/v1/forms/{slug}")
        if response.status_code != 200:
            raise Failed(f"form {slug}: {response.status_code}")
        return cls(response.json())

    def text_value(self, field_id: str, number: int, *, web: bool) -> str:
        """A valid answer for a text-like field (not choices, consents or files)."""
        spec = self.specs.get(field_id, {})
        schema = self.schema.get("properties", {}).get(field_id, {})
        kind = spec.get("type", "text")
        if kind == "date":
            return "01.02.1980" if web else "1980-02-01"
        if kind in ("decimal", "number", "integer"):
            return str(10 + number % 1000)
        if kind == "postcode":
            return "04109"
        if kind == "email" or "mail" in str(spec.get("label", {}).get("de", "")).lower():
            return f"lasttest-{number}@example.org"
        if kind == "iban":
            return "DE02120300000000202051"
        pattern = schema.get("pattern", "")
        if pattern.startswith("^[0-9]{") or pattern.startswith("^\\d"):
            return str(10 + number % 1000)
        minimum = int(schema.get("minLength", spec.get("min_length", 1)) or 1)
        maximum = int(schema.get("maxLength", spec.get("max_length", 200)) or 200)
        value = f"Muster {number}" if maximum >= 12 else "a" * max(1, min(minimum, maximum))
        return value[:maximum].ljust(minimum, "x")

    def api_data(self, number: int, parts: list[str]) -> dict[str, Any]:
        """The complete data for the API, files as ``part:<name>`` in order of ``parts``."""
        free = iter(parts)

        def value(field_id: str, schema: dict[str, Any]) -> Any:
            spec = self.specs.get(field_id, {})
            if spec.get("type") == "file":
                return f"part:{next(free)}"
            if "enum" in schema:
                return schema["enum"][0]
            if schema.get("type") == "boolean":
                return True
            if schema.get("type") == "array":
                item = schema.get("items", {})
                return [
                    {k: value(k, v) for k, v in item.get("properties", {}).items()}
                    for _ in range(max(schema.get("minItems", 1), 1))
                ]
            return self.text_value(field_id, number, web=False)

        return {k: value(k, v) for k, v in self.schema.get("properties", {}).items()}


def _field_id(name: str) -> str:
    """``group__0__F123`` -> ``F123``: the field id of an input name."""
    return name.rsplit("__", 1)[-1]


def fill(form: HtmlForm, spec: FormSpec, number: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The data and files a person sends for one step: every field answered (the first
    choice, consents given, a file for each file input)."""
    data: dict[str, Any] = {}
    files: dict[str, Any] = {}
    radios_done: set[str] = set()
    uploads = iter(UPLOADS * 10)
    for item in form.fields:
        name = item.name
        if item.kind == "hidden":
            data[name] = item.value
        elif item.kind == "file":
            filename, content_type, content = next(uploads)
            files[name] = (filename, content, content_type)
        elif item.kind == "select":
            data[name] = item.value or next((o for o in item.options if o), "")
        elif item.kind == "radio":
            if name not in radios_done:
                radios_done.add(name)
                data[name] = item.value
        elif item.kind == "checkbox":
            data[name] = item.value or "on"
        else:
            data[name] = item.value or spec.text_value(_field_id(name), number, web=True)
    data["action"] = "next"
    return data, files


# -- citizens ------------------------------------------------------------------------------


@dataclass
class Submitted:
    """What the citizen was given: the acknowledged reference and its status link."""

    reference: str
    status_path: str  # /antraege/<reference>/status/<code>/
    receipt_path: str
    receipt_ok: bool  # the receipt came and is a PDF
    mode: str  # "web" or "api"
    idempotency_key: str = ""  # the API's (the web form's is the draft's token, not known)
    started: float = 0.0
    ended: float = 0.0


class Citizen:
    """One person submitting one application after another (a new browser each time)."""

    def __init__(
        self,
        base: str,
        recorder: Recorder,
        spec: FormSpec,
        *,
        stop: threading.Event | None = None,
        mode: str = "web",
        number: int = 0,
    ) -> None:
        self.base = base
        self.recorder = recorder
        self.spec = spec
        self.stop = stop
        self.mode = mode
        self.number = number

    def submit(self) -> Submitted:
        """One complete application: fill in, upload, submit, confirmation, receipt."""
        client = Client(self.base, self.recorder, stop=self.stop)
        self.number += 1
        started = time.time()
        done = self._api(client) if self.mode == "api" else self._web(client)
        done.started, done.ended = started, time.time()
        return done

    def _web(self, client: Client) -> Submitted:
        slug = self.spec.slug
        start = client.request("page", "GET", f"/formulare/{slug}/")
        if start.status_code != 200:
            raise Failed(f"start page {start.status_code}")
        begin = form_with(parse(start.text), f"/formulare/{slug}/beginnen/")
        response = client.request(
            "page",
            "POST",
            begin.action,
            data={"csrfmiddlewaretoken": client.csrf()},
        )
        location = _redirect(response, "begin")
        for _step in range(30):  # the steps, then the summary
            if location.rstrip("/").endswith("/pruefen"):
                break
            page = client.request("page", "GET", location)
            if page.status_code != 200:
                raise Failed(f"{location}: {page.status_code}")
            form = form_with(parse(page.text), button=("action", "next"))
            data, files = fill(form, self.spec, self.number)
            response = client.request(
                "upload" if files else "page",
                "POST",
                form.action or location,
                data=data,
                files=files or None,
            )
            if response.status_code != 302:
                raise Failed(f"{location}: {response.status_code} {error_text(response.text)}")
            location = response.headers["Location"]
        summary = client.request("page", "GET", location)
        if summary.status_code != 200:
            raise Failed(f"summary {summary.status_code}")
        send = form_with(parse(summary.text), f"/antraege/absenden/{slug}/")
        response = client.request(
            "submit", "POST", send.action, data={"csrfmiddlewaretoken": client.csrf()}
        )
        confirmation = _redirect(response, "submit")
        match = re.search(r"/antraege/([^/]+)/eingegangen/", confirmation)
        if not match:
            raise Failed(f"submit led to {confirmation}, not a confirmation")
        reference = match.group(1)
        page = client.request("confirmation", "GET", confirmation)
        if page.status_code != 200 or reference not in page.text:
            raise Failed(f"confirmation {page.status_code} without the reference")
        links = parse(page.text).links
        receipt = next((link for link in links if link.endswith("eingangsbestaetigung.pdf")), "")
        status = re.search(rf"/antraege/{re.escape(reference)}/status/[^/\"<\s]+/", page.text)
        if not receipt or not status:
            raise Failed("confirmation without the receipt or the status link")
        return Submitted(
            reference,
            status.group(0),
            urlsplit(receipt).path,
            self._receipt(client, receipt),
            "web",
        )

    def _api(self, client: Client) -> Submitted:
        key = str(uuid.uuid4())
        names = [f"file{i}" for i in range(len(UPLOADS))]
        data = self.spec.api_data(self.number, names)
        files = {
            name: (filename, content, content_type)
            for name, (filename, content_type, content) in zip(names, UPLOADS, strict=True)
        }
        response = client.request(
            "submit",
            "POST",
            f"/api/v1/forms/{self.spec.slug}/submissions",
            data={"data": json.dumps(data)},
            files=files,
            headers={"Idempotency-Key": key},
        )
        if response.status_code != 201:
            raise Failed(f"API submit {response.status_code}: {response.text[:300]}")
        body = response.json()
        receipt = urlsplit(body["receipt_url"]).path
        return Submitted(
            body["reference"],
            urlsplit(body["status_url"]).path,
            receipt,
            self._receipt(client, receipt),
            "api",
            idempotency_key=f"api:{self.spec.slug}:{key}",
        )

    def _receipt(self, client: Client, path: str) -> bool:
        response = client.request("receipt", "GET", path)
        return response.status_code == 200 and response.content.startswith(b"%PDF")


def _redirect(response: requests.Response, what: str) -> str:
    if response.status_code not in (301, 302, 303):
        raise Failed(f"{what}: {response.status_code} {error_text(response.text)}")
    return response.headers["Location"]


def view_status(client: Client, submitted: Submitted) -> bool:
    """The citizen's status page: it must show the reference."""
    response = client.request("status", "GET", submitted.status_path)
    return response.status_code == 200 and submitted.reference in response.text


# -- staff ---------------------------------------------------------------------------------


@dataclass
class Moved:
    reference: str
    case_id: int
    to: str
    at: float


class Staff:
    """A demo caseworker: logs in, opens cases of the given references (search in the
    office's inbox) and moves them from "received" to "in progress"."""

    def __init__(
        self,
        base: str,
        recorder: Recorder,
        email: str,
        *,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = Client(base, recorder, stop=stop)
        self.email = email
        self.inbox = ""
        self.case_ids: dict[str, int] = {}

    def login(self) -> None:
        client = self.client
        page = client.request("staff", "GET", "/konto/anmelden/")
        form = form_with(parse(page.text), field_name="password")
        response = client.request(
            "staff",
            "POST",
            form.action or "/konto/anmelden/",
            data={
                "csrfmiddlewaretoken": client.csrf(),
                "username": self.email,
                "password": DEMO_PASSWORD,
                "next": "/verwaltung/vorgaenge/",
            },
        )
        if response.status_code != 302 or "/anmelden/code/" in response.headers.get("Location", ""):
            raise Failed(f"staff log-in {self.email}: {response.status_code}")
        offices = client.request("staff", "GET", "/verwaltung/vorgaenge/")
        if offices.status_code == 302:
            self.inbox = offices.headers["Location"]
        elif offices.status_code == 200:
            self.inbox = next(
                link
                for link in parse(offices.text).links
                if re.search(r"/verwaltung/vorgaenge/stelle/\d+/$", link)
            )
        else:
            raise Failed(f"staff offices {offices.status_code}")

    def find(self, reference: str) -> int | None:
        """The case of a reference in the inbox (None: not there yet; the worker opens it)."""
        if reference in self.case_ids:
            return self.case_ids[reference]
        response = self.client.request("staff", "GET", self.inbox, params={"suche": reference})
        if response.status_code != 200:
            raise Failed(f"inbox {response.status_code}")
        for match in re.finditer(
            r'href="/verwaltung/vorgaenge/(\d+)/"[^>]*>([^<]*)<', response.text
        ):
            if match.group(2).strip() == reference:
                self.case_ids[reference] = int(match.group(1))
                return self.case_ids[reference]
        return None

    def _status_form(self, case_id: int) -> HtmlForm | None:
        page = self.client.request("staff", "GET", f"/verwaltung/vorgaenge/{case_id}/")
        if page.status_code != 200:
            raise Failed(f"case {case_id}: {page.status_code}")
        return next(
            (f for f in parse(page.text).forms if f.action.endswith(f"/{case_id}/status/")), None
        )

    @staticmethod
    def _offers(form: HtmlForm | None, to: str) -> bool:
        return form is not None and any(
            f.name == "to" and f.value == to for f in form.fields if f.kind == "radio"
        )

    def move(self, reference: str, to: str = "in_progress") -> Moved | None:
        """Move the case of ``reference`` to ``to`` (None: no case yet, or not allowed from
        its status)."""
        case_id = self.find(reference)
        if case_id is None:
            return None
        form = self._status_form(case_id)
        if form is None or not self._offers(form, to):
            return None
        version = next(f.value for f in form.fields if f.name == "version")
        response = self.client.request(
            "staff",
            "POST",
            form.action,
            data={
                "csrfmiddlewaretoken": self.client.csrf(),
                "to": to,
                "version": version,
                "citizen_text": "",
            },
        )
        if response.status_code != 302:
            # A retry of a change whose answer was lost finds it made (400: not allowed from
            # the new status, 409: the version moved on): made is made.
            if not (
                self.client.last_attempts > 1
                and response.status_code in (400, 409)
                and not self._offers(self._status_form(case_id), to)
            ):
                raise Failed(f"case {case_id} -> {to}: {response.status_code}")
        return Moved(reference, case_id, to, time.time())


# -- the webhook receiver ------------------------------------------------------------------


class Receiver:
    """An idempotent webhook receiver on 127.0.0.1: records each request by its
    ``Idempotency-Key`` (how often it came), answers 200 to every genuine one (a repeat
    too: the sender must stop retrying), and checks the signature when it knows the
    secret (core.webhooks: HMAC-SHA256 of ``"<timestamp>.<key>."`` + the body)."""

    def __init__(self, port: int = 0, *, delay: float = 0.0) -> None:
        self.delay = delay  # seconds before answering: a sender killed meanwhile sends again
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()
        self.bodies: dict[str, dict[str, Any]] = {}
        self.bad: list[str] = []  # why a request was refused
        self.secrets: list[str] = []
        self.open = 0  # requests being answered right now
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.open += 1
                try:
                    status = receiver.receive(dict(self.headers.items()), body)
                    time.sleep(receiver.delay)
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                finally:
                    with receiver.lock:
                        receiver.open -= 1

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        key = headers.get("Idempotency-Key", "")
        problem = self._check(headers, key, body)
        with self.lock:
            if problem:
                self.bad.append(f"{key or '(no key)'}: {problem}")
                return 400
            self.seen[key] += 1
            if key not in self.bodies:
                try:
                    self.bodies[key] = json.loads(body)
                except ValueError:
                    self.bodies[key] = {}
        return 200

    def _check(self, headers: dict[str, str], key: str, body: bytes) -> str:
        if not key:
            return "no Idempotency-Key"
        if not self.secrets:
            return ""
        try:
            timestamp = int(headers.get("X-Rathaus-Timestamp", ""))
        except ValueError:
            return "no timestamp"
        signed = f"{timestamp}.{key}.".encode() + body
        given = headers.get("X-Rathaus-Signature", "").encode()
        for secret in self.secrets:
            digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
            if hmac.compare_digest(f"v1={digest}".encode(), given):
                return ""
        return "bad signature"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.seen)


# -- driving -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the load of one run achieved."""

    submitted: list[Submitted] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    status_views: int = 0
    status_ok: int = 0
    failures: list[tuple[float, str]] = field(default_factory=list)  # journeys that failed
    unfinished: int = 0  # journeys cut off by the end of the run
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_failure(self, text: str) -> None:
        with self.lock:
            self.failures.append((time.time(), text))


def run_citizen(
    base: str,
    recorder: Recorder,
    spec: FormSpec,
    outcome: Outcome,
    stop: threading.Event,
    *,
    mode: str,
    number: int,
    status_views: int = 1,
) -> None:
    """Submit, view the status page ``status_views`` times, repeat until ``stop``."""
    citizen = Citizen(base, recorder, spec, stop=stop, mode=mode, number=number * 100000)
    viewer = Client(base, recorder, stop=stop)
    while not stop.is_set():
        try:
            done = citizen.submit()
        except Stopped:
            with outcome.lock:
                outcome.unfinished += 1
            return
        except Failed as exc:
            outcome.add_failure(f"citizen {number} ({mode}): {exc}")
            time.sleep(1)
            continue
        with outcome.lock:
            outcome.submitted.append(done)
        for _ in range(status_views):
            if stop.is_set():
                break
            try:
                ok = view_status(viewer, done)
            except (Failed, Stopped):
                ok = False
            with outcome.lock:
                outcome.status_views += 1
                outcome.status_ok += ok


def run_staff(
    base: str,
    recorder: Recorder,
    email: str,
    outcome: Outcome,
    stop: threading.Event,
    *,
    share: Callable[[str], bool] = lambda reference: True,
) -> None:
    """Log in, then move the cases of the submitted references (those ``share`` picks) to
    "in progress" as they appear in the inbox."""
    staff = Staff(base, recorder, email, stop=stop)
    while not stop.is_set():
        try:
            staff.login()
            break
        except Failed as exc:
            outcome.add_failure(f"staff {email}: {exc}")
            time.sleep(1)
        except Stopped:
            return
    done: set[str] = set()
    while not stop.is_set():
        with outcome.lock:
            todo = [s.reference for s in outcome.submitted if s.reference not in done]
        todo = [reference for reference in todo if share(reference)]
        if not todo:
            time.sleep(0.5)
            continue
        for reference in todo:
            if stop.is_set():
                return
            try:
                moved = staff.move(reference)
            except Stopped:
                return
            except Failed as exc:
                outcome.add_failure(f"staff {email}: {exc}")
                continue
            if moved is not None:
                done.add(reference)
                with outcome.lock:
                    outcome.moved.append(moved)
        time.sleep(0.2)


def threads(
    targets: list[Callable[[], None]], outcome: Outcome | None = None
) -> Iterator[threading.Thread]:
    """Start each target in a thread; a target that crashes is a failure of the run (in
    ``outcome``), not a silently missing citizen."""

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - reported as the run's failure
            text = "".join(traceback.format_exception(exc)[-3:]).strip()
            if outcome is None:
                raise
            outcome.add_failure(f"load thread crashed: {text}")

    for target in targets:
        thread = threading.Thread(target=guarded, args=(target,), daemon=True)
        thread.start()
        yield thread
