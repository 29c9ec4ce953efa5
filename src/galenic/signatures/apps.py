from django.apps import AppConfig


class SignaturesConfig(AppConfig):
    name = "galenic.signatures"
    label = "signatures"
    verbose_name = "Electronic signatures"

    def ready(self) -> None:
        from galenic.accounts.permissions import ACTIONS
        from galenic.core import navigation
        from galenic.signatures import registry, services

        registry.register(
            "signatures.policyacknowledgement", services.policy_acknowledgement_content
        )
        navigation.register(
            navigation.NavItem(
                label="Signature policy",
                url="/signatures/policy/",
                help="Read and sign the electronic signature accountability policy.",
                roles=ACTIONS["signatures.sign"],
            )
        )
