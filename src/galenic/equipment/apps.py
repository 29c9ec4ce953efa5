from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "galenic.equipment"
    label = "equipment"
    verbose_name = "Equipment and instruments"

    def ready(self) -> None:
        from galenic.accounts.permissions import ACTIONS
        from galenic.core import navigation

        navigation.register(
            navigation.NavItem(
                label="Equipment",
                url="/equipment/",
                help="Instruments, calibration, gateways and live process values.",
                roles=ACTIONS["equipment.view"],
            )
        )
