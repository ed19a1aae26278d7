"""A read-only subset of the CKAN Action API (3) over the open-data catalogue, at
/api/3/action/<name> and /api/action/<name> (ckanapi's path), so that harvesters and the
``ckanapi`` client work against Rathaus.

Actions: ``package_list``, ``package_show``, ``package_search`` (``q``, ``fq``, ``rows``,
``start``, ``sort``, ``facet.field``, ``facet.limit``), ``organization_list``,
``organization_show``, ``group_list``, ``group_show``, ``tag_list``, ``license_list``,
``status_show``, ``help_show``. Answers have CKAN 2.10's shape: ``{"help": ..., "success":
true, "result": ...}``; errors ``{"help": ..., "success": false, "error": {"__type": ...,
"message": ...}}`` with CKAN's statuses: 400 bad request and search query errors, 404 not
found, 409 validation errors; 429 above the rate limit. GET takes the parameters from the
query string, POST from a JSON body or a form.

Search runs on the database (the catalogue is small). ``fq`` takes terms
``[+-]field:value`` (value plain, "quoted" or ``(a OR b)``), joined by spaces or AND, or by
OR into one alternative (``organization:a OR organization:b``, what ckanext-harvest sends),
on ``organization``, ``owner_org``, ``tags``, ``groups``, ``res_format``, ``license_id``
(GovData's licence URI or its code), ``name``, ``id``, ``text``, and ranges on
``metadata_modified`` and ``metadata_created`` (``[2024-01-01T00:00:00Z TO *]``);
``dataset_type``, ``type``, ``state`` and ``capacity`` are accepted for their only values.
Anything else is a Search Query Error. ``q`` is free text (every word must occur; ``*:*`` and
empty mean everything) in which ``field:value`` terms of those fields filter like ``fq``;
other ``x:y`` (``title:Baum``, an address) are searched as text.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rathaus.accounts.models import Office
from rathaus.citydata.catalogue import (
    apply_text,
    dataset_url,
    datasets_published,
    distribution_url,
    query_words,
    site_url,
    theme_counts,
    with_related,
)
from rathaus.citydata.constants import (
    FORMATS,
    LICENSE_BASE,
    LICENSES,
    THEMES,
    format_for_label,
)
from rathaus.citydata.models import Dataset, DatasetKeyword, Distribution
from rathaus.core.ratelimit import client_address, ratelimit_exceeded

CKAN_VERSION = "2.10.0"  # the version whose answers these imitate
DEFAULT_ROWS = 10
MAX_ROWS = 1000
MAX_START = 100_000
MAX_FQ_CHARS = 1000
MAX_FQ_TERMS = 20
MAX_LIST = 10_000
NAMESPACE = uuid.UUID("5b1f6a52-3c53-4a0e-9a86-6f3c1e2b9d10")  # stable ids of offices, tags


# ---- errors ---------------------------------------------------------------------------------


class CkanError(Exception):
    status = 400
    kind = "Bad Request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        return {"__type": self.kind, "message": self.message, **self.fields}


class NotFound(CkanError):
    status = 404
    kind = "Not Found Error"

    def __init__(self, what: str) -> None:
        super().__init__(f"Not found: {what}")


class Invalid(CkanError):
    """CKAN's ValidationError: field -> messages beside ``__type`` (and a message)."""

    status = 409
    kind = "Validation Error"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", {field: [problem]})


class SearchQueryError(CkanError):
    status = 400
    kind = "Search Query Error"

    def __init__(self, problem: str) -> None:
        super().__init__(f"Search Query is invalid: {problem}")


class RateLimited(CkanError):
    status = 429
    kind = "Rate Limit Error"


# ---- parameters -----------------------------------------------------------------------------


