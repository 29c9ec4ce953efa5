from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "galenic.core"
    label = "core"
    verbose_name = "Core"
