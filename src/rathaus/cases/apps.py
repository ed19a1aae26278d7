from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "rathaus.cases"
    label = "cases"
    verbose_name = "Vorgänge"

    def ready(self) -> None:
        from rathaus.cases import handlers  # noqa: F401 - registers outbox handlers
        from rathaus.cases.services import case_name_tokens_rotate
        from rathaus.core import rotation

        rotation.register_fields("cases.CaseNote", "text_encrypted")
        rotation.register_fields("cases.Case", "applicant_encrypted")
        rotation.register_fields("cases.CaseMessage", "text_encrypted")
        rotation.register_job("cases.CaseNameToken", case_name_tokens_rotate)
