from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "rathaus.economy"
    label = "economy"
    verbose_name = "Digitale Wirtschaft"

    def ready(self) -> None:
        from rathaus.core import rotation
        from rathaus.economy import handlers  # noqa: F401 - registers outbox handlers
        from rathaus.economy.services.events import registration_email_hashes_rotate

        rotation.register_fields("economy.Organisation", "contact_encrypted")
        rotation.register_fields("economy.Registration", "person_encrypted")
        rotation.register_fields("economy.Message", "body_encrypted")
        rotation.register_fields("economy.Claim", "evidence_encrypted")
        rotation.register_fields("economy.Post", "contact_encrypted")
        rotation.register_fields("economy.Invitation", "email_encrypted")
        rotation.register_job("economy.Registration.email_hash", registration_email_hashes_rotate)
