from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "galenic.quality"
    label = "quality"

    def ready(self) -> None:
        from galenic.quality.services import deviation_content
        from galenic.signatures import registry

        registry.register("quality.deviation", deviation_content)
