from django.apps import AppConfig


class TransitConfig(AppConfig):
    name = "rathaus.transit"
    label = "transit"
    verbose_name = "ÖPNV"

    def ready(self) -> None:
        from rathaus.transit import handlers  # noqa: F401 - registers the real-time poll
