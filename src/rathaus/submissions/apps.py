from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "rathaus.submissions"
    label = "submissions"
    verbose_name = "Anträge"

    def ready(self) -> None:
        from rathaus.core import blobs, rotation
        from rathaus.submissions import handlers  # noqa: F401 - registers outbox handlers

        rotation.register_fields(
            "submissions.Submission", "data_encrypted", "email_encrypted", "status_code_encrypted"
        )
        rotation.register_fields("submissions.StatusEvent", "message_encrypted")
        rotation.register_fields("submissions.Destination", "secret_encrypted")
        rotation.register_json_key("core.OutboxMessage", "payload", "secret")
        rotation.register_folder(blobs.RECEIPTS)
