from django.apps import AppConfig


class InnovationConfig(AppConfig):
    name = "rathaus.innovation"
    label = "innovation"
    verbose_name = "Innovationswettbewerbe"

    def ready(self) -> None:
        from rathaus.core import rotation
        from rathaus.innovation import handlers  # noqa: F401 - registers outbox handlers

        rotation.register_fields("innovation.Entry", "team_encrypted")
        rotation.register_fields("innovation.EntryPhase", "answers_encrypted")
        rotation.register_fields("innovation.Score", "comment_encrypted")
