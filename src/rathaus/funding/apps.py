from django.apps import AppConfig


class FundingConfig(AppConfig):
    name = "rathaus.funding"
    label = "funding"
    verbose_name = "Fördermittel"

    def ready(self) -> None:
        from rathaus.funding import (  # noqa: F401 - they register themselves
            checks,
            handlers,
        )
