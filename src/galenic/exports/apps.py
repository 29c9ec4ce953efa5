from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "galenic.exports"
    label = "exports"
    verbose_name = "Exports (PDF, JSON, CSV)"
