from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "rathaus.strategy"
    label = "strategy"
    verbose_name = "Strategie"
