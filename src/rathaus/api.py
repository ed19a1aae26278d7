"""The JSON API under /api/v1/: one NinjaAPI, one router per app. The OpenAPI document it
generates is committed (docs/api/openapi.json) and checked for drift by `make test`."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from rathaus.accounts.api import router as accounts_router
from rathaus.cases.api import router as cases_router
from rathaus.catalog.api import router as catalog_router
from rathaus.citydata.api import router as citydata_router
from rathaus.core import api_errors
from rathaus.economy.api import router as economy_router
from rathaus.forms.api import router as forms_router
from rathaus.submissions import api as submissions_api
from rathaus.submissions.api import router as submissions_router
from rathaus.transit.api import router as transit_router


class RathausAPI(NinjaAPI):
    """Every operation documents the one error shape as its ``default`` response, so clients
    (and schemathesis) know what a 400, 404, 405, 413, 422, 429 or 500 looks like."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(api_errors.ERROR_SCHEMAS)
        components.update(submissions_api.DATA_SCHEMAS)
        default = {
            "description": "Error (message in German and English)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for path in schema["paths"].values():
            for operation in path.values():
                operation["responses"].setdefault("default", default)
        return schema


api = RathausAPI(
    title="Rathaus API",
    version="1",
    description=(
        "JSON API of Rathaus. Errors have one shape: `error` (a code), `message` (in the "
        "language of the request, German by default) and `messages` (`de` and `en`)."
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api_errors.install(api)
api.add_router("/", accounts_router)
api.add_router("/", catalog_router)
api.add_router("/", forms_router)
api.add_router("/", submissions_router)
api.add_router("/", cases_router)
api.add_router("/", transit_router)
api.add_router("/", citydata_router)
api.add_router("/", economy_router)