def _int(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise Invalid(name, "Invalid integer")
    try:
        value = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except ValueError:
        raise Invalid(name, "Invalid integer") from None
    if value < low:
        raise Invalid(name, f"Must be at least {low}")
    if value > high:
        raise Invalid(name, f"Must be at most {high}")
    return value


def _bool(params: dict[str, Any], name: str) -> bool:
    raw = params.get(name, False)
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in {"true", "1", "yes", "on"}


def _text(params: dict[str, Any], name: str, limit: int = 1000) -> str:
    raw = params.get(name, "")
    if raw is None:
        return ""
    if isinstance(raw, list | dict):
        raise Invalid(name, "Must be a string")
    text = str(raw)
    if len(text) > limit:
        raise Invalid(name, f"Must be at most {limit} characters")
    return text


# ---- dictionaries ---------------------------------------------------------------------------


def _license_id(code: str) -> str:
    """GovData's CKAN names licences by their DCAT-AP.de URI (ckanext-dcatde's licence
    list), so harvested packages keep their licence; other values stay as they are."""
    licence = LICENSES.get(code)
    return licence.uri if licence else code


def _timestamp(value: datetime | None) -> str | None:
    # CKAN: UTC without a zone, with microseconds
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    office: Office


class Orgs:
    """CKAN organisations are the offices; names are their slugs (the office with the lower
    id keeps the plain one when two offices share a name). Read once per request."""

    def __init__(self) -> None:
        self._by_pk: dict[int, Org] | None = None

    def by_pk(self) -> dict[int, Org]:
        if self._by_pk is None:
            taken: set[str] = set()
            self._by_pk = {}
            for office in Office.objects.order_by("id"):
                base = slugify(office.name)[:90] or "stelle"
                name = base if base not in taken else f"{base}-{office.pk}"
                taken.add(name)
                key = office.uri or f"rathaus:office:{office.pk}"
                self._by_pk[office.pk] = Org(str(uuid.uuid5(NAMESPACE, key)), name, office)
        return self._by_pk

    def of(self, office: Office) -> Org:
        return self.by_pk()[office.pk]

    def find(self, value: str) -> list[int]:
        """Office ids whose org name or id is ``value``."""
        return [pk for pk, org in self.by_pk().items() if value in (org.name, org.id)]

    def get(self, value: str) -> Org | None:
        found = self.find(value)
        return self.by_pk()[found[0]] if found else None


def _org_dict(org: Org, count: int | None = None) -> dict[str, Any]:
    office = org.office
    data: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "title": office.name,
        "display_name": office.name,
        "description": "",
        "image_url": "",
        "image_display_url": "",
        "created": _timestamp(office.created_at),
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
        "type": "organization",
    }
    if count is not None:
        data["package_count"] = count
    return data


def _tag_dict(name: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"tag:{name}")),
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def _group_dict(code: str, count: int | None = None) -> dict[str, Any]:
    title = str(THEMES[code])
    data: dict[str, Any] = {
        "id": str(uuid.uuid5(NAMESPACE, f"theme:{code}")),
        "name": code.lower(),
        "title": title,
        "display_name": title,
        "description": "",
        "image_display_url": "",
        "type": "group",
        "is_organization": False,
        "state": "active",
    }
    if count is not None:
        data["package_count"] = count
    return data


def _resource_dict(dataset: Dataset, distribution: Distribution, position: int) -> dict[str, Any]:
    item = FORMATS.get(distribution.format)
    return {
        "id": str(distribution.uuid),
        "package_id": str(dataset.uuid),
        "name": distribution.title,
        "description": distribution.description,
        "url": distribution_url(distribution, dataset),
        "format": item.label if item else distribution.format,
        "mimetype": distribution.media_type or (item.media_type if item else None),
        "mimetype_inner": None,
        "size": distribution.byte_size,
        "hash": distribution.checksum,
        "last_modified": _timestamp(distribution.modified),
        "created": _timestamp(distribution.created_at),
        "metadata_modified": _timestamp(distribution.updated_at),
        "position": position,
        "state": "active",
        "resource_type": None,
        "url_type": None,
        "cache_url": None,
        "cache_last_updated": None,
        "datastore_active": False,
        "license": LICENSES[distribution.effective_license].uri
        if distribution.effective_license in LICENSES
        else None,
    }


