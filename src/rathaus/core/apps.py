from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rathaus.core"
    label = "core"
    verbose_name = "Rathaus core"

    def ready(self) -> None:
        # Register the outbox handler that core itself provides (webhooks).
        from django.db.models.signals import post_migrate

        from rathaus.core import checks, handlers  # noqa: F401
        from rathaus.core.db_triggers import ensure_triggers

        post_migrate.connect(ensure_triggers, sender=self, dispatch_uid="rathaus.core.triggers")
