"""Grid calculators. The default is the Rust policy's ladder; a user may inject their own
``GridCalculator`` (the seed's ``CustomGridCalculator``), whose levels the bot snaps to the
market and caps by its limits before sending."""

from __future__ import annotations

from decimal import Decimal

from gridhedge._core import Market, grid_levels
from gridhedge.common.interfaces import GridCalculator
from gridhedge.common.types import GridLevel, MarketState, Position, Side
from gridhedge.execution.order_manager import PlannedOrder


class StaticGridCalculator(GridCalculator):
    """A plain symmetric grid of a fixed amount per level around the current price (exact
    levels from the Rust core): a simple calculator to inject or to start from."""

    def __init__(
        self,
        market: Market,
        spacing: Decimal | str = "0.01",
        num_levels: int = 5,
        amount_per_level: Decimal | str = "0.01",
        mode: str = "geometric",
    ) -> None:
        self.market = market
        self.spacing = Decimal(spacing)
        self.num_levels = num_levels
        self.amount_per_level = Decimal(amount_per_level)
        self.mode = mode

    def calculate_grid_levels(self, market: MarketState, position: Position) -> list[GridLevel]:
        g = grid_levels(
            market.price,
            self.spacing,
            self.num_levels,
            self.market,
            self.amount_per_level,
            mode=self.mode,  # type: ignore[arg-type]
        )
        return [
            GridLevel(Side(lv.side), lv.index, lv.price, lv.amount) for lv in [*g.buys, *g.sells]
        ]


def planned_from_levels(
    levels: list[GridLevel],
    market: Market,
    price: Decimal,
    short_lots: int,
    max_position_lots: int,
    max_active_orders: int,
) -> list[PlannedOrder]:
    """Custom levels as orders: snapped to tick (side-aware) and lot (down), below-minimum
    and wrong-side levels dropped, sells capped so the short never passes
    ``max_position_lots``, nearest the price first, at most ``max_active_orders``."""
    planned: list[PlannedOrder] = []
    for lv in sorted(levels, key=lambda lv: abs(lv.price - price)):
        side = Side(lv.side)
        ticks = market.price_to_ticks(lv.price, side.value)
        lots = market.amount_to_lots(lv.amount)
        on_side = (
            market.ticks_to_price(ticks) > price
            if side is Side.SELL
            else (market.ticks_to_price(ticks) < price)
        )
        if lots <= 0 or not on_side or not market.meets_minimums(ticks, lots):
            continue
        key = f"g{side.value[0]}{lv.index}"
        planned.append(PlannedOrder(key, "limit", side.value, ticks, lots))
    room = max(0, max_position_lots - short_lots)
    capped: list[PlannedOrder] = []
    for p in planned:
        if p.side == "sell":
            take = min(p.amount_lots, room)
            room -= take
            if take <= 0 or not market.meets_minimums(p.price_ticks, take):
                continue
            p = PlannedOrder(p.key, p.kind, p.side, p.price_ticks, take)
        capped.append(p)
    return capped[:max_active_orders]
