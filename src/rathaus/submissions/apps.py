from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "rathaus.submissions"
    label = "submissions"
    verbose_name = "Anträge"

    def ready(self) -> None:
        from rathaus.submissions import handlers  # noqa: F401 - registers outbox handlers
