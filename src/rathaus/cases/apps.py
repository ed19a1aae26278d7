from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "rathaus.cases"
    label = "cases"
    verbose_name = "Vorgänge"

    def ready(self) -> None:
        from rathaus.cases import handlers  # noqa: F401 - registers outbox handlers
