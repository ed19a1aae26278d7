from django.apps import AppConfig


class CitydataConfig(AppConfig):
    name = "rathaus.citydata"
    label = "citydata"
    verbose_name = "Stadtdaten"
