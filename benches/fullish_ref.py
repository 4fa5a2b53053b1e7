"""A 'full-ish' grid-hedge reference for the benches (issue 8, 'Speed'): the per-bar work of the
full policy written plainly once and run two ways, as pure Python and under numba.

It is *not* the engine's policy bit for bit (that is `PolicyEngine`, 400+ lines of layers);
it does comparable work per bar so the engine's full-policy ns/bar can be put next to it:
- fills of the resting ladder with the shared fill model's price rules (path order
  O-H-L-C / O-L-H-C, trade-through by one tick, next-bar rule), exact integer books;
- funding paid at the bar's close when a funding time falls in the bar;
- rolling statistics over the last `window` returns, updated incrementally: close-to-close
  volatility (running sums) and the historical VaR quantile (a sorted window of losses,
  numpy's 'linear' quantile);
- a decision every bar: drawdown halt, dynamic spacing `max(base, mult x sigma x sqrt(h))`,
  recentring past a threshold, a geometric ladder of `levels` rungs a side sized down when the
  VaR of the worst in-band exposure exceeds the limit, diffed against the resting orders
  (changed rungs are cancelled and re-placed);
- mark to market and running return moments and drawdown.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

SNAP_EPS = 64.0 * 2.220446049250313e-16


def _body(snap: Any, ins: Any, rem: Any, quantile: Any) -> Any:
    def run(  # type: ignore[no-untyped-def]
        ts,
        o,
        h,
        low,
        c,
        ft,
        fr,
        window,
        levels,
        base,
        mult,
        horizon,
        thresh,
        base_lots,
        var_limit,
        conf,
        max_dd,
        tick,
        lot,
        spot,
        start,
        losses,
    ):
        n_sl = 2 * levels
        price = np.zeros(n_sl, np.int64)  # slot k < levels: buy rung k+1; else sell rung
        lots_at = np.zeros(n_sl, np.int64)
        placed = np.zeros(n_sl, np.int64)
        want_p = np.zeros(n_sl, np.int64)
        want_l = np.zeros(n_sl, np.int64)
        down = np.zeros(4, np.int64)
        up = np.zeros(4, np.int64)
        bar_ms = ts[1] - ts[0]
        pos = 0
        cash = 0.0
        center = 0.0
        s1 = 0.0
        s2 = 0.0
        cnt = 0  # losses in the window
        fptr = 0
        hwm = 0.0
        halted = False
        fills = 0
        mean = 0.0
        m2 = 0.0
        nret = 0
        peak = -1e300
        mdd = 0.0
        prev_eq = 0.0
        # warm the window with the returns before start
        for t in range(max(1, start - window + 1), start + 1):
            r = c[t] / c[t - 1] - 1.0
            s1 += r
            s2 += r * r
            cnt = ins(losses, cnt, -r)
        for t in range(start, len(c)):
            if t > start:
                # fills of the resting ladder
                p1, p2 = (h[t], low[t]) if c[t] < o[t] else (low[t], h[t])
                path = (o[t], p1, p2, c[t])
                for s in range(4):
                    down[s] = snap(path[s] / tick, True)
                    up[s] = snap(path[s] / tick, False)
                for k in range(n_sl):
                    if lots_at[k] == 0 or placed[k] >= t:
                        continue
                    if k >= levels:
                        if down[1] >= price[k] + 1 or down[2] >= price[k] + 1:
                            pos -= lots_at[k]
                            cash += price[k] * tick * lots_at[k] * lot
                            lots_at[k] = 0
                            fills += 1
                    else:
                        if up[1] <= price[k] - 1 or up[2] <= price[k] - 1:
                            pos += lots_at[k]
                            cash -= price[k] * tick * lots_at[k] * lot
                            lots_at[k] = 0
                            fills += 1
                # funding inside the bar, paid at the close
                while fptr < len(ft) and ft[fptr] <= ts[t]:
                    fptr += 1
                while fptr < len(ft) and ft[fptr] <= ts[t] + bar_ms:
                    cash -= pos * lot * c[t] * fr[fptr]
                    fptr += 1
                # rolling statistics
                r = c[t] / c[t - 1] - 1.0
                s1 += r
                s2 += r * r
                cnt = ins(losses, cnt, -r)
                if t - window >= 1 and t - window >= max(1, start - window + 1):
                    old = c[t - window] / c[t - window - 1] - 1.0
                    s1 -= old
                    s2 -= old * old
                    cnt = rem(losses, cnt, -old)
            # decision
            close = c[t]
            equity = cash + (spot + pos * lot) * close
            if equity > hwm:
                hwm = equity
            if hwm > 0 and 1.0 - equity / hwm > max_dd:
                halted = True
            if halted:
                for k in range(n_sl):
                    lots_at[k] = 0
            else:
                var_n = (s2 - s1 * s1 / cnt) / (cnt - 1) if cnt > 1 else 0.0
                sigma = math.sqrt(var_n) if var_n > 0 else 0.0
                spacing = max(base, mult * sigma * math.sqrt(horizon))
                if center == 0.0 or abs(close / center - 1.0) > thresh:
                    center = close
                var_f = quantile(losses, cnt, conf)
                worst = abs(spot - (pos - levels * base_lots) * lot) * close
                size = base_lots
                if var_f * worst > var_limit and var_f > 0:
                    size = max(1, int(base_lots * var_limit / (var_f * worst)))
                g = 1.0 + spacing
                above = center
                below = center
                for k in range(levels):
                    above *= g
                    below /= g
                    want_p[k] = snap(below / tick, True)
                    want_p[levels + k] = snap(above / tick, False)
                for k in range(n_sl):
                    px = want_p[k]
                    ok = (k < levels and px < close / tick) or (k >= levels and px > close / tick)
                    want_l[k] = size if ok else 0
                    if lots_at[k] != want_l[k] or (want_l[k] > 0 and price[k] != px):
                        # cancel and re-place the rung
                        price[k] = px
                        lots_at[k] = want_l[k]
                        placed[k] = t
            # mark to market
            equity = cash + (spot + pos * lot) * close
            if t > start and prev_eq > 0:
                rr = equity / prev_eq - 1.0
                nret += 1
                d = rr - mean
                mean += d / nret
                m2 += d * (rr - mean)
            if equity > peak:
                peak = equity
            elif peak > 0:
                mdd = max(mdd, 1.0 - equity / peak)
            prev_eq = equity
        return fills, pos, prev_eq, mdd

    return run


def _py_snap(q: float, down: bool) -> int:
    fl = math.floor(q)
    tol = SNAP_EPS * max(abs(q), 1.0)
    if q - fl <= tol:
        return fl
    if (fl + 1.0) - q <= tol:
        return fl + 1
    return fl if down else fl + 1


def _py_ins(a: list[float], n: int, x: float) -> int:
    bisect.insort(a, x)
    return n + 1


def _py_rem(a: list[float], n: int, x: float) -> int:
    del a[bisect.bisect_left(a, x)]
    return n - 1


def _py_quantile(a: list[float], n: int, q: float) -> float:
    if n == 0:
        return 0.0
    pos = q * (n - 1)
    i = int(pos)
    j = min(i + 1, n - 1)
    return max(0.0, a[i] + (a[j] - a[i]) * (pos - i))


_py_run = _body(_py_snap, _py_ins, _py_rem, _py_quantile)


def py_fullish(cc: Any, params: tuple[Any, ...]) -> Any:
    """The pure-Python run (inputs as lists: plain Python indexing); `cc` = (timestamp, open,
    high, low, close, funding_time, funding_rate), `params` as `run`'s after them."""
    arrays = [x.tolist() for x in cc]
    return _py_run(*arrays, *params, [])


