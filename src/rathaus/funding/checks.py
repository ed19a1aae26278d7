"""System checks of the funding register's settings (``rathaus check``, and at every start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from rathaus.funding.constants import Region


@checks.register(checks.Tags.compatibility)
def funding_regions_known(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A region code in ``RATHAUS_FUNDING_REGIONS`` that is not EU, DE or a Land's ISO 3166-2
    code would silently match nothing: say so at start."""
    unknown = [code for code in settings.FUNDING_REGIONS if code not in Region.values]
    if not unknown:
        return []
    return [
        checks.Error(
            f"RATHAUS_FUNDING_REGIONS names unknown regions: {', '.join(unknown)}",
            hint="Use EU, DE or a Land's ISO 3166-2 code such as DE-SN (docs/configuration.md).",
            id="funding.E001",
        )
    ]
