"""MT-SICS reply parsing: what the simulator formats, the client parses back exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.gateway import mtsics
from galenic.gateway.mtsics import Command


@given(
    value=st.decimals(min_value=-1000, max_value=100000, places=3, allow_nan=False),
    decimals=st.integers(0, 5),
    unit=st.sampled_from(["g", "kg", "mg", "lb"]),
)
def test_weight_round_trip(value, decimals, unit):
    line = mtsics.format_weight("S", "S", value, unit, decimals)
    weight = mtsics.parse_weight(line)
    assert weight.value == value.quantize(Decimal(1).scaleb(-decimals))
    assert weight.unit == unit
    assert weight.stable


def test_dynamic_only_from_immediate():
    assert not mtsics.parse_weight("S D    1.234 g", Command.IMMEDIATE_WEIGHT).stable
    with pytest.raises(mtsics.ProtocolError):
        mtsics.parse_weight("S D    1.234 g", Command.STABLE_WEIGHT)


@pytest.mark.parametrize(
    ("line", "command", "error"),
    [
        ("S +", Command.STABLE_WEIGHT, mtsics.Overload),
        ("S -", Command.IMMEDIATE_WEIGHT, mtsics.Underload),
        ("S I", Command.STABLE_WEIGHT, mtsics.Unstable),
        ("S I", Command.IMMEDIATE_WEIGHT, mtsics.NotExecutable),
        ("ES", Command.STABLE_WEIGHT, mtsics.SyntaxErrorReply),
        ("ET", Command.STABLE_WEIGHT, mtsics.TransmissionErrorReply),
        ("EL", Command.STABLE_WEIGHT, mtsics.LogicalErrorReply),
        ("S S   abc g", Command.STABLE_WEIGHT, mtsics.ProtocolError),
        ("S S   NaN g", Command.STABLE_WEIGHT, mtsics.ProtocolError),
        ("S S", Command.STABLE_WEIGHT, mtsics.ProtocolError),
        ("T S 1.0 g", Command.STABLE_WEIGHT, mtsics.ProtocolError),
        ("", Command.STABLE_WEIGHT, mtsics.ProtocolError),
    ],
)
def test_error_replies(line, command, error):
    with pytest.raises(error):
        mtsics.parse_weight(line, command)


def test_identification_texts_keep_spaces():
    assert mtsics.parse_text('I2 A "XS205 Excellence 220 g"', "I2") == "XS205 Excellence 220 g"
    assert mtsics.parse_text('I4 A "B021002593"', "I4") == "B021002593"
    with pytest.raises(mtsics.NotExecutable):
        mtsics.parse_text("I4 I", "I4")


def test_tare_and_zero_replies():
    assert mtsics.parse_tare("T S      10.000 g").value == Decimal("10.000")
    mtsics.parse_zero("Z A")
    with pytest.raises(mtsics.Unstable.__base__):
        mtsics.parse_zero("Z I")
