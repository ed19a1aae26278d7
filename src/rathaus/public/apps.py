from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "rathaus.public"
    label = "public"
    verbose_name = "Public site"
