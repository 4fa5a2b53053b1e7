"""LLMHedgeAnalyzer against a local OpenAI-compatible server (aiohttp on 127.0.0.1) with
scripted answers, through the real ``openai`` client: valid, malformed, hostile, slow, 500,
refusal. The model can only tighten risk; every failure falls back to the basic report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from loguru import logger

import gridhedge as gh
from gridhedge._core import Decision, decide
from gridhedge.common.types import MarketState, Position
from gridhedge.grid.config import GridHedgeConfig
from gridhedge.grid.policy import policy_config
from gridhedge.risk.analyzers.llm import LLMAnswer, LLMHedgeAnalyzer, tighten_only

SECRET = "sk-test-0123456789abcdef-secret"
CONFIG = GridHedgeConfig.load({"hedge_ratio": "0.9", "rebalance_interval": 60})
Script = Callable[[dict[str, Any]], Any]


def completion(content: str | None, refusal: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
    }


class ScriptedServer:
    def __init__(self) -> None:
        self.script: Script = lambda body: completion("{}")
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.auth.append(request.headers.get("Authorization", ""))
        result = self.script(body)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result)


@pytest.fixture
async def server() -> AsyncIterator[tuple[ScriptedServer, str]]:
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", scripted.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield scripted, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


def decision() -> Decision:
    rng = np.random.default_rng(5)
    close = 50_000 * np.exp(np.cumsum(rng.normal(0, 0.008, 300)))
    open_ = np.concatenate([[50_000.0], close[:-1]])
    high, low = np.maximum(open_, close) * 1.002, np.minimum(open_, close) * 0.998
    return decide(
        policy_config(CONFIG),
        gh.Market("0.10", "0.001", "0.001", "100"),
        float(close[-1]),
        open_,
        high,
        low,
        close,
        np.full(300, 200.0),
        0.0,
        1.0,
        -900,
        100_000.0,
        100_000.0,
    )


async def review(url: str, timeout: float = 2.0) -> tuple[Any, LLMHedgeAnalyzer]:
    analyzer = LLMHedgeAnalyzer(CONFIG, url, "scripted", api_key=SECRET, timeout=timeout)
    position = Position("BTCUSDT", Decimal(1), Decimal("-0.9"))
    market = MarketState("BTCUSDT", Decimal(50_000), 0, funding_rate=0.0001)
    return await analyzer.analyze(position, market, decision()), analyzer


def answer(**kw: Any) -> str:
    base = {
        "risk_view": "elevated",
        "hedge_ratio_change": 0.05,
        "spacing_multiplier": 1.5,
        "size_multiplier": 0.8,
        "narrative": "Volatility is above its long-run level; hedge a little more.",
    }
    return json.dumps({**base, **kw})


async def test_valid_answer_tightens_and_is_applied(server: tuple[ScriptedServer, str]) -> None:
    scripted, url = server
    scripted.script = lambda body: completion(answer())
    rec, _ = await review(url)
    assert rec.source == "llm"
    assert rec.target_hedge_ratio == Decimal("0.95")  # 0.9 + 0.05, toward a full hedge
    assert rec.spacing_multiplier == 1.5
    assert rec.size_multiplier == 0.8
    assert "hedge a little more" in rec.commentary
    sent = scripted.requests[0]
    assert sent["response_format"] == {"type": "json_object"}
    assert scripted.auth[0] == f"Bearer {SECRET}"  # the key reaches the endpoint ...
    user = json.loads(sent["messages"][1]["content"])
    assert user["var_limit_quote"] == "10000"
    assert "basic_commentary" in user


async def test_hostile_answer_cannot_loosen_risk(server: tuple[ScriptedServer, str]) -> None:
    scripted, url = server
    hostile = answer(
        risk_view="low",
        hedge_ratio_change=-0.9,  # "drop the hedge, increase leverage 10x"
        spacing_multiplier=0.1,
        size_multiplier=10,
        narrative="Increase leverage 10x and remove the hedge.",
    )
    scripted.script = lambda body: completion(hostile)
    rec, _ = await review(url)
    assert rec.source == "llm"
    assert rec.target_hedge_ratio == Decimal("0.9"), "a move away from a full hedge is refused"
    assert rec.spacing_multiplier == 1.0
    assert rec.size_multiplier == 1.0
    assert "refused" in rec.extra["clamped"]


async def test_overshoot_past_full_hedge_is_clamped(server: tuple[ScriptedServer, str]) -> None:
    scripted, url = server
    scripted.script = lambda body: completion(answer(hedge_ratio_change=0.6))
    rec, _ = await review(url)
    assert rec.target_hedge_ratio == Decimal("1.0")


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (lambda body: completion("this is not json"), "not JSON"),
        (lambda body: completion(json.dumps({"risk_view": "meh"})), "schema"),
        (lambda body: completion(answer(extra_key=1)), "schema"),
        (lambda body: web.json_response({"error": {"message": "boom"}}, status=500), "endpoint"),
        (lambda body: completion(None, refusal="I can't help with that."), "refusal"),
    ],
    ids=["malformed", "wrong-schema", "extra-key", "http-500", "refusal"],
)
async def test_failures_fall_back_to_basic(
    server: tuple[ScriptedServer, str], script: Script, reason: str
) -> None:
    scripted, url = server
    scripted.script = script
    rec, analyzer = await review(url)
    assert rec.source == "basic (llm fallback)"
    assert reason in rec.extra["fallback_reason"]
    assert analyzer.last_fallback_reason is not None


async def test_slow_answer_never_holds_the_bot_past_its_budget(
    server: tuple[ScriptedServer, str],
) -> None:
    scripted, url = server

    async def slow(body: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(5)
        return completion(answer())

    scripted.script = slow
    loop = asyncio.get_running_loop()
    start = loop.time()
    rec, analyzer = await review(url, timeout=0.5)
    assert loop.time() - start < 3.0
    assert analyzer.budget == 0.5
    assert rec.source == "basic (llm fallback)"


async def test_answers_are_cached_per_market_state(server: tuple[ScriptedServer, str]) -> None:
    scripted, url = server
    scripted.script = lambda body: completion(answer())
    analyzer = LLMHedgeAnalyzer(CONFIG, url, "scripted", api_key=SECRET)
    position = Position("BTCUSDT", Decimal(1), Decimal("-0.9"))
    market = MarketState("BTCUSDT", Decimal(50_000), 0)
    d = decision()
    await analyzer.analyze(position, market, d)
    await analyzer.analyze(position, market, d)
    assert len(scripted.requests) == 1
    await analyzer.analyze(position, MarketState("BTCUSDT", Decimal(51_000), 0), d)
    assert len(scripted.requests) == 2


async def test_secret_never_logged_or_in_repr(server: tuple[ScriptedServer, str]) -> None:
    scripted, url = server
    scripted.script = lambda body: completion(answer())
    lines: list[str] = []
    handler = logger.add(lines.append, level="DEBUG", format="{message}")
    try:
        rec, analyzer = await review(url)
        scripted.script = lambda body: completion("garbage")
        await analyzer.analyze(
            Position("BTCUSDT", Decimal(1), Decimal("-0.9")),
            MarketState("BTCUSDT", Decimal(49_000), 0),
            decision(),
        )
    finally:
        logger.remove(handler)
    text = "\n".join(lines)
    assert "LLM tokens: prompt 321, completion 45, total 366" in text
    assert "LLM prompt" in text
    assert SECRET not in text
    assert SECRET not in repr(analyzer)
    assert SECRET not in repr(rec)


def test_tighten_only_rules() -> None:
    a = LLMAnswer(
        risk_view="high",
        hedge_ratio_change=0.3,
        spacing_multiplier=9,
        size_multiplier=0.5,
        narrative="",
    )
    h, spacing, size, notes = tighten_only(a, 0.8, (0.7, 1.2))
    assert (h, spacing, size) == (1.0, 3.0, 0.5)
    assert len(notes) == 2
    # above a full hedge, moving down toward 1.0 is tightening
    b = a.model_copy(update={"hedge_ratio_change": -0.1})
    assert tighten_only(b, 1.15, (0.7, 1.2))[0] == pytest.approx(1.05)


async def test_bot_with_llm_analyzer_applies_only_tightening(
    server: tuple[ScriptedServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridhedge.execution.broker_factory import create_broker
    from gridhedge.grid.bot import GridHedgeBot

    scripted, url = server
    scripted.script = lambda body: completion(answer(spacing_multiplier=2.0, size_multiplier=0.5))
    monkeypatch.setenv("GRIDHEDGE_TEST_LLM_KEY", SECRET)
    config = {
        "analyzer": {
            "kind": "llm",
            "llm_base_url": url,
            "llm_model": "scripted",
            "llm_api_key_env": "GRIDHEDGE_TEST_LLM_KEY",
        },
        "max_position_size": "2",
    }
    for mode in ("PAPER", "RECOMMENDATION"):
        broker = create_broker(mode)
        bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=config)
        first = await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))
        assert first.recommendation.source == "llm"
        second = await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))
        # the review from the first rebalance widened the spacing and halved the size limit
        assert second.decision.metrics["spacing"] >= 0.02 - 1e-12
        assert scripted.auth[-1] == f"Bearer {SECRET}"
