from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "rathaus.forms"
    label = "forms"
    verbose_name = "Formulare"

    def ready(self) -> None:
        from rathaus.forms import handlers  # noqa: F401 - registers outbox handlers and jobs
