from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "rathaus.economy"
    label = "economy"
    verbose_name = "Digitale Wirtschaft"

    def ready(self) -> None:
        from rathaus.economy import handlers  # noqa: F401 - registers outbox handlers
