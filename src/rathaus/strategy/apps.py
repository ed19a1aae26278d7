from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "rathaus.strategy"
    label = "strategy"
    verbose_name = "Strategie"

    def ready(self) -> None:
        from rathaus.strategy import (  # noqa: F401 - they register themselves
            kpi_jobs,
            reminders_mail,
        )
