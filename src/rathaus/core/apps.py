from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rathaus.core"
    label = "core"
    verbose_name = "Rathaus core"

    def ready(self) -> None:
        # Register the outbox handler that core itself provides (webhooks).
        from rathaus.core import handlers  # noqa: F401
