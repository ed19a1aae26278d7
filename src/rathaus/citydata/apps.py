from django.apps import AppConfig


class CitydataConfig(AppConfig):
    name = "rathaus.citydata"
    label = "citydata"
    verbose_name = "Stadtdaten"

    def ready(self) -> None:
        from rathaus.citydata import handlers  # noqa: F401 - registers the open-data refresh
