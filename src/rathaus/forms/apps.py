from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "rathaus.forms"
    label = "forms"
    verbose_name = "Formulare"
