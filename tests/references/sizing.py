"""Independent reference of the sizing rules (written from the definitions, not the Rust
code): the model amount in lots, exactly in Decimal (or from numpy/scipy floats), snapped down
with the documented tolerance, capped, then the market minimums checked exactly."""

from __future__ import annotations

from decimal import Decimal, localcontext

from tests.references.grid import snap

TICK = Decimal("0.10")
LOT = Decimal("0.001")
MIN_QTY_LOTS = 1
MIN_NOTIONAL = Decimal("100")


def exact(x: float) -> Decimal:
    return Decimal(x)


def ref_finish(q: Decimal | None, model: str, cap_lots: int, price: float) -> tuple[int, str]:
    """Lots and bound for a model amount of ``q`` lots (None: no bound from the model)."""
    if q is None or q >= cap_lots + 1:
        lots, bound = cap_lots, "max_position_size"
    else:
        lots = snap(q, up=False)
        lots, bound = (cap_lots, "max_position_size") if lots > cap_lots else (lots, model)
    if lots == 0:
        keep = q == 0 or bound == "max_position_size"
        return 0, bound if keep else "min_qty"
    if lots < MIN_QTY_LOTS:
        return 0, "min_qty"
    with localcontext() as ctx:
        ctx.prec = 60
        ticks = snap(exact(price) / TICK, up=False)
        if ticks * TICK * lots * LOT < MIN_NOTIONAL:
            return 0, "min_notional"
    return lots, bound


def ref_level_lots(
    exposure: float, price: float, h: float, h_min: float, h_max: float, levels: int
) -> tuple[Decimal, Decimal]:
    """Sell and buy level amounts in lots, exactly: (h_max - h) E / price / levels / lot."""
    with localcontext() as ctx:
        ctx.prec = 60
        e, p = exact(exposure), exact(price)
        sell = (exact(h_max) - exact(h)) * e / p / levels / LOT
        buy = (exact(h) - exact(h_min)) * e / p / levels / LOT
        return sell, buy


def ref_vol_target_lots(price: float, sigma: float, target: float) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return exact(target) / (exact(price) * exact(sigma)) / LOT
