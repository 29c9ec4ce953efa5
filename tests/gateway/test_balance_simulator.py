"""The MT-SICS client against the balance simulator: every reply a real balance gives."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from gateway_helpers import run_async

from galenic.gateway.balance import MtSicsClient
from galenic.gateway.mtsics import (
    BalanceUnavailable,
    Overload,
    SyntaxErrorReply,
    Underload,
    Unstable,
    WeightStatus,
)
from galenic.gateway.simulator import BalanceSimulator, send_control

run = run_async


def sim(**kw) -> BalanceSimulator:
    return BalanceSimulator(serial="B512345678", settle_wait=0.2, **kw)


def test_identity_and_stable_weight():
    async def go():
        async with sim() as balance, MtSicsClient("127.0.0.1", balance.port) as client:
            balance.set_weight("12.3456")
            identity = await client.identify()
            weight = await client.stable_weight()
            return identity, weight

    identity, weight = run(go())
    assert identity.serial == "B512345678"
    assert identity.model == "XS205 Excellence 220 g"
    assert weight.value == Decimal("12.346")  # the balance's 3 decimals
    assert weight.unit == "g"
    assert weight.stable
    assert weight.raw.startswith("S S")


def test_unstable_balance_gives_dynamic_immediate_and_refuses_stable():
    async def go():
        async with sim() as balance, MtSicsClient("127.0.0.1", balance.port) as client:
            balance.set_weight("5")
            balance.set_unstable(hold=True)
            immediate = await client.immediate_weight()
            with pytest.raises(Unstable):
                await client.stable_weight()
            balance.set_unstable(hold=False)
            return immediate, await client.stable_weight()

    immediate, stable = run(go())
    assert immediate.status is WeightStatus.DYNAMIC
    assert not immediate.stable
    assert stable.value == Decimal("5.000")


def test_stable_command_waits_for_the_balance_to_settle():
    async def go():
        async with sim() as balance, MtSicsClient("127.0.0.1", balance.port) as client:
            balance.set_weight("7.5")
            balance.set_unstable(0.1)  # settles within the simulator's 0.2 s wait
            return await client.stable_weight()

    assert run(go()).value == Decimal("7.500")


@pytest.mark.parametrize(("flag", "error"), [("overload", Overload), ("underload", Underload)])
def test_overload_and_underload(flag, error):
    async def go():
        async with sim() as balance, MtSicsClient("127.0.0.1", balance.port) as client:
            setattr(balance, flag, True)
            with pytest.raises(error) as raised:
                await client.stable_weight()
            with pytest.raises(error):
                await client.immediate_weight()
            return raised.value

    exc = run(go())
    assert exc.reply.strip() in {"S +", "S -"}


def test_above_capacity_is_overload():
    async def go():
        async with sim() as balance, MtSicsClient("127.0.0.1", balance.port) as client:
            balance.set_weight("250")
            await client.stable_weight()

    with pytest.raises(Overload):
        run(go())


def test_tare_and_zero():
    async def go():
        async with sim() as balance, MtSicsClient("127.0.0.1", balance.port) as client:
            balance.set_weight("20")
            tare = await client.tare()
            balance.set_weight("32.5")
            net = await client.stable_weight()
            await client.zero()
            after_zero = await client.stable_weight()
            return tare, net, after_zero

    tare, net, after_zero = run(go())
    assert tare.value == Decimal("20.000")
    assert net.value == Decimal("12.500")
    assert after_zero.value == Decimal("0.000")


def test_unknown_command_is_a_syntax_error():
    async def go():
        async with sim() as balance, MtSicsClient("127.0.0.1", balance.port) as client:
            return await client.command("XYZ")

    from galenic.gateway.mtsics import parse_weight

    with pytest.raises(SyntaxErrorReply):
        parse_weight(run(go()))


def test_disconnect_then_reconnects_by_itself():
    async def go():
        async with sim() as balance:
            client = MtSicsClient("127.0.0.1", balance.port, timeout=0.5, connect_timeout=0.5)
            balance.set_weight("1")
            first = await client.stable_weight()
            await balance.disconnect(0.6)
            with pytest.raises(BalanceUnavailable):
                await client.stable_weight()
            await asyncio.sleep(0.8)
            balance.set_weight("2")
            second = await client.stable_weight()  # no explicit reconnect call
            await client.close()
            return first, second

    first, second = run(go())
    assert (first.value, second.value) == (Decimal("1.000"), Decimal("2.000"))


def test_silent_balance_times_out():
    async def go():
        async with sim() as balance:
            client = MtSicsClient("127.0.0.1", balance.port, timeout=0.3, stable_timeout=0.3)
            balance.muted = True
            try:
                await client.immediate_weight()
            finally:
                await client.close()

    with pytest.raises(BalanceUnavailable, match="did not answer"):
        run(go())


def test_unreachable_balance():
    async def go():
        async with sim() as balance:
            port = balance.port
        await MtSicsClient("127.0.0.1", port, connect_timeout=0.5).immediate_weight()

    with pytest.raises(BalanceUnavailable, match="unreachable"):
        run(go())


def test_control_lines_change_the_simulator():
    async def go():
        async with sim() as balance:
            assert await send_control("127.0.0.1", balance.port, "SIM WEIGHT 42.1") == "SIM A"
            assert await send_control("127.0.0.1", balance.port, "SIM SERIAL X1") == "SIM A"
            assert await send_control("127.0.0.1", balance.port, "SIM WEIGHT abc") == "EL"
            return balance.gross, balance.serial

    assert run(go()) == (Decimal("42.1"), "X1")
