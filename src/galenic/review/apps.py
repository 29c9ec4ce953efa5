from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "galenic.review"
    label = "review"
    verbose_name = "Review by exception and release"

    def ready(self) -> None:
        from galenic.accounts.permissions import ACTIONS
        from galenic.core import navigation
        from galenic.review import selectors, signals
        from galenic.signatures import registry

        registry.register("review.batchreview", selectors.review_content)
        signals.connect()
        navigation.register(
            navigation.NavItem(
                label="Batch review",
                url="/review/",
                help="Review completed batches by exception; release or reject them.",
                roles=ACTIONS["review.view"],
            )
        )
