from django.apps import AppConfig


class RecipesConfig(AppConfig):
    name = "galenic.recipes"
    label = "recipes"
    verbose_name = "Master batch records"

    def ready(self) -> None:
        from galenic.accounts.roles import Role
        from galenic.core import navigation
        from galenic.recipes import services
        from galenic.signatures import registry

        registry.register("recipes.masterrecordversion", services.version_content)
        navigation.register(
            navigation.NavItem(
                label="Master batch records",
                url="/mbrs/",
                help="Author, review, approve and compare master batch records.",
                # Everyone may read MBRs; the menu is for those who work on them.
                roles=frozenset(
                    {
                        Role.PROCESS_ENGINEER,
                        Role.QA_REVIEWER,
                        Role.QA_APPROVER,
                        Role.SUPERVISOR,
                        Role.INSPECTOR,
                    }
                ),
            )
        )
