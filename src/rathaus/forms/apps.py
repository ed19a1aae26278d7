from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "rathaus.forms"
    label = "forms"
    verbose_name = "Formulare"

    def ready(self) -> None:
        from rathaus.core import blobs, rotation
        from rathaus.forms import handlers  # noqa: F401 - registers outbox handlers and jobs

        rotation.register_fields("forms.FormDraft", "data_encrypted")
        rotation.register_json_key("core.OutboxMessage", "payload", "email")
        rotation.register_folder(blobs.UPLOADS)
