from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "galenic.accounts"
    label = "accounts"

    def ready(self) -> None:
        from galenic.accounts import signals  # noqa: F401 - connects the session receivers
        from galenic.accounts.roles import Role
        from galenic.core.navigation import NavItem, register

        register(
            NavItem(
                label="Users",
                url="/accounts/users/",
                help="Accounts, roles, lockouts and password resets",
                roles=frozenset({Role.ADMIN.value}),
            )
        )
        register(
            NavItem(
                label="My account",
                url="/accounts/me/",
                help="Your roles, open sessions and password",
            )
        )