def _extras(dataset: Dataset) -> list[dict[str, str]]:
    # keys as ckanext-dcatde stores DCAT-AP.de in CKAN extras
    pairs: list[tuple[str, str]] = [
        ("identifier", str(dataset.uuid)),
        ("uri", dataset_url(dataset) + "#dataset"),
    ]
    if settings.OPEN_DATA_CONTRIBUTOR_ID:
        pairs.append(("contributorID", json.dumps([settings.OPEN_DATA_CONTRIBUTOR_ID])))
    if dataset.political_geocoding_uri:
        pairs.append(("politicalGeocodingURI", json.dumps([dataset.political_geocoding_uri])))
    if dataset.political_geocoding_level_uri:
        pairs.append(("politicalGeocodingLevelURI", dataset.political_geocoding_level_uri))
    if dataset.license_attribution:
        pairs.append(("licenseAttributionByText", dataset.license_attribution))
    if dataset.accrual_periodicity:
        pairs.append(
            (
                "frequency",
                f"http://publications.europa.eu/resource/authority/frequency/{dataset.accrual_periodicity}",
            )
        )
    if dataset.temporal_start:
        pairs.append(("temporal_start", dataset.temporal_start.isoformat()))
    if dataset.temporal_end:
        pairs.append(("temporal_end", dataset.temporal_end.isoformat()))
    if dataset.issued:
        pairs.append(("issued", dataset.issued.astimezone(UTC).isoformat()))
    if dataset.modified:
        pairs.append(("modified", dataset.modified.astimezone(UTC).isoformat()))
    if dataset.has_bbox:
        w, s = dataset.bbox_west, dataset.bbox_south
        e, n = dataset.bbox_east, dataset.bbox_north
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        pairs.append(("spatial", json.dumps({"type": "Polygon", "coordinates": [ring]})))
    return [{"key": key, "value": value} for key, value in pairs]


