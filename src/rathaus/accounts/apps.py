from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rathaus.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from rathaus.accounts import handlers  # noqa: F401 - registers outbox handlers
