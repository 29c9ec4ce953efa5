"""Test helpers for batch execution: effective master records from YAML, and a ``Floor`` that
drives the services as the shop floor does (each signature with its own password entry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.execution import selectors, services
from galenic.execution.models import Batch, StepExecution
from galenic.recipes.document import io
from galenic.recipes.models import MasterRecord, MasterRecordVersion, VersionStatus
from galenic.signatures import services as signatures
from galenic.testing.support import PASSWORD

DATA = Path(__file__).with_name("data")
CSRF = "e" * 32  # any well-formed token; cookie and header must match


def effective_version(author: Any, name: str = "line.yaml", text: str | None = None) -> Any:
    """Store a document as the effective version of its MBR (a test stand-in for the lifecycle)."""
    doc = io.load_yaml(text if text is not None else (DATA / name).read_text())
    now = utcnow()
    master, _ = MasterRecord.objects.get_or_create(
        code=doc.code,
        defaults={"name": doc.title or doc.code, "created_at": now, "created_by": author},
    )
    number = MasterRecordVersion.objects.filter(master=master).count() + 1
    for old in MasterRecordVersion.objects.filter(master=master, status=VersionStatus.EFFECTIVE):
        old.status = VersionStatus.SUPERSEDED
        old.save(update_fields=["status"])
    return MasterRecordVersion.objects.create(
        master=master,
        version=number,
        status=VersionStatus.EFFECTIVE,
        document_json=io.dump_json(doc),
        content_hash=io.content_hash(doc),
        created_at=now,
        created_by=author,
        updated_at=now,
        effective_at=now,
    )


def authority(user: Any, password: str = PASSWORD) -> Any:
    return signatures.authenticate_signer(
        session=None, actor=user, user_id=user.username, password=password
    )


def acknowledge(user: Any) -> None:
    from galenic.signatures.selectors import has_acknowledged_policy

    if not has_acknowledged_policy(user):
        with action_context("test"):
            signatures.acknowledge_policy(actor=user, authority=authority(user))


@dataclass
class Floor:
    """The people of the shop floor and the calls they make."""

    personas: dict[str, Any]
    number: str = ""
    numbers: list[str] = field(default_factory=list)

    @property
    def operator(self) -> Any:
        return self.personas["operator"]

    @property
    def verifier(self) -> Any:
        return self.personas["verifier"]

    @property
    def supervisor(self) -> Any:
        return self.personas["supervisor"]

    def batch(self) -> Batch:
        return Batch.objects.get(number=self.number)

    def step(self, key: str, iteration: int | None = None) -> StepExecution:
        return selectors.step_execution(self.batch(), key, iteration)

    def create(
        self, name: str = "line.yaml", number: str = "B001", size: str | None = None, **kw: Any
    ) -> Batch:
        version = effective_version(self.personas["engineer"], name)
        with action_context("test"):
            batch = services.create_batch(
                actor=self.supervisor, mbr=version.master.code, number=number, batch_size=size, **kw
            )
        self.number = number
        self.numbers.append(number)
        return batch

    def start(
        self, name: str = "line.yaml", number: str = "B001", size: str | None = None
    ) -> Batch:
        self.create(name, number, size)
        with action_context("test"):
            services.release_to_floor(
                actor=self.supervisor, number=number, authority=authority(self.supervisor)
            )
            return services.start_batch(actor=self.operator, number=number)

    def record(
        self, step: str, key: str, value: Any, unit: str = "", *, user: Any = None, **kw: Any
    ) -> Any:
        with action_context("test"):
            return services.record_value(
                actor=user or self.operator,
                number=self.number,
                step_key=step,
                key=key,
                value=value,
                unit=unit,
                **kw,
            )

    def weigh(self, step: str, material: str, value: Any, unit: str = "", **kw: Any) -> Any:
        with action_context("test"):
            return services.record_value(
                actor=kw.pop("user", None) or self.operator,
                number=self.number,
                step_key=step,
                material=material,
                value=value,
                unit=unit,
                **kw,
            )

    def perform(self, step: str, *, user: Any = None, **kw: Any) -> StepExecution:
        user = user or self.operator
        auth = authority(user)
        with action_context("test"):
            return services.perform_step(
                actor=user, number=self.number, step_key=step, authority=auth, **kw
            )

    def verify(self, step: str, *, user: Any = None, **kw: Any) -> StepExecution:
        user = user or self.verifier
        auth = authority(user)
        with action_context("test"):
            return services.verify_step(
                actor=user, number=self.number, step_key=step, authority=auth, **kw
            )

    def approve(self, step: str, *, user: Any = None, **kw: Any) -> StepExecution:
        user = user or self.supervisor
        auth = authority(user)
        with action_context("test"):
            return services.approve_step(
                actor=user, number=self.number, step_key=step, authority=auth, **kw
            )

    def correct(self, entry: Any, value: Any, reason: str, *, user: Any = None, **kw: Any) -> Any:
        with action_context("test"):
            return services.correct_entry(
                actor=user or self.operator,
                number=self.number,
                entry_id=entry.pk,
                value=value,
                reason=reason,
                **kw,
            )

    def available(self) -> list[str]:
        return [s.step_key for s in selectors.open_steps(self.batch())]

    def run_line_to_count(self) -> None:
        """Take a line.yaml batch through clearance, weighing and pressing."""
        self.record("clearance", "room_clear", True)
        self.record("clearance", "temperature", "21.0")
        self.perform("clearance")
        [target] = selectors.flow_of(self.batch()).materials("weigh")
        self.weigh("weigh", "API-L", str(target.quantity.magnitude + Decimal("0.2")), "g")
        self.record("weigh", "check_weight", "0.5", "g")
        self.perform("weigh")
        self.verify("weigh")
        self.record("press", "force", "12")
        self.perform("press")


GS1_LABEL = "(01)09506000134352(10)LOT42"


def example_value(param: Any, flow: Any = None, step_key: str = "") -> Any:
    """What an operator would enter for a parameter in a run that goes to plan (the target or
    the middle of the limits that apply in this batch)."""
    from galenic.recipes.document.flow import default_value
    from galenic.recipes.document.model import DataType

    if flow is not None and param.type is DataType.NUMBER:
        limits = flow.limits(step_key, param.key)
        param = param.model_copy(
            update={
                name: getattr(limits, name)
                for name in ("target", "alert_low", "alert_high", "action_low", "action_high")
            }
        )
    if param.type is DataType.BARCODE and not isinstance(param.expected, str):
        if param.pattern:
            from hypothesis import find
            from hypothesis import strategies as st

            # The simplest text the author's pattern accepts (deterministic).
            return find(st.from_regex(param.pattern, fullmatch=True), lambda _: True)
        return GS1_LABEL
    if param.type is DataType.DATETIME:
        return utcnow().isoformat()
    value = default_value(param)
    if value is None:
        return "example"
    if hasattr(value, "magnitude"):
        return f"{value.magnitude} {value.unit}".strip()
    return value


def run_batch(floor: Floor, values: Any = None, max_rounds: int = 500) -> list[str]:
    """Execute every step the flow offers until none is left, as operator, verifier and
    supervisor would: planned values (``values(step, iteration, param)`` may give another, with
    a comment), materials at target, instrument values typed with a reason. Returns the order
    in which steps were performed."""
    from galenic.execution.models import StepStatus
    from galenic.recipes.document.model import Source

    done: list[str] = []
    for _ in range(max_rounds):
        batch = floor.batch()
        flow = selectors.flow_of(batch)
        open_steps = [
            s
            for s in selectors.steps_of(batch)
            if s.status in (StepStatus.AVAILABLE, StepStatus.IN_PROGRESS, StepStatus.PERFORMED)
        ]
        if not open_steps:
            return done
        ex = open_steps[0]
        step = flow.step(ex.step_key)
        if ex.status != StepStatus.PERFORMED:
            items = []
            for param in step.parameters:
                if param.source is Source.CALCULATED or not param.required:
                    continue
                override = values(ex.step_key, ex.iteration, param) if values else None
                items.append(
                    services.ValueInput(
                        key=param.key,
                        value=override
                        if override is not None
                        else example_value(param, flow, ex.step_key),
                        reason="demo run: typed from the balance display"
                        if param.source is Source.INSTRUMENT
                        else "",
                        comment="noted during the demo run" if override is not None else "",
                    )
                )
            for target in flow.materials(ex.step_key):
                if target.weighed:
                    items.append(
                        services.ValueInput(
                            material=target.material,
                            value=f"{target.quantity.magnitude} {target.quantity.unit}",
                        )
                    )
            if items:
                with action_context("test"):
                    services.record_values(
                        actor=floor.operator,
                        number=floor.number,
                        step_key=ex.step_key,
                        values=items,
                    )
            floor.perform(ex.step_key)
            done.append(ex.step_key)
        ex = floor.step(ex.step_key, ex.iteration)
        if ex.verification_required and ex.verified_at is None:
            floor.verify(ex.step_key, iteration=ex.iteration)
        if ex.approval_required and ex.approved_at is None:
            floor.approve(ex.step_key, iteration=ex.iteration)
    raise AssertionError("the batch did not finish")


def tiny_with_process_values(equipment: str, tag: str) -> str:
    """tiny.yaml with its line clearance done beside ``equipment``, whose logical tag ``tag`` is
    captured live at confirmation (``product_temp``) and as the mean over the step
    (``product_temp_mean``)."""
    text = (DATA / "tiny.yaml").read_text()
    text = text.replace(
        "            instructions: Check the room is **clear** of previous materials.\n",
        "            instructions: Check the room is **clear** of previous materials.\n"
        "            equipment:\n"
        f"              - equipment_id: {equipment}\n",
        1,
    )
    return text.replace(
        "                expected: true\n",
        "                expected: true\n"
        "              - key: product_temp\n"
        "                name: Product temperature\n"
        "                unit: °C\n"
        "                target: 25\n"
        "                alert_high: 28\n"
        "                action_high: 32\n"
        "                precision: 1\n"
        "                source: instrument\n"
        f"                instrument: {{kind: tag, tag: {tag}}}\n"
        "              - key: product_temp_mean\n"
        "                name: Product temperature (mean over the step)\n"
        "                unit: °C\n"
        "                action_high: 32\n"
        "                precision: 1\n"
        "                source: instrument\n"
        f"                instrument: {{kind: tag, tag: {tag}, capture: mean}}\n",
        1,
    )
