"""Round-trip under generated content: any text and any bounded decimal survive export and
import exactly, in YAML and JSON, and the hash only depends on content."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from galenic.recipes.document import content_hash, dump_json, dump_yaml, load_json, load_yaml

TINY = load_yaml((Path(__file__).parent / "data" / "tiny.yaml").read_text(encoding="utf-8"))

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
NUMBER = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4, allow_nan=False)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TEXT, instructions=TEXT, description=TEXT, target=NUMBER, low=NUMBER)
def test_any_text_and_number_round_trips(
    title: str, instructions: str, description: str, target: Decimal, low: Decimal
) -> None:
    doc = TINY.model_copy(deep=True)
    doc.title = title[:200]
    doc.description = description
    step = doc.unit_procedures[0].operations[1].steps[0]
    step.instructions = instructions
    step.parameters[0].target = target
    doc.theoretical_yield.low_percent = low
    yaml_text = dump_yaml(doc)
    json_text = dump_json(doc)
    assert load_yaml(yaml_text) == doc
    assert load_json(json_text) == doc
    assert dump_yaml(load_yaml(yaml_text)) == yaml_text
    assert content_hash(load_yaml(yaml_text)) == content_hash(load_json(json_text))
