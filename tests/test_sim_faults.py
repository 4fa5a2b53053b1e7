"""Each fault knob, through ccxt: the exception it raises and what the books did."""

from __future__ import annotations

import time

import aiohttp
import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest

from gridhedge.errors import InvalidInputError
from gridhedge.sim import Faults
from tests.sim_support import PERP, make_exchange, running


async def _buy(ex: object, sim: object, cid: str) -> object:
    last = float(sim.exchange.last_price("BTCUSDT"))  # type: ignore[attr-defined]
    return await ex.create_order(  # type: ignore[attr-defined]
        PERP, "limit", "buy", 0.01, round(last * 0.95, 1), {"clientOrderId": cid}
    )


async def test_latency_delays_every_matching_request() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        sim.faults.add("latency", latency_ms=120, path="/fapi/v1/ticker")
        t0 = time.perf_counter()
        await ex.fetch_ticker(PERP)
        assert time.perf_counter() - t0 >= 0.12
        t0 = time.perf_counter()
        await ex.fetch_open_orders(PERP)
        assert time.perf_counter() - t0 < 0.1


async def test_rate_limit_429_carries_retry_after_and_ban_418_persists() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        sim.faults.add("rate_limit", count=1, retry_after_s=3)
        with pytest.raises(ccxt.DDoSProtection, match="429"):
            await ex.fetch_open_orders(PERP)
        assert ex.last_response_headers["Retry-After"] == "3"
        assert await ex.fetch_open_orders(PERP) == []  # count=1: one 429 only
        sim.faults.add("ban", count=1, retry_after_s=60)
        for _ in range(2):  # the ban holds after the rule is spent
            with pytest.raises(ccxt.DDoSProtection, match="418"):
                await ex.fetch_ticker(PERP)
        sim.faults.clear()
        assert await ex.fetch_ticker(PERP)


async def test_server_error_and_reject_do_not_execute() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        sim.faults.add("server_error", count=1, status=503, method="POST")
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await _buy(ex, sim, "e1")
        sim.faults.add("reject", count=1, path="/fapi/v1/order", method="POST")
        with pytest.raises(ccxt.OperationFailed, match="-1008"):
            await _buy(ex, sim, "e1")
        assert sim.exchange.open_orders() == []
        await _buy(ex, sim, "e1")
        assert len(sim.exchange.open_orders()) == 1


async def test_timeout_does_not_execute_but_drop_after_accept_does() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        ex.timeout = 300
        sim.faults.add("timeout", count=1, hang_s=0.5, method="POST")
        with pytest.raises(ccxt.RequestTimeout):
            await _buy(ex, sim, "t1")
        assert sim.exchange.open_orders() == []
        sim.faults.add("drop_after_accept", count=1, method="POST")
        with pytest.raises(ccxt.NetworkError):
            await _buy(ex, sim, "t2")
        # accepted: found by its client id, and a resend is refused as a duplicate
        found = await ex.fetch_order(None, PERP, {"clientOrderId": "t2"})
        assert found["status"] == "open"
        with pytest.raises(ccxt.InvalidOrder, match="-4116"):
            await _buy(ex, sim, "t2")
        sim.faults.add("drop_after_accept", count=1, hang_s=0.5, method="POST")
        with pytest.raises(ccxt.RequestTimeout):
            await _buy(ex, sim, "t3")
        assert (await ex.fetch_order(None, PERP, {"clientOrderId": "t3"}))["status"] == "open"


async def test_random_rejects_are_deterministic_under_the_seed() -> None:
    async def outcomes(seed: int) -> list[bool]:
        async with running(make_exchange(), faults=Faults(seed=seed)) as (sim, ex):
            await ex.load_markets()
            sim.faults.add("reject", probability=0.5, method="POST")
            out = []
            for i in range(16):
                try:
                    await _buy(ex, sim, f"r{i}")
                    out.append(True)
                except ccxt.OperationFailed:
                    out.append(False)
            return out

    first = await outcomes(11)
    assert first == await outcomes(11)
    assert True in first and False in first


async def test_knobs_over_the_admin_endpoint() -> None:
    async with running() as (sim, ex), aiohttp.ClientSession() as http:
        await ex.load_markets()
        async with http.post(
            f"{sim.url}/_sim/faults", json={"kind": "rate_limit", "count": 1}
        ) as r:
            assert (await r.json())["rules"][0]["kind"] == "rate_limit"
        with pytest.raises(ccxt.DDoSProtection):
            await ex.fetch_ticker(PERP)
        async with http.post(f"{sim.url}/_sim/faults", json={"kind": "nope"}) as r:
            assert r.status == 400
        async with http.post(f"{sim.url}/_sim/faults", json={"clock_skew_ms": 40_000}) as r:
            assert (await r.json())["clock_skew_ms"] == 40_000
        with pytest.raises(ccxt.InvalidNonce):
            await ex.fetch_open_orders(PERP)
        async with http.delete(f"{sim.url}/_sim/faults") as r:
            assert (await r.json())["rules"] == []
        assert await ex.fetch_open_orders(PERP) == []


def test_bad_knobs_are_named_errors() -> None:
    with pytest.raises(InvalidInputError, match="probability"):
        Faults().add("reject", probability=2.0)
    with pytest.raises(InvalidInputError, match="status"):
        Faults().add("server_error", status=404)
