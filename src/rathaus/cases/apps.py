from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "rathaus.cases"
    label = "cases"
    verbose_name = "Vorgänge"

    def ready(self) -> None:
        from rathaus.cases import handlers  # noqa: F401 - registers outbox handlers
        from rathaus.core import rotation

        rotation.register_fields("cases.CaseNote", "text_encrypted")