def numba_fullish() -> Any:
    from numba import njit

    @njit(cache=True)
    def snap(q, down):  # type: ignore[no-untyped-def]
        fl = np.floor(q)
        tol = SNAP_EPS * max(abs(q), 1.0)
        if q - fl <= tol:
            return np.int64(fl)
        if (fl + 1.0) - q <= tol:
            return np.int64(fl) + 1
        return np.int64(fl) if down else np.int64(fl) + 1

    @njit(cache=True)
    def ins(a, n, x):  # type: ignore[no-untyped-def]
        i = np.searchsorted(a[:n], x)
        for k in range(n, i, -1):
            a[k] = a[k - 1]
        a[i] = x
        return n + 1

    @njit(cache=True)
    def rem(a, n, x):  # type: ignore[no-untyped-def]
        i = np.searchsorted(a[:n], x)
        for k in range(i, n - 1):
            a[k] = a[k + 1]
        return n - 1

    @njit(cache=True)
    def quantile(a, n, q):  # type: ignore[no-untyped-def]
        if n == 0:
            return 0.0
        pos = q * (n - 1)
        i = int(pos)
        j = min(i + 1, n - 1)
        return max(0.0, a[i] + (a[j] - a[i]) * (pos - i))

    kernel = njit(_body(snap, ins, rem, quantile))

    def run(cc: Any, params: tuple[Any, ...]) -> Any:
        return kernel(*cc, *params, np.empty(params[0] + 2))

    return run
