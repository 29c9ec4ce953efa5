from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    name = "galenic.execution"
    label = "execution"

    def ready(self) -> None:
        from galenic.accounts.permissions import ACTIONS
        from galenic.core import navigation
        from galenic.execution import selectors
        from galenic.signatures import registry

        navigation.register(
            navigation.NavItem(
                label="Batches",
                url="/batches/",
                help="Execute batches: the steps to work on now, values, signatures.",
                roles=ACTIONS["execution.view"],
            )
        )

        # Release to the floor signs the batch (its frozen master copy); performer, verifier
        # and approver sign a step execution (its current values).
        registry.register("execution.batch", selectors.batch_content)
        registry.register("execution.stepexecution", selectors.step_content)