def package_dict(dataset: Dataset, orgs: Orgs) -> dict[str, Any]:
    licence = LICENSES.get(dataset.license)
    org = orgs.of(dataset.publisher)
    tags = [_tag_dict(k.name) for k in dataset.keywords.all()]
    resources = [_resource_dict(dataset, d, i) for i, d in enumerate(dataset.distributions.all())]
    return {
        "id": str(dataset.uuid),
        "name": dataset.slug,
        "title": dataset.title,
        "notes": dataset.description,
        "type": "dataset",
        "state": "active",
        "private": False,
        "url": dataset.landing_page or dataset_url(dataset),
        "version": None,
        "author": None,
        "author_email": None,
        "maintainer": dataset.contact_name or None,
        "maintainer_email": dataset.contact_email or None,
        "license_id": _license_id(dataset.license),
        "license_title": licence.title if licence else dataset.license,
        "license_url": licence.url if licence else None,
        "isopen": bool(licence and licence.open),
        "owner_org": org.id,
        "organization": _org_dict(org),
        "creator_user_id": None,
        "metadata_created": _timestamp(dataset.created_at),
        "metadata_modified": _timestamp(dataset.updated_at),
        "num_tags": len(tags),
        "tags": tags,
        "groups": [_group_dict(code) for code in dataset.theme_list if code in THEMES],
        "num_resources": len(resources),
        "resources": resources,
        "extras": _extras(dataset),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


# ---- search ---------------------------------------------------------------------------------

_VALUE = r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\((?:[^()"]|"(?:[^"\\]|\\.)*")*\)|[^\s"()\[\]]+'
_TERM = re.compile(rf"\s*(?P<sign>[+-]?)(?P<field>[A-Za-z_.]+):(?P<value>{_VALUE})\s*")
_RANGE = re.compile(r"^\[\s*(?P<low>\S+)\s+TO\s+(?P<high>\S+)\s*\]$")
_ALTERNATIVE = re.compile(r'\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s"()]+)\s*')
NO_OPS = {
    "dataset_type": {"dataset"},
    "type": {"dataset"},
    "state": {"active"},
    "capacity": {"public"},
}
FIELDS = (
    "organization",
    "owner_org",
    "tags",
    "groups",
    "res_format",
    "license_id",
    "name",
    "id",
    "metadata_modified",
    "metadata_created",
    "text",
    *NO_OPS,
)
EVERYTHING = Q(pk__isnull=False)  # unlike Q(), its negation is nothing
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Term:
    negate: bool
    field: str
    value: str


Clause = list[Term]  # terms joined by OR; the clauses of a query are joined by AND


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value


def _alternatives(field: str, inner: str, where: str) -> list[str]:
    """The values of ``field:(a OR b OR "c d")``."""
    tokens = [match["value"] for match in _ALTERNATIVE.finditer(inner)]
    values, joins = tokens[0::2], tokens[1::2]
    if not values or len(tokens) % 2 == 0 or any(j != "OR" for j in joins) or "OR" in values:
        raise SearchQueryError(f"{where}: cannot read {field}:({inner}); expected (a OR b)")
    return [_unquote(value) for value in values]


def _clauses_of(sign: str, field: str, raw: str, where: str) -> list[Clause]:
    negate = sign == "-"
    if not raw.startswith("("):
        return [[Term(negate, field, _unquote(raw))]]
    values = _alternatives(field, raw[1:-1].strip(), where)
    if negate:  # not (a or b): neither a nor b
        return [[Term(True, field, value)] for value in values]
    return [[Term(False, field, value) for value in values]]


def parse_terms(text: str, where: str) -> list[Clause]:
    """``[+-]field:value`` terms (``field:(a OR b)`` too) joined by spaces or AND, and by OR
    into one clause (``organization:a OR organization:b``, as ckanext-harvest sends);
    anything else is refused."""
    if len(text) > MAX_FQ_CHARS:
        raise SearchQueryError(f"{where} is longer than {MAX_FQ_CHARS} characters")
    clauses: list[Clause] = []
    position = 0
    count = 0
    text = text.strip()
    join_next = False
    while position < len(text):
        if clauses and not join_next:
            if text.startswith("AND ", position):
                position += 4
                continue
            if text.startswith("OR ", position):
                position += 3
                join_next = True
                continue
        match = _TERM.match(text, position)
        if match is None or match.end() == position:
            rest = text[position : position + 40]
            raise SearchQueryError(
                f"{where}: cannot read {rest!r}; expected field:value terms joined by AND or OR"
            )
        made = _clauses_of(match["sign"], match["field"], match["value"], where)
        if join_next and len(made) == 1:
            clauses[-1].extend(made[0])
        elif join_next:
            raise SearchQueryError(f"{where}: cannot join a negated group with OR")
        else:
            clauses.extend(made)
        join_next = False
        count += sum(len(clause) for clause in made)
        position = match.end()
        if count > MAX_FQ_TERMS:
            raise SearchQueryError(f"{where} has more than {MAX_FQ_TERMS} terms")
    if join_next:
        raise SearchQueryError(f"{where}: OR at the end")
    return clauses


_Q_TOKEN = re.compile(rf'\s*(?:(?P<term>[+-]?[A-Za-z_.]+:(?:{_VALUE}))|(?P<word>"[^"]*"|\S+))')


def parse_q(text: str) -> tuple[list[Clause], str]:
    """``q`` as people type it: ``field:value`` terms of known fields filter; anything else
    (words, addresses, ``title:Baum``: the value) is searched as text. (clauses, text)"""
    clauses: list[Clause] = []
    words: list[str] = []
    for match in _Q_TOKEN.finditer(text):
        term, word = match["term"], match["word"]
        if term:
            field, value = term.lstrip("+-").split(":", 1)
            if field in FIELDS:
                clauses.extend(parse_terms(term, "q"))
                continue
            word = _unquote(value).strip("()")
        if word and word not in ("AND", "OR", "NOT", "&&", "||"):
            words.append(word)
    return clauses, " ".join(words)


def _moment(value: str, where: str) -> datetime | None:
    if value == "*":
        return None
    text = value.rstrip("Z") + ("+00:00" if value.endswith("Z") else "")
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is not None:
                moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if moment is not None:
            moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # 2024-02-30, month 13, an offset of +99:00
        moment = None
    if moment is None:
        raise SearchQueryError(f"{where}: {value!r} is not a date-time (ISO 8601)")
    return moment


def _license_code(value: str) -> str:
    """A licence by its code or its DCAT-AP.de URI (GovData's ``license_id``)."""
    return value.removeprefix(LICENSE_BASE)


def _term_filter(term: Term, orgs: Orgs) -> Q:
    field, value = term.field, term.value
    if field in NO_OPS:
        return EVERYTHING if value.lower() in NO_OPS[field] else NOTHING
    if field == "organization" or field == "owner_org":
        return Q(publisher_id__in=orgs.find(value))
    if field == "tags":
        return Q(Exists(DatasetKeyword.objects.filter(dataset=OuterRef("pk"), name=value)))
    if field == "groups":
        code = value.upper()
        return Q(themes__contains=code) if code in THEMES else NOTHING
    if field == "res_format":
        item = format_for_label(value)
        if item is None:
            return NOTHING
        return Q(Exists(Distribution.objects.filter(dataset=OuterRef("pk"), format=item.code)))
    if field == "license_id":
        return Q(license=_license_code(value))
    if field == "name":
        return Q(slug=value)
    if field == "id":
        try:
            return Q(uuid=uuid.UUID(value))
        except ValueError:
            return NOTHING
    if field in ("metadata_modified", "metadata_created"):
        match = _RANGE.match(value)
        if match is None:
            raise SearchQueryError(f"{field} takes a range like [2024-01-01T00:00:00Z TO *]")
        column = "updated_at" if field == "metadata_modified" else "created_at"
        low, high = _moment(match["low"], field), _moment(match["high"], field)
        condition = EVERYTHING
        if low is not None:
            condition &= Q(**{f"{column}__gte": low})
        if high is not None:
            condition &= Q(**{f"{column}__lte": high})
        return condition
    if field == "text":
        condition = EVERYTHING
        for word in query_words(value):
            condition &= Q(search_text__contains=word)
        return condition
    raise SearchQueryError(f"unknown field {field!r}; known: {', '.join(FIELDS)}")


def _apply_terms(
    queryset: QuerySet[Dataset], clauses: list[Clause], orgs: Orgs
) -> QuerySet[Dataset]:
    for clause in clauses:
        condition = NOTHING
        for term in clause:
            found = _term_filter(term, orgs)
            condition |= ~found if term.negate else found
        queryset = queryset.filter(condition)
    return queryset


SORTS = {
    "score desc, metadata_modified desc": ("-updated_at", "slug"),
    "metadata_modified desc": ("-updated_at", "slug"),
    "metadata_modified asc": ("updated_at", "slug"),
    "metadata_created desc": ("-created_at", "slug"),
    "metadata_created asc": ("created_at", "slug"),
    "name asc": ("slug",),
    "name desc": ("-slug",),
    "title_string asc": ("title", "slug"),
    "title_string desc": ("-title", "slug"),
    # ckanext-harvest pages through a catalogue by id (the dataset's UUID)
    "id asc": ("uuid",),
    "id desc": ("-uuid",),
}
FACET_FIELDS = ("organization", "groups", "tags", "res_format", "license_id")


def _facet_fields(params: dict[str, Any]) -> list[str]:
    raw = params.get("facet.field")
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise Invalid("facet.field", "Must be a JSON list of field names") from None
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise Invalid("facet.field", "Must be a JSON list of field names")
    unknown = [x for x in raw if x not in FACET_FIELDS]
    if unknown:
        raise SearchQueryError(f"cannot facet on {unknown[0]!r}; known: {', '.join(FACET_FIELDS)}")
    return list(dict.fromkeys(raw))


def _facet_counts(
    field: str, queryset: QuerySet[Dataset], orgs: Orgs, limit: int
) -> list[tuple[str, str, int]]:
    """(name, display name, count) of one facet, largest first."""
    ids = queryset.order_by().values("pk")
    rows: list[tuple[str, str, int]] = []
    if field == "organization":
        for pk, n in (
            Dataset.objects.filter(pk__in=ids)
            .values_list("publisher_id")
            .annotate(n=Count("pk"))
            .values_list("publisher_id", "n")
        ):
            org = orgs.by_pk().get(pk)
            if org is not None:
                rows.append((org.name, org.office.name, n))
    elif field == "groups":
        counts = theme_counts(Dataset.objects.filter(pk__in=ids))
        rows = [(code.lower(), str(THEMES[code]), n) for code, n in counts.items()]
    elif field == "tags":
        rows = [
            (name, name, n)
            for name, n in DatasetKeyword.objects.filter(dataset__in=ids)
            .values_list("name")
            .annotate(n=Count("pk"))
            .order_by("-n", "name")
            .values_list("name", "n")[:limit]
        ]
    elif field == "res_format":
        for code, n in (
            Distribution.objects.filter(dataset__in=ids)
            .values_list("format")
            .annotate(n=Count("dataset", distinct=True))
            .values_list("format", "n")
        ):
            item = FORMATS.get(code)
            label = item.label if item else code
            rows.append((label, label, n))
    elif field == "license_id":
        for code, n in (
            Dataset.objects.filter(pk__in=ids)
            .values_list("license")
            .annotate(n=Count("pk"))
            .values_list("license", "n")
        ):
            licence = LICENSES.get(code)
            rows.append((_license_id(code), licence.title if licence else code, n))
    rows.sort(key=lambda row: (-row[2], row[0]))
    return rows[:limit]


# ---- actions --------------------------------------------------------------------------------

Action = Callable[[dict[str, Any]], Any]


def package_list(params: dict[str, Any]) -> list[str]:
    """The names of all published datasets, by name (``limit``, ``offset``)."""
    limit = _int(params, "limit", MAX_LIST, 0, MAX_LIST)
    offset = _int(params, "offset", 0, 0, MAX_START)
    names = datasets_published().order_by("slug").values_list("slug", flat=True)
    return list(names[offset : offset + limit])


def package_show(params: dict[str, Any]) -> dict[str, Any]:
    """One dataset by ``id``: its name or its id."""
    key = _text(params, "id", 200).strip() or _text(params, "name_or_id", 200).strip()
    if not key:
        raise Invalid("id", "Missing value")
    condition = Q(slug=key)
    try:
        condition |= Q(uuid=uuid.UUID(key))
    except ValueError:
        pass
    dataset = with_related(datasets_published().filter(condition)).first()
    if dataset is None:
        raise NotFound(f"no dataset {key!r}")
    return package_dict(dataset, Orgs())


def package_search(params: dict[str, Any]) -> dict[str, Any]:
    """Search: ``q``, ``fq``, ``rows`` (10, at most 1000), ``start``, ``sort``,
    ``facet.field`` (JSON list), ``facet.limit``."""
    rows = _int(params, "rows", DEFAULT_ROWS, 0, MAX_ROWS)
    start = _int(params, "start", 0, 0, MAX_START)
    q = _text(params, "q", 500).strip()
    fq = _text(params, "fq", MAX_FQ_CHARS)
    sort_text = " ".join(_text(params, "sort", 200).split()) or "score desc, metadata_modified desc"
    if sort_text not in SORTS:
        raise SearchQueryError(f"cannot sort by {sort_text!r}; known: {', '.join(SORTS)}")
    facet_limit = _int(params, "facet.limit", 50, -1, MAX_ROWS)
    facet_limit = MAX_ROWS if facet_limit < 0 else facet_limit
    fields = _facet_fields(params)
    orgs = Orgs()
    queryset = datasets_published()
    if q and q not in ("*:*", "*"):
        clauses, words = parse_q(q)
        queryset = apply_text(_apply_terms(queryset, clauses, orgs), words)
    if fq.strip():
        queryset = _apply_terms(queryset, parse_terms(fq, "fq"), orgs)
    count = queryset.count()
    page = list(with_related(queryset.order_by(*SORTS[sort_text]))[start : start + rows])
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in fields:
        counted = _facet_counts(field, queryset, orgs, facet_limit)
        facets[field] = {name: n for name, _label, n in counted}
        search_facets[field] = {
            "title": field,
            "items": [
                {"name": name, "display_name": label, "count": n} for name, label, n in counted
            ],
        }
    return {
        "count": count,
        "sort": sort_text,
        "results": [package_dict(d, orgs) for d in page],
        "facets": facets,
        "search_facets": search_facets,
    }


def organization_list(params: dict[str, Any]) -> list[Any]:
    """The offices that publish at least one dataset (``all_fields`` for dictionaries)."""
    limit = _int(params, "limit", 1000, 0, 1000)
    offset = _int(params, "offset", 0, 0, MAX_START)
    orgs = Orgs()
    counts = dict(
        datasets_published()
        .order_by()
        .values_list("publisher_id")
        .annotate(n=Count("pk"))
        .values_list("publisher_id", "n")
    )
    listed = sorted((orgs.by_pk()[pk] for pk in counts), key=lambda org: org.name)
    listed = listed[offset : offset + limit]
    if _bool(params, "all_fields"):
        return [_org_dict(org, counts[org.office.pk]) for org in listed]
    return [org.name for org in listed]


def group_list(params: dict[str, Any]) -> list[Any]:
    """The data themes in use, as CKAN groups (GovData's names: the codes in lower case)."""
    counts = theme_counts(datasets_published())
    used = sorted(counts)
    if _bool(params, "all_fields"):
        return [_group_dict(code, counts[code]) for code in used]
    return [code.lower() for code in used]


def _key(params: dict[str, Any]) -> str:
    key = _text(params, "id", 200).strip()
    if not key:
        raise Invalid("id", "Missing value")
    return key


def _with_datasets(
    data: dict[str, Any], datasets: QuerySet[Dataset], params: dict[str, Any]
) -> dict[str, Any]:
    """What organization_show and group_show add to the dictionary of the list."""
    data.update({"package_count": datasets.count(), "users": [], "extras": [], "tags": []})
    data["groups"] = []
    if _bool(params, "include_datasets"):
        orgs = Orgs()
        page = with_related(datasets.order_by("slug"))[:MAX_ROWS]
        data["packages"] = [package_dict(d, orgs) for d in page]
    return data


def organization_show(params: dict[str, Any]) -> dict[str, Any]:
    """One organisation (an office) by ``id``: its name or its id; ``include_datasets``."""
    key = _key(params)
    org = Orgs().get(key)
    if org is None:
        raise NotFound(f"no organization {key!r}")
    datasets = datasets_published().filter(publisher=org.office)
    return _with_datasets(_org_dict(org), datasets, params)


def group_show(params: dict[str, Any]) -> dict[str, Any]:
    """One group (a data theme) by ``id``: its name (``envi``) or its id; ``include_datasets``."""
    key = _key(params)
    code = next(
        (c for c in THEMES if key in (c.lower(), c, str(uuid.uuid5(NAMESPACE, f"theme:{c}")))),
        None,
    )
    if code is None:
        raise NotFound(f"no group {key!r}")
    datasets = datasets_published().filter(themes__contains=code)
    return _with_datasets(_group_dict(code), datasets, params)


def tag_list(params: dict[str, Any]) -> list[Any]:
    query = _text(params, "query", 100).strip()
    tags = DatasetKeyword.objects.filter(dataset__published=True)
    if query:
        tags = tags.filter(name__icontains=query)
    names = list(tags.order_by("name").values_list("name", flat=True).distinct()[:MAX_LIST])
    if _bool(params, "all_fields"):
        return [_tag_dict(name) for name in names]
    return names


def license_list(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": item.uri,
            "title": item.title,
            "url": item.url,
            "od_conformance": "approved" if item.open else "not reviewed",
            "osd_conformance": "not reviewed",
            "status": "active",
            "domain_data": True,
            "domain_content": False,
            "domain_software": False,
        }
        for code, item in LICENSES.items()
    ]


def status_show(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "site_title": settings.OPEN_DATA_TITLE,
        "site_description": f"Offene Daten der {settings.OPEN_DATA_PUBLISHER_NAME}",
        "site_url": settings.SITE_URL.rstrip("/"),
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "de",
        "extensions": [],
    }


def help_show(params: dict[str, Any]) -> str:
    name = _text(params, "name", 100)
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound(f"no action {name!r}")
    return (action.__doc__ or name).strip()


ACTIONS: dict[str, Action] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "tag_list": tag_list,
    "license_list": license_list,
    "status_show": status_show,
    "help_show": help_show,
}


# ---- the view -------------------------------------------------------------------------------


def _params(request: HttpRequest) -> dict[str, Any]:
    if request.method == "POST" and request.body:
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return {
                key: values[0] if len(values) == 1 else values
                for key, values in request.POST.lists()
            }
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise CkanError("Bad request - JSON Error: the body is not JSON") from None
        if not isinstance(data, dict):
            raise CkanError("Bad request - JSON Error: the body must be a JSON object")
        return data
    return {key: values[0] if len(values) == 1 else values for key, values in request.GET.lists()}


def _help_url(name: str) -> str:
    return site_url(f"/api/3/action/help_show?name={name}")


@csrf_exempt  # read-only; clients such as ckanapi POST JSON without a session
@require_http_methods(["GET", "HEAD", "POST"])
def action(request: HttpRequest, name: str) -> JsonResponse:
    answer: dict[str, Any] = {"help": _help_url(name)}
    try:
        if ratelimit_exceeded(
            scope="ckan", key=client_address(request), rate=settings.RATELIMIT_OPEN_DATA
        ):
            raise RateLimited("Too many requests; please try again later")
        handler = ACTIONS.get(name)
        if handler is None:
            raise CkanError(f"Bad request - Action name not known: {name}")
        params = _params(request)
        params.pop("callback", None)  # no JSONP
        answer["success"] = True
        answer["result"] = handler(params)
        return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
    except CkanError as exc:
        answer["success"] = False
        answer["error"] = exc.body()
        answer.pop("result", None)
        return JsonResponse(answer, status=exc.status, json_dumps_params={"ensure_ascii": False})


def api_root(request: HttpRequest, version: str = "3") -> JsonResponse:
    return JsonResponse({"version": 3})
