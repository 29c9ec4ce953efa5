"""The tag map: topics and JSON fields to tags, exact decimals, clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.gateway.readings import to_micros
from galenic.gateway.tagmap import MappingError, TagMap, topic_matches

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

MAP = TagMap.from_config(
    [
        {
            "topic": "plant/GRN-01/telemetry",
            "source": "GRN-01",
            "timestamp": "ts",
            "seq": "seq",
            "values": [
                {"field": "product_temp", "tag": "GRN-01.product_temp", "unit": "degC"},
                {"field": "impeller.load_pct", "tag": "GRN-01.impeller_load", "unit": "%"},
            ],
        },
        {
            "topic": "plant/+/lod",
            "source": "FBD-01",
            "timestamp": "ts",
            "values": [{"field": "v", "tag": "FBD-01.lod", "unit": "%"}],
        },
        {
            "topic": "raw/press/force",
            "source": "TAB-01",
            "values": [{"tag": "TAB-01.force", "unit": "kN"}],
        },
    ]
)


def test_json_fields_become_readings_with_device_time_and_seq():
    payload = b'{"ts": "2026-11-23T09:59:59.250Z", "seq": 42, "product_temp": 24.80, "impeller": {"load_pct": "41.2"}}'
    readings = MAP.decode("plant/GRN-01/telemetry", payload, NOW)
    assert [(r.tag, r.value, r.unit) for r in readings] == [
        ("GRN-01.product_temp", Decimal("24.80"), "degC"),
        ("GRN-01.impeller_load", Decimal("41.2"), "%"),
    ]
    assert readings[0].device_time == datetime(2026, 11, 23, 9, 59, 59, 250000, tzinfo=UTC)
    assert readings[0].received_at == NOW
    assert readings[0].seq == 42
    assert readings[0].source == "GRN-01"
    assert readings[0].raw == "24.80"


def test_wildcard_topic_and_seq_from_device_time():
    readings = MAP.decode("plant/dryer/lod", b'{"ts": 1795000000.5, "v": 3.25}', NOW)
    assert readings[0].tag == "FBD-01.lod"
    assert readings[0].seq == to_micros(readings[0].device_time)


def test_bare_number_payload():
    readings = MAP.decode("raw/press/force", b"14.25", NOW)
    assert readings[0].value == Decimal("14.25")
    assert readings[0].device_time is None
    assert readings[0].seq is None  # the outbox assigns one


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"NaN", "not a measured value|not a number|finite"),
        (b"Infinity", "not a measured value|finite"),
        (b"true", "not a number"),
        (b'"12,5"', "not a number"),
        (b"{", "not JSON"),
        (b"\xff", "not JSON"),
    ],
)
def test_bad_payloads_are_refused(payload, match):
    with pytest.raises(MappingError, match=match):
        MAP.decode("raw/press/force", payload, NOW)


def test_missing_field_and_unknown_topic():
    with pytest.raises(MappingError, match=r"field 'impeller\.load_pct' missing"):
        MAP.decode(
            "plant/GRN-01/telemetry",
            b'{"ts": "2026-11-23T09:59:59Z", "seq": 1, "product_temp": 1}',
            NOW,
        )
    with pytest.raises(MappingError, match="not in the tag map"):
        MAP.decode("other/topic", b"1", NOW)


def test_timestamp_without_zone_is_refused():
    with pytest.raises(MappingError, match="time zone"):
        MAP.decode("plant/x/lod", b'{"ts": "2026-11-23T09:59:59", "v": 1}', NOW)


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    )
)
def test_decimal_values_survive_exactly(value):
    readings = MAP.decode("raw/press/force", str(value).encode(), NOW)
    assert readings[0].value == value


@pytest.mark.parametrize(
    ("pattern", "topic", "match"),
    [
        ("a/b", "a/b", True),
        ("a/+", "a/b", True),
        ("a/+", "a/b/c", False),
        ("a/#", "a/b/c", True),
        ("#", "a", True),
        ("a/+/c", "a/x/c", True),
        ("a/b", "a/b/c", False),
    ],
)
def test_topic_matching(pattern, topic, match):
    assert topic_matches(pattern, topic) is match


@given(
    st.text(max_size=20),
    st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=3)),
    st.booleans(),
)
def test_wire_text_is_exactly_the_json_of_the_wire_dict(text, value, with_time):
    import json

    from galenic.gateway.readings import Quality, Reading, to_wire, wire_text

    reading = Reading(
        source=text,
        tag=f"{text}.t",
        value=value,
        unit="°C",
        received_at=NOW,
        device_time=NOW if with_time else None,
        quality=Quality.GOOD,
        serial=text,
        raw=text,
    )
    assert json.loads(wire_text(reading, 7)) == to_wire(reading, 7)
