"""LLMHedgeAnalyzer: the basic analyzer's report, reviewed by a language model through any
OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server).

Guard rails: the answer must validate against ``LLMAnswer``; its suggestions are clamped so they
can only tighten risk (DESIGN.md: the hedge ratio moves toward a full hedge inside its band,
spacing only widens, sizes only shrink; never beyond a configured limit). Anything invalid,
late or failing falls back to the basic analyzer's result with a logged reason. The bot never
waits past its budget: the smaller of the timeout and half the rebalance interval. Answers are
cached per market state; prompts, answers and token use are logged, the API key never is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from decimal import Decimal
from typing import Any, Literal

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from gridhedge._core import Decision
from gridhedge.common.interfaces import RiskAnalyzer
from gridhedge.common.types import Adjustment, HedgeRecommendation, MarketState, Position, Priority
from gridhedge.grid.config import GridHedgeConfig
from gridhedge.risk.analyzers.basic import BasicFuturesHedgeAnalyzer

MAX_SPACING_MULTIPLIER = 3.0
"""The widest an LLM review may make the spacing (x the configured one)."""

SYSTEM_PROMPT = """You review the risk of a crypto hedge: spot inventory hedged by a short \
perpetual futures grid. You may only recommend changes that REDUCE risk: move the hedge ratio \
toward a full hedge (1.0), widen the grid spacing, or shrink order sizes. Answer with one JSON \
object and nothing else, with exactly these keys:
{"risk_view": "low"|"moderate"|"elevated"|"high"|"extreme",
 "hedge_ratio_change": number (added to the target hedge ratio, between -1 and 1),
 "spacing_multiplier": number (>= 1 widens the spacing),
 "size_multiplier": number (between 0 and 1 shrinks sizes),
 "narrative": string (at most 600 characters, for the trader)}"""


class LLMAnswer(BaseModel):
    """The JSON the model must return."""

    model_config = ConfigDict(extra="forbid")

    risk_view: Literal["low", "moderate", "elevated", "high", "extreme"]
    hedge_ratio_change: float = Field(ge=-1, le=1)
    spacing_multiplier: float = Field(gt=0, le=100)
    size_multiplier: float = Field(ge=0, le=100)
    narrative: str = Field(max_length=2000)


def tighten_only(
    answer: LLMAnswer, target: float, band: tuple[float, float]
) -> tuple[float, float, float, list[str]]:
    """Clamp a model's suggestions so they can only tighten risk: returns (hedge ratio, spacing
    multiplier, size multiplier, what was clamped)."""
    lo, hi = band
    clamped: list[str] = []
    change = answer.hedge_ratio_change
    # toward a full hedge, never past it, never outside the band
    full = min(max(1.0, lo), hi)
    room = full - target
    if change != 0 and change * room > 0:
        h = target + (change if abs(change) <= abs(room) else room)
        if abs(change) > abs(room):
            clamped.append(
                f"hedge ratio {target + change:.3f} clamped to {h:.3f} (not past a full hedge)"
            )
    else:
        h = target
        if change != 0:
            clamped.append(
                f"hedge ratio change {change:+.3f} refused (it moves away from a full hedge)"
            )
    h = round(h, 6)
    spacing = min(max(answer.spacing_multiplier, 1.0), MAX_SPACING_MULTIPLIER)
    if spacing != answer.spacing_multiplier:
        clamped.append(
            f"spacing multiplier {answer.spacing_multiplier:g} clamped to {spacing:g} "
            f"(only widening, at most {MAX_SPACING_MULTIPLIER:g}x)"
        )
    size = min(max(answer.size_multiplier, 0.0), 1.0)
    if size != answer.size_multiplier:
        clamped.append(
            f"size multiplier {answer.size_multiplier:g} clamped to {size:g} (only shrinking)"
        )
    return h, spacing, size, clamped


class LLMHedgeAnalyzer(RiskAnalyzer):
    """The basic report reviewed by a model; falls back to the basic report on any failure."""

    def __init__(
        self,
        config: GridHedgeConfig,
        base_url: str,
        model: str,
        api_key: SecretStr | str | None = None,
        timeout: float | None = None,
        fallback: RiskAnalyzer | None = None,
    ) -> None:
        import openai

        self.config = config
        self.model = model
        self.fallback = fallback or BasicFuturesHedgeAnalyzer(config)
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key or "unused")
        limit = float(timeout if timeout is not None else config.analyzer.llm_timeout)
        self.budget = min(limit, float(config.execution.rebalance_interval) / 2)
        """Seconds the bot waits at most for an answer."""
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=key.get_secret_value(),
            timeout=self.budget,
            max_retries=0,
        )
        self._cache: dict[str, HedgeRecommendation] = {}
        self.last_fallback_reason: str | None = None

    def __repr__(self) -> str:
        return f"LLMHedgeAnalyzer(base_url={str(self._client.base_url)!r}, model={self.model!r})"

    @classmethod
    def from_config(cls, config: GridHedgeConfig) -> LLMHedgeAnalyzer:
        """Built from ``config.analyzer`` (the key comes from ``llm_api_key_env``)."""
        import os

        a = config.analyzer
        assert a.llm_base_url is not None and a.llm_model is not None  # checked by the config
        key = os.environ.get(a.llm_api_key_env)
        return cls(config, a.llm_base_url, a.llm_model, SecretStr(key) if key else None)

    async def analyze(
        self, position: Position, market: MarketState, decision: Decision
    ) -> HedgeRecommendation:
        basic = await self.fallback.analyze(position, market, decision)
        payload = self._payload(basic, market, decision)
        cache_key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(self._ask(payload), timeout=self.budget)
        except TimeoutError:
            return self._fall_back(basic, f"no answer within the {self.budget:g} s budget")
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "answer"
            return self._fall_back(basic, f"answer failed the schema at {where}: {first['msg']}")
        except json.JSONDecodeError as e:
            return self._fall_back(basic, f"answer is not JSON ({e.msg})")
        except Exception as e:  # any endpoint failure: 5xx, refusal, connection
            return self._fall_back(basic, f"endpoint failed: {type(e).__name__}: {e}")
        self.last_fallback_reason = None
        band = (float(self.config.hedge.hedge_ratio_min), float(self.config.hedge.hedge_ratio_max))
        h, spacing, size, clamped = tighten_only(answer, float(basic.target_hedge_ratio), band)
        for note in clamped:
            logger.warning("LLM suggestion clamped: {}", note)
        adjustments = list(basic.adjustments)
        if h != float(basic.target_hedge_ratio):
            adjustments.append(
                Adjustment("hedge_toward_full", Priority.MEDIUM, f"LLM: hedge ratio to {h:.3f}")
            )
        if spacing > 1.0:
            adjustments.append(
                Adjustment("widen_spacing", Priority.LOW, f"LLM: spacing x{spacing:.2f}")
            )
        if size < 1.0:
            adjustments.append(
                Adjustment("shrink_sizes", Priority.MEDIUM, f"LLM: sizes x{size:.2f}")
            )
        result = HedgeRecommendation(
            symbol=basic.symbol,
            current_hedge_ratio=basic.current_hedge_ratio,
            target_hedge_ratio=Decimal(repr(h)),
            net_exposure=basic.net_exposure,
            margin_usage=basic.margin_usage,
            funding_carry=basic.funding_carry,
            adjustments=tuple(sorted(adjustments, key=lambda a: a.priority, reverse=True)),
            commentary=f"{basic.commentary} LLM ({answer.risk_view}): {answer.narrative}",
            source="llm",
            spacing_multiplier=spacing,
            size_multiplier=size,
            extra={"risk_view": answer.risk_view, "clamped": "; ".join(clamped)},
        )
        logger.info(
            "LLM review in {:.2f} s: {} (h {:.3f}, spacing x{:.2f}, sizes x{:.2f})",
            time.perf_counter() - started,
            answer.risk_view,
            h,
            spacing,
            size,
        )
        self._cache[cache_key] = result
        return result

    async def _ask(self, payload: dict[str, Any]) -> LLMAnswer:
        prompt = json.dumps(payload, sort_keys=True)
        logger.debug("LLM prompt to {}: {}", self.model, prompt)
        response = await self._client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": prompt},
            ],
            response_format={"type": "json_object"},
            temperature=0,
        )
        usage = response.usage
        if usage is not None:
            logger.info(
                "LLM tokens: prompt {}, completion {}, total {}",
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens,
            )
        choice = response.choices[0] if response.choices else None
        content = choice.message.content if choice is not None else None
        if not content:
            refusal = getattr(choice.message, "refusal", None) if choice is not None else None
            raise RuntimeError(f"empty answer (refusal: {refusal!r})")
        logger.debug("LLM answer: {}", content)
        return LLMAnswer.model_validate(json.loads(content))

    def _fall_back(self, basic: HedgeRecommendation, reason: str) -> HedgeRecommendation:
        logger.warning("LLM analyzer falls back to the basic analyzer: {}", reason)
        self.last_fallback_reason = reason
        extra = {**basic.extra, "fallback_reason": reason}
        return HedgeRecommendation(
            symbol=basic.symbol,
            current_hedge_ratio=basic.current_hedge_ratio,
            target_hedge_ratio=basic.target_hedge_ratio,
            net_exposure=basic.net_exposure,
            margin_usage=basic.margin_usage,
            funding_carry=basic.funding_carry,
            adjustments=basic.adjustments,
            commentary=basic.commentary,
            source="basic (llm fallback)",
            extra=extra,
        )

    def _payload(
        self, basic: HedgeRecommendation, market: MarketState, decision: Decision
    ) -> dict[str, Any]:
        m = decision.metrics
        r, hedge = self.config.risk, self.config.hedge
        return {
            "symbol": basic.symbol,
            "price": str(market.price),
            "hedge_ratio": round(float(basic.current_hedge_ratio), 4),
            "target_hedge_ratio": round(float(basic.target_hedge_ratio), 4),
            "band": [str(hedge.hedge_ratio_min), str(hedge.hedge_ratio_max)],
            "net_exposure_quote": str(round(basic.net_exposure, 2)),
            "margin_usage": round(basic.margin_usage, 4),
            "funding_rate_8h": market.funding_rate,
            "funding_carry_per_day": str(round(basic.funding_carry, 2)),
            "volatility_per_bar": round(m["volatility"], 6),
            "long_run_volatility_per_bar": round(m["long_run_volatility"], 6),
            "grid_spacing": round(m["spacing"], 6),
            "var_quote": round(m["var"], 2),
            "var_worst_in_band_quote": round(m["var_worst"], 2),
            "var_limit_quote": str(r.var_limit),
            "var_confidence": str(r.var_confidence),
            "drawdown": round(m["drawdown"], 4),
            "max_drawdown": str(r.max_drawdown),
            "support_levels": [str(p) for p in market.support_levels],
            "resistance_levels": [str(p) for p in market.resistance_levels],
            "basic_adjustments": [
                {"action": a.action, "priority": a.priority.name, "reason": a.reason}
                for a in basic.adjustments
            ],
            "basic_commentary": basic.commentary,
        }
