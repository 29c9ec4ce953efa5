from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "galenic.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from galenic.accounts.permissions import ACTIONS
        from galenic.core import navigation

        navigation.register(
            navigation.NavItem(
                label="Audit trail",
                url="/audit/",
                help="Who did what and when: search by record, user, time and action; export.",
                roles=ACTIONS["audit.view"],
            )
        )
