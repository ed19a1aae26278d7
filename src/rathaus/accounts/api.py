"""Public API of accounts: the directory of offices, areas, and requesting a log-in link."""

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from rathaus.accounts.constants import OfficeKind
from rathaus.accounts.models import Office
from rathaus.accounts.selectors import office_public_list
from rathaus.accounts.services import magic_link_request
from rathaus.core.models import Area
from rathaus.core.pagination import Pagination
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.core.selectors import area_list

router = Router()


class OfficeOut(Schema):
    id: int
    name: str
    kind: OfficeKind
    parent_id: int | None
    email: str
    phone: str
    homepage: str
    street: str
    postal_code: str
    city: str
    area_id: int | None


class AreaOut(Schema):
    id: int
    name: str
    kind: str
    number: str
    parent_id: int | None


@router.get("/offices", response=list[OfficeOut], tags=["offices"])
@paginate(Pagination)
def list_offices(
    request: HttpRequest,
    q: str | None = Query(  # type: ignore[type-arg]
        None, max_length=100, pattern=r"^[^\x00]*$", description="Text in the name"
    ),
    kind: OfficeKind | None = None,
) -> QuerySet[Office]:
    """The city's organisational units (public contact data, no staff names)."""
    offices = office_public_list()
    if q:
        offices = offices.filter(Q(name__icontains=q))
    if kind:
        offices = offices.filter(kind=kind)
    return offices


@router.get("/offices/{office_id}", response=OfficeOut, tags=["offices"])
def get_office(request: HttpRequest, office_id: int) -> Office:
    return get_object_or_404(office_public_list(), pk=office_id)


@router.get("/areas", response=list[AreaOut], tags=["areas"])
@paginate(Pagination)
def list_areas(request: HttpRequest) -> QuerySet[Area]:
    """Stadtbezirke and Ortsteile."""
    return area_list()


# A plain address (what people type); a subset of what Django's EmailValidator accepts, so
# the documented pattern and the server agree.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


class MagicLinkIn(Schema):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(..., max_length=254, pattern=EMAIL_PATTERN, examples=["name@example.org"])


class AcceptedOut(Schema):
    status: str


@router.post(
    "/auth/magic-link",
    response={202: AcceptedOut},
    tags=["auth"],
    auth=None,
)
def request_magic_link(request: HttpRequest, payload: MagicLinkIn) -> Status[dict[str, str]]:
    """Send a log-in link by e-mail. Answers the same whether or not an account exists.
    Rate-limited per client address and per address."""
    if request.content_type != "application/json":
        # A form post from another website must not send log-in mails in the city's name.
        raise HttpError(415, "content type must be application/json")
    email = str(payload.email)
    rate = settings.RATELIMIT_MAGIC_LINK
    if ratelimit_exceeded(scope="magic-link-ip", key=client_address(request), rate=rate) or (
        ratelimit_exceeded(scope="magic-link-email", key=email.lower(), rate=rate)
    ):
        raise HttpError(429, "too many requests")
    magic_link_request(email=email, language=get_language() or "de")
    return Status(202, {"status": "sent"})
