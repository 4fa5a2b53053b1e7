"""The full-policy backtest written plainly once, the faithful twin of the Rust core (issue 8,
'Speed': ">= 50x a pure-Python reference of the same logic; faster than a numba version of the
same logic kept in benches/").

One body, run two ways: compiled by numba ``@njit`` (preallocated numpy arrays, no Python
objects in the loop) and as pure Python on lists. It mirrors, step by step:

- ``backtest::run``: per bar, the resting orders fill (then are booked in path order), funding
  whose time falls in the bar is paid at the close, the policy decides at the cadence (price =
  close, the latest published funding rate, equity and its high-water mark), the desired
  orders (at most ``max_active_orders``) are diffed against the live ones by key (role, side,
  level), kind, price and remaining lots - cancels first, then placements with per-key
  sequence numbers - and the bar is marked to market into the run's metrics;
- ``PolicyEngine``: the window of the last ``history_bars`` candles kept incrementally -
  Welford moments of the returns with an exact two-pass recomputation every ``history_bars``
  bars, the trailing run of identical returns, the EWMA (RiskMetrics) recursion, the range
  estimators' term sum, a sorted window of losses for numpy's 'linear' VaR quantile (the core
  keeps only the upper tail it reads, ``var::tail``: the same values), and the pivots of
  support/resistance with their clusters kept incrementally as ``PivotClusters`` does (only
  the clusters from the one before a change are regrouped);
- ``policy/requote.rs`` (``requote_tolerance`` > 0): a decision keeps the last full one's
  orders while its inputs stay within the tolerance (no decide, no diff), the pauses counted
  down; the same tests in the same order;
- ``policy::decide_in``: drawdown halt, dynamic spacing, funding tilt, the band in lots, VaR of
  the worst in-band exposure (warn / shrink), the rebalance market order, recentring, the
  ladders from ``GridPlan`` (geometric or arithmetic levels with ``powi`` as the core computes
  it, side-aware snapping with ``money::snap``'s tolerance, merges, market minimums), S/R
  snapping, the volume cap, the dynamic stop, ``max_active_orders`` and the final order;
- ``FillBook::on_bar`` (path O-H-L-C / O-L-H-C, trade-through by one tick, the next-bar rule,
  the participation budget, market and stop orders) and ``Account`` (position in lots,
  average entry, realised PnL, fees, funding).

Money is integer ticks and lots as in the core. Where the core is exact decimal (the account:
entry price, realised PnL, fees, funding, hence equity and its high-water mark) the twin uses
floats; the only decision they reach is the drawdown halt (``drawdown >= max_drawdown``), which
could differ only if the drawdown came within ~1e-12 of the limit. ``validate`` checks the
event log against the engine's.

    python benches/policy_twin.py --quick   # validate, then time 50,000 bars (< 60 s)
    python benches/policy_twin.py           # validate, then time 525,600 bars (also gated)
    python benches/policy_twin.py --variants  # validate configurations beyond FULL
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import time
from decimal import Decimal
from typing import Any

import numpy as np

# the core's snap tolerance (money::SNAP_ULPS = 64 ulps of 1.0, scaled by |q|)
SNAP_EPS = 64.0 * 2.220446049250313e-16
I64MAX = 9223372036854775807
I64MIN = -9223372036854775807 - 1
MARKET_KEY = -(2**62)  # a market order's crossing key (before any price)
EWMA_LAMBDA = 0.94  # volatility::EWMA_LAMBDA_DEFAULT
LN_2 = math.log(2.0)
PARKINSON_K = 1.0 / (4.0 * LN_2)
GK_K = 2.0 * LN_2 - 1.0
VOLUME_BARS = 24
SR_HALF = 3
SR_MIN_TOUCHES = 2

# sides, kinds, roles, events (sells sort before buys, as `side == Buy` in the core)
SELL, BUY = 0, 1
LIMIT, STOP_MARKET, MARKET = 0, 1, 2
GRID, REBALANCE, STOP = 0, 1, 2
PLACE, CANCEL, FILL = 0, 1, 2
ESTIMATORS = {"close_to_close": 0, "ewma": 1, "parkinson": 2, "garman_klass": 3}

# float settings (cf)
F_SPACING, F_MIN_DIST, F_VOL_MULT, F_RECENTER, F_SR_TOL, F_MAX_POS, F_MAX_DD = range(7)
F_STOP_PCT, F_VAR_LIMIT, F_VAR_CONF, F_SHRINK, F_SCALE_MIN, F_SCALE_MAX = range(7, 13)
F_VOL_SHARE, F_H, F_H_MIN, F_H_MAX, F_FUND_SENS, F_TICK, F_LOT = range(13, 20)
F_TICK_DIV, F_LOT_DIV, F_SPOT, F_CASH, F_PARTICIPATION, F_MAKER, F_TAKER = range(20, 27)
F_HALT_H, F_REVIEW_H = 27, 28
F_SIZE_VOL, F_SIZE_VAR = 29, 30  # sizing_vol_target_pct, sizing_var_share
F_TREND_PCT = 31
F_STOP_TOL = 32  # stop_refresh_tolerance
F_GRID_TOL = 33  # grid_refresh_tolerance
F_REQUOTE_TOL = 34  # requote_tolerance (the requote gate, policy/requote.rs)
N_F = 35
# integer settings (ci)
I_LEVELS, I_MODE, I_DYNAMIC, I_ESTIMATOR, I_HORIZON, I_SR, I_VAR_HORIZON = range(7)
I_POLICY_MAX_ACTIVE, I_TILT, I_TICK_MANT, I_LOT_MANT, I_MIN_QTY, I_MIN_NOTIONAL = range(7, 13)
I_HISTORY, I_CADENCE, I_START, I_MAX_ACTIVE = range(13, 17)
I_HALT_COOL, I_STOP_COOL = 17, 18
I_VAR_METHOD, I_VAR_WINDOW = 19, 20  # var_method (1: fhs, 0: sqrt), var_window_bars
I_TREND_BARS = 21
I_REQUOTE_MAX = 22  # requote_max_skips
N_I = 23
FHS_MIN_SUMS = 100  # policy::FHS_MIN_SUMS
# the policy state (PolicyState's fields, in order)
P_CENTER, P_REF, P_HALTED, P_AGE, P_STOP_REF, P_SELL_STOP, P_BUY_STOP, P_PAUSE_B, P_PAUSE_S = range(
    9
)
P_SELL_LOTS, P_BUY_LOTS = 9, 10  # the recorded stops' amounts
N_P = 11
# an order row (desired orders: 6 columns; live orders: 8)
C_ROLE, C_SIDE, C_LEVEL, C_KIND, C_PRICE, C_LOTS, C_PLACED, C_SEQ = range(8)
OC, LC = 6, 8
# engine state: floats (ef) and ints (ei)
E_MEAN, E_M2, E_TERMS, E_EWMA, E_SPACING, E_FHS_S2 = range(6)
E_LAST_SPACING = 6  # the policy state's grid_spacing_bits, as the float
E_VAR_WORST = 7  # the decision's VaR of the worst in-band exposure (Metrics::var_worst)
# the slid sum of the last VOLUME_BARS volumes (the engine's volume_sum; see add_volume)
E_VSUM = 8
N_EF = 9
E_LO, E_N, E_RUN, E_SINCE, E_HAS_EWMA, E_NLOSS, E_PV_HEAD, E_PV_N, E_NPP, E_DIRTY, E_NCL = range(11)
# the horizon VaR's filtered historical simulation (var::horizon::FhsHorizonVar): whether its
# EWMA has a forecast, the ring of the last `horizon` standardised returns (head, count) and
# the ring of the last `var_window_bars` horizon-sum losses (head, count; also kept sorted)
E_FHS_HAS, E_Z_HEAD, E_Z_N, E_S_HEAD, E_S_N = range(11, 16)
E_VSLIDES = 16  # slides since the volume sum was last taken in order
N_EI = 17
# an event row
EV_COLS = 8  # bar, kind, role, side, level, sequence, price ticks, lots


def _make(jit: Any, zi: Any, zf: Any, sbuf: Any, ins: Any, rem: Any, emit: Any) -> Any:
    """The twin's functions, each wrapped by `jit` (identity or numba's njit); the helpers
    allocate (`zi`/`zf`: ints/floats, `sbuf`: a sorted buffer), keep sorted buffers
    (`ins`/`rem`) and record events (`emit`) in the idiom of each runtime."""

    @jit
    def snap(q, up):  # type: ignore[no-untyped-def]
        # money::snap: a value within 64 ulps of a unit is on it; else Round::Down / Up
        if abs(q) >= 1e18:
            return I64MAX if q > 0 else I64MIN
        fl = math.floor(q)
        tol = SNAP_EPS * max(abs(q), 1.0)
        if q - fl <= tol:
            return fl
        if (fl + 1.0) - q <= tol:
            return fl + 1
        return fl + 1 if up else fl

    @jit
    def powi(a, b):  # type: ignore[no-untyped-def]
        # f64::powi (compiler-builtins' __powidf2: square and multiply), b >= 0
        r = 1.0
        while True:
            if b & 1:
                r *= a
            b //= 2
            if b == 0:
                break
            a *= a
        return r

    @jit
    def meets(ci, ticks, lots):  # type: ignore[no-untyped-def]
        return lots >= ci[I_MIN_QTY] and ticks * lots >= ci[I_MIN_NOTIONAL]

    @jit
    def quantile(a, n, c):  # type: ignore[no-untyped-def]
        # numpy's 'linear' quantile of sorted a[:n] (its _lerp), floored at 0
        if n == 0:
            return 0.0
        h = (n - 1) * c
        i = min(math.floor(h), n - 1)
        g = h - i
        lo = a[i]
        if g == 0.0:
            q = lo
        else:
            hi = a[min(i + 1, n - 1)]
            d = hi - lo
            q = hi - d * (1.0 - g) if g >= 0.5 else lo + d * g
        return max(q, 0.0)

    @jit
    def term_of(est, o, h, low, c):  # type: ignore[no-untyped-def]
        if est < 2:
            return 0.0
        r = h / low
        hl = (
            math.log(r)
            if r >= 2.2250738585072014e-308 and r < math.inf
            else (math.log(h) - math.log(low))
        )
        if est == 2:
            return hl * hl * PARKINSON_K
        r = c / o
        co = (
            math.log(r)
            if r >= 2.2250738585072014e-308 and r < math.inf
            else (math.log(c) - math.log(o))
        )
        return max(0.5 * hl * hl - GK_K * co * co, 0.0)

    @jit
    def engine_reset(ef, ei):  # type: ignore[no-untyped-def]
        ef[E_MEAN] = 0.0
        ef[E_M2] = 0.0
        ef[E_TERMS] = 0.0
        ef[E_EWMA] = 0.0
        ei[E_N] = 0
        ei[E_RUN] = 0
        ei[E_SINCE] = 0
        ei[E_HAS_EWMA] = 0
        ei[E_NLOSS] = 0
        ei[E_PV_HEAD] = 0
        ei[E_PV_N] = 0
        ei[E_NPP] = 0
        ei[E_NCL] = 0
        ei[E_DIRTY] = 1
        ef[E_FHS_S2] = 0.0
        ei[E_FHS_HAS] = 0
        ei[E_Z_HEAD] = 0
        ei[E_Z_N] = 0
        ei[E_S_HEAD] = 0
        ei[E_S_N] = 0
        ef[E_VSUM] = 0.0
        ei[E_VSLIDES] = 0

    @jit
    def fhs_push(r, ci, ef, ei, zr, fsr, fs):  # type: ignore[no-untyped-def]
        # FhsHorizonVar::push: standardise r by the forecast made before it, the loss of the
        # latest `horizon` standardised returns summed oldest first, the sum window slides
        hz = ci[I_VAR_HORIZON]
        w = ci[I_VAR_WINDOW]
        if ei[E_FHS_HAS]:
            sigma = math.sqrt(ef[E_FHS_S2])
            z = r / sigma if sigma > 0.0 else 0.0
            if ei[E_Z_N] < hz:
                zr[(ei[E_Z_HEAD] + ei[E_Z_N]) % hz] = z
                ei[E_Z_N] += 1
            else:
                zr[ei[E_Z_HEAD]] = z
                ei[E_Z_HEAD] = (ei[E_Z_HEAD] + 1) % hz
            if ei[E_Z_N] == hz:
                t = 0.0
                for i in range(hz):
                    t += zr[(ei[E_Z_HEAD] + i) % hz]
                loss = -t + 0.0
                sn = ei[E_S_N]
                if sn < w:
                    fsr[(ei[E_S_HEAD] + sn) % w] = loss
                    ins(fs, sn, loss)
                    ei[E_S_N] = sn + 1
                else:
                    old_loss = fsr[ei[E_S_HEAD]]
                    fsr[ei[E_S_HEAD]] = loss
                    ei[E_S_HEAD] = (ei[E_S_HEAD] + 1) % w
                    rem(fs, sn, old_loss)
                    ins(fs, sn - 1, loss)
            ef[E_FHS_S2] = EWMA_LAMBDA * ef[E_FHS_S2] + (1.0 - EWMA_LAMBDA) * r * r
        else:
            ef[E_FHS_S2] = r * r
            ei[E_FHS_HAS] = 1

    @jit
    def horizon_var(cf, ci, ef, ei, fs, one_bar):  # type: ignore[no-untyped-def]
        # policy::horizon_var_fraction: the FHS quantile x the next bar's forecast once its
        # window is full; while it fills, never below the one-bar VaR x sqrt(horizon)
        sqrt_rule = one_bar * math.sqrt(float(ci[I_VAR_HORIZON]))
        if ci[I_VAR_METHOD] == 0 or ei[E_S_N] < FHS_MIN_SUMS:
            return sqrt_rule
        filtered = quantile(fs, ei[E_S_N], cf[F_VAR_CONF]) * math.sqrt(ef[E_FHS_S2])
        if ei[E_S_N] >= ci[I_VAR_WINDOW]:
            return filtered
        return max(filtered, sqrt_rule)

    @jit
    def engine_push(  # type: ignore[no-untyped-def]
        o, h, low, c, v, k, cf, ci, ef, ei, losses, pv_seq, pv_price, pp, gr, old, zr, fsr, fs
    ):
        # PolicyEngine::push of bar k (the window is bars ei[E_LO] .. +ei[E_N]-1, sequence
        # numbers are bar indexes; returns r_i = c[i] / c[i-1] - 1 for the bars after the first)
        cap = ci[I_HISTORY]
        est = ci[I_ESTIMATOR]
        term = term_of(est, o[k], h[k], low[k], c[k])
        nb = ei[E_N]
        if nb > 0:
            r = c[k] / c[k - 1] - 1.0
            nr = nb - 1
            if nr > 0 and c[k - 1] / c[k - 2] - 1.0 == r:
                ei[E_RUN] += 1
            else:
                ei[E_RUN] = 1
            nr += 1
            d = r - ef[E_MEAN]
            ef[E_MEAN] += d / nr
            ef[E_M2] += d * (r - ef[E_MEAN])
            ins(losses, ei[E_NLOSS], -r)
            ei[E_NLOSS] += 1
            if ei[E_HAS_EWMA]:
                ef[E_EWMA] = EWMA_LAMBDA * ef[E_EWMA] + (1.0 - EWMA_LAMBDA) * r * r
            else:
                ef[E_EWMA] = r * r
                ei[E_HAS_EWMA] = 1
            if ci[I_VAR_METHOD] == 1:
                fhs_push(r, ci, ef, ei, zr, fsr, fs)
        else:
            ei[E_LO] = k
        nb += 1
        ef[E_TERMS] += term
        if nb > cap:
            lo = ei[E_LO]
            ef[E_TERMS] -= term_of(est, o[lo], h[lo], low[lo], c[lo])
            lo += 1
            nb -= 1
            ei[E_LO] = lo
            # the return into the new first bar leaves with the old first bar
            r = c[lo] / c[lo - 1] - 1.0
            nr = nb - 1
            if nr == 0:
                ef[E_MEAN] = 0.0
                ef[E_M2] = 0.0
            else:
                d = r - ef[E_MEAN]
                ef[E_MEAN] -= d / nr
                ef[E_M2] -= d * (r - ef[E_MEAN])
            ei[E_RUN] = min(ei[E_RUN], nr)
            rem(losses, ei[E_NLOSS], -r)
            ei[E_NLOSS] -= 1
        # the mean volume's sum of the last min(VOLUME_BARS, cap) volumes: slid once they
        # are all held (before this bar: min(bars held, held)) unless the volume leaving is
        # over half the sum, taken in order every `held` bars
        held = min(VOLUME_BARS, cap)
        if (
            min(ei[E_N], held) == held
            and ei[E_VSLIDES] + 1 < held
            and v[k - held] <= 0.5 * ef[E_VSUM]
        ):
            ei[E_VSLIDES] += 1
            ef[E_VSUM] = ef[E_VSUM] - v[k - held] + v[k]
        else:
            ei[E_VSLIDES] = 0
            sv = 0.0
            for i in range(k + 1 - min(nb, held), k + 1):
                sv += v[i]
            ef[E_VSUM] = sv
        ei[E_N] = nb
        ei[E_SINCE] += 1
        lo = ei[E_LO]
        if ei[E_SINCE] >= cap:
            # exact two-pass moments and term sum of the window
            ei[E_SINCE] = 0
            nr = nb - 1
            if nr > 0:
                s = 0.0
                for i in range(lo + 1, lo + nb):
                    s += c[i] / c[i - 1] - 1.0
                mean = s / nr
                m2 = 0.0
                for i in range(lo + 1, lo + nb):
                    x = c[i] / c[i - 1] - 1.0
                    m2 += (x - mean) * (x - mean)
                ef[E_MEAN] = mean
                ef[E_M2] = m2
            t = 0.0
            for i in range(lo, lo + nb):
                t += term_of(est, o[i], h[i], low[i], c[i])
            ef[E_TERMS] = t
        if ci[I_SR]:
            # pivots: drop those leaving the window, add the one whose right half completed
            pcap = len(pv_seq)
            while ei[E_PV_N] > 0:
                at = ei[E_PV_HEAD]
                if pv_seq[at] >= lo + SR_HALF:
                    break
                idx = rem(pp, ei[E_NPP], pv_price[at])
                ei[E_NPP] -= 1
                ei[E_NCL] = regroup(pp, ei[E_NPP], idx, -1, cf[F_SR_TOL], ei[E_NCL], gr, old)
                ei[E_PV_HEAD] = (at + 1) % pcap
                ei[E_PV_N] -= 1
                ei[E_DIRTY] = 1
            if nb >= 2 * SR_HALF + 1:
                i = lo + nb - 1 - SR_HALF
                hi_ok = True
                lo_ok = True
                for m in range(i - SR_HALF, i + SR_HALF + 1):
                    if h[m] > h[i]:
                        hi_ok = False
                    if low[m] < low[i]:
                        lo_ok = False
                if hi_ok:
                    at = (ei[E_PV_HEAD] + ei[E_PV_N]) % pcap
                    pv_seq[at] = i
                    pv_price[at] = h[i]
                    ei[E_PV_N] += 1
                    idx = ins(pp, ei[E_NPP], h[i])
                    ei[E_NPP] += 1
                    ei[E_NCL] = regroup(pp, ei[E_NPP], idx, 1, cf[F_SR_TOL], ei[E_NCL], gr, old)
                    ei[E_DIRTY] = 1
                if lo_ok:
                    at = (ei[E_PV_HEAD] + ei[E_PV_N]) % pcap
                    pv_seq[at] = i
                    pv_price[at] = low[i]
                    ei[E_PV_N] += 1
                    idx = ins(pp, ei[E_NPP], low[i])
                    ei[E_NPP] += 1
                    ei[E_NCL] = regroup(pp, ei[E_NPP], idx, 1, cf[F_SR_TOL], ei[E_NCL], gr, old)
                    ei[E_DIRTY] = 1

    @jit
    def regroup(pp, npp, at, delta, tol, ng, gr, old):  # type: ignore[no-untyped-def]
        # PivotClusters::changed: the prices pp[:npp] changed at index `at` (delta +1: one
        # inserted there, -1: one removed); clusters gr[3g..3g+2] = (start, sum, count) from the
        # one holding the pivot before the change are regrouped greedily (a price within `tol`
        # of the running mean joins it) until a cluster starts where an old one started (the
        # rest is then the same, shifted). Returns the cluster count.
        frm = 0
        if at > 0:
            lo = 0
            hi = ng
            while lo < hi:
                mid = (lo + hi) >> 1
                if gr[3 * mid] < at:
                    lo = mid + 1
                else:
                    hi = mid
            frm = lo - 1
        nold = ng - frm
        for m in range(3 * nold):
            old[m] = gr[3 * frm + m]
        ng = frm
        same = at + 1 if delta > 0 else at
        begin = int(old[0]) if nold > 0 else 0
        next_old = 0
        cnt = 0
        first = 0
        total = 0.0
        for k in range(begin, npp):
            p = pp[k]
            if cnt > 0:
                mean = total / cnt
                if abs(p - mean) <= tol * mean:
                    total = total + p
                    cnt += 1
                    continue
                gr[3 * ng] = first
                gr[3 * ng + 1] = total
                gr[3 * ng + 2] = cnt
                ng += 1
            if k >= same and nold > 0:
                old_start = k - delta
                while next_old < nold and old[3 * next_old] < old_start:
                    next_old += 1
                if next_old < nold and old[3 * next_old] == old_start:
                    for m in range(next_old, nold):
                        gr[3 * ng] = old[3 * m] + delta
                        gr[3 * ng + 1] = old[3 * m + 1]
                        gr[3 * ng + 2] = old[3 * m + 2]
                        ng += 1
                    return ng
            first = k
            total = p
            cnt = 1
        if cnt > 0:
            gr[3 * ng] = first
            gr[3 * ng + 1] = total
            gr[3 * ng + 2] = cnt
            ng += 1
        return ng

    @jit
    def sr_levels(gr, ng, srp):  # type: ignore[no-untyped-def]
        # PivotClusters::levels_into: clusters of at least SR_MIN_TOUCHES pivots, their mean
        nsr = 0
        for g in range(ng):
            if gr[3 * g + 2] >= SR_MIN_TOUCHES:
                srp[nsr] = gr[3 * g + 1] / gr[3 * g + 2]
                nsr += 1
        return nsr

    @jit
    def build_row(ci, qc, fac, gap, lots, st, sl, si, bt, bl, bi):  # type: ignore[no-untyped-def]
        # GridPlan::build_row: levels from the exact center, snapped side-aware, merged when
        # closer than the gap, the innermost pair resolved, minimums enforced
        nl = ci[I_LEVELS]
        geometric = ci[I_MODE] == 0
        ns = 0
        nb = 0
        for k in range(nl):
            f = fac[k]
            if geometric:
                q_sell = qc * f
                q_buy = qc / f
            else:
                q_sell = qc * (1.0 + f)
                q_buy = qc * (1.0 - f)
            sell = snap(q_sell, True)
            if ns > 0 and sell - st[ns - 1] < gap:
                sl[ns - 1] += lots
            else:
                st[ns] = sell
                sl[ns] = lots
                si[ns] = k + 1
                ns += 1
            buy = snap(q_buy, False) if q_buy > 0.0 else 0
            if buy <= 0:
                pass
            elif nb > 0 and bt[nb - 1] - buy < gap:
                bl[nb - 1] += lots
            else:
                bt[nb] = buy
                bl[nb] = lots
                bi[nb] = k + 1
                nb += 1
        while nb > 0 and ns > 0 and st[0] - bt[0] < gap:
            total = float(st[0] + bt[0])
            twice = 2.0 * qc
            if total <= twice + SNAP_EPS * max(twice, 1.0):
                if ns > 1:
                    sl[1] += sl[0]
                for m in range(ns - 1):
                    st[m] = st[m + 1]
                    sl[m] = sl[m + 1]
                    si[m] = si[m + 1]
                ns -= 1
            else:
                if nb > 1:
                    bl[1] += bl[0]
                for m in range(nb - 1):
                    bt[m] = bt[m + 1]
                    bl[m] = bl[m + 1]
                    bi[m] = bi[m + 1]
                nb -= 1
        kept = 0
        for m in range(ns):
            if meets(ci, st[m], sl[m]):
                st[kept] = st[m]
                sl[kept] = sl[m]
                si[kept] = si[m]
                kept += 1
        ns = kept
        kept = 0
        for m in range(nb):
            if meets(ci, bt[m], bl[m]):
                bt[kept] = bt[m]
                bl[kept] = bl[m]
                bi[kept] = bi[m]
                kept += 1
        return ns, kept

    @jit
    def snap_sr(cf, ci, lt, n, srp, nsr, is_sell):  # type: ignore[no-untyped-def]
        # policy::snap_to_support_resistance on one ladder (ticks in lt[:n])
        tick = cf[F_TICK]
        tol = cf[F_SR_TOL]
        gap = max(snap(cf[F_MIN_DIST] / tick, True), 1)
        for k in range(n):
            p = float(lt[k] * ci[I_TICK_MANT]) / cf[F_TICK_DIV]
            found = -1
            for m in range(nsr):
                if abs(p - srp[m]) <= tol * srp[m]:
                    found = m
                    break
            if found < 0:
                continue
            sr = srp[found]
            target = snap(sr / tick, False) - 1 if is_sell else snap(sr / tick, True) + 1
            inner_ok = k == 0 or abs(target - lt[k - 1]) >= gap
            outer_ok = k + 1 == n or abs(lt[k + 1] - target) >= gap
            ordered = (k == 0 or (target > lt[k - 1]) == is_sell) and (
                k + 1 == n or (lt[k + 1] > target) == is_sell
            )
            if target > 0 and target != lt[k] and inner_ok and outer_ok and ordered:
                lt[k] = target

    @jit
    def put(od, n, role, side, level, kind, price, lots):  # type: ignore[no-untyped-def]
        b = n * OC
        od[b + C_ROLE] = role
        od[b + C_SIDE] = side
        od[b + C_LEVEL] = level
        od[b + C_KIND] = kind
        od[b + C_PRICE] = price
        od[b + C_LOTS] = lots
        return n + 1

    @jit
    def swap_rows(od, a, b):  # type: ignore[no-untyped-def]
        for m in range(OC):
            x = od[a * OC + m]
            od[a * OC + m] = od[b * OC + m]
            od[b * OC + m] = x

    @jit
    def grid(  # type: ignore[no-untyped-def]
        cf,
        ci,
        price,
        avgv,
        srp,
        nsr,
        center,
        new_center,
        new_ref,
        s_lo,
        s_hi,
        s_target,
        s_cur,
        spacing,
        level_cap,
        ef,
        fac,
        row,
        ladder,
        go,
    ):
        # policy::grid_layer: the grid orders into go (returns the center, the reference short
        # and their count); level_cap: sizing::level_risk_lots' bound on each level
        lot = cf[F_LOT]
        tick = cf[F_TICK]
        # the center: recenter on drift or when unset
        price_q = price / tick
        if (
            new_center <= 0
            or abs(price / (float(center * ci[I_TICK_MANT]) / cf[F_TICK_DIV]) - 1.0)
            > cf[F_RECENTER]
        ):
            new_center = max(snap(price_q, False), 1)
            new_ref = s_target
        s_ref = min(max(new_ref, s_lo), s_hi)
        levels = ci[I_LEVELS]
        sell_step = min((s_hi - s_ref) // levels, level_cap)
        buy_step = min((s_ref - s_lo) // levels, level_cap)
        center_f = float(new_center * ci[I_TICK_MANT]) / cf[F_TICK_DIV]
        # the ladders (a GridPlan per side, the factors kept while the shape is unchanged)
        if spacing != ef[E_SPACING]:
            for k in range(levels):
                if ci[I_MODE] == 0:
                    fac[k] = powi(1.0 + spacing, k + 1)
                else:
                    fac[k] = (k + 1) * spacing
            ef[E_SPACING] = spacing
        gap = max(snap(cf[F_MIN_DIST] / tick, True), 1)
        q_center = center_f / tick
        st = row[0:levels]
        sl = row[levels : 2 * levels]
        si = row[2 * levels : 3 * levels]
        bt = row[3 * levels : 4 * levels]
        bl = row[4 * levels : 5 * levels]
        bi = row[5 * levels : 6 * levels]
        ns = 0
        nb = 0
        if sell_step >= 1:
            per = snap((float(sell_step * ci[I_LOT_MANT]) / cf[F_LOT_DIV]) / lot, False)
            ns, _ = build_row(ci, q_center, fac, gap, per, st, sl, si, bt, bl, bi)
            for k in range(ns):
                ladder[k] = si[k]
                ladder[levels + k] = st[k]
                ladder[2 * levels + k] = sl[k]
        if buy_step >= 1:
            per = snap((float(buy_step * ci[I_LOT_MANT]) / cf[F_LOT_DIV]) / lot, False)
            _, nb = build_row(ci, q_center, fac, gap, per, st, sl, si, bt, bl, bi)
            for k in range(nb):
                ladder[3 * levels + k] = -bi[k]
                ladder[4 * levels + k] = bt[k]
                ladder[5 * levels + k] = bl[k]
        sell_t = ladder[levels : 2 * levels]
        buy_t = ladder[4 * levels : 5 * levels]
        if ci[I_SR] and nsr > 0:
            snap_sr(cf, ci, sell_t, ns, srp, nsr, True)
            snap_sr(cf, ci, buy_t, nb, srp, nsr, False)
        # orders for what the hedge lacks (sells above the price) or exceeds (buys below)
        ng = 0
        prev = s_ref
        cum = s_ref
        if float(new_center) > price_q and s_ref > s_cur:
            ng = put(go, ng, GRID, SELL, 0, LIMIT, new_center, s_ref - s_cur)
        for k in range(ns):
            cum = min(cum + ladder[2 * levels + k], s_hi)
            size = cum - max(s_cur, prev)
            if size > 0 and float(sell_t[k]) > price_q:
                ng = put(go, ng, GRID, SELL, ladder[k], LIMIT, sell_t[k], size)
            prev = cum
        prev = s_ref
        cum = s_ref
        if float(new_center) < price_q and s_cur > s_ref:
            ng = put(go, ng, GRID, BUY, 0, LIMIT, new_center, s_cur - s_ref)
        for k in range(nb):
            cum = max(cum - ladder[5 * levels + k], s_lo)
            size = min(s_cur, prev) - cum
            if size > 0 and float(buy_t[k]) < price_q:
                ng = put(go, ng, GRID, BUY, ladder[3 * levels + k], LIMIT, buy_t[k], size)
            prev = cum
        # market layer: cap each order at a share of recent volume; then the minimums
        if avgv > 0.0:
            volume_cap = snap(cf[F_VOL_SHARE] * avgv / lot, False)
            for k in range(ng):
                if go[k * OC + C_LOTS] > volume_cap:
                    go[k * OC + C_LOTS] = volume_cap
        kept = 0
        for k in range(ng):
            lots = go[k * OC + C_LOTS]
            if lots > 0 and meets(ci, go[k * OC + C_PRICE], lots):
                if kept != k:
                    for m in range(OC):
                        go[kept * OC + m] = go[k * OC + m]
                kept += 1
        ng = kept
        return new_center, new_ref, ng

    @jit
    def near(a, b, tol):  # type: ignore[no-untyped-def]
        # policy/requote.rs: a within the relative tolerance of b (exactly b when b is 0)
        if b == 0.0:
            return a == 0.0
        return abs(a / b - 1.0) <= tol

    @jit
    def decide(  # type: ignore[no-untyped-def]
        cf,
        ci,
        price,
        frate,
        vol,
        lrv,
        varf,
        avgv,
        srp,
        nsr,
        flots,
        equity,
        hwm,
        st,
        lo_since,
        hi_since,
        tmean,
        ef,
        fac,
        row,
        ladder,
        od,
        go,
    ):
        # policy::decide_in: the desired orders into od; the policy state st updated in place;
        # returns (their count, resumed)
        lot = cf[F_LOT]
        tick = cf[F_TICK]
        spot = cf[F_SPOT]
        short = -flots
        center = st[P_CENTER]
        ref_short = st[P_REF]
        drawdown = max(1.0 - equity / hwm, 0.0) if hwm > 0.0 else 0.0
        # portfolio layer: the halt (halt.rs)
        resumed = False
        age = 0
        if st[P_HALTED]:
            age = st[P_AGE] + 1
            if ci[I_HALT_COOL] > 0 and age >= ci[I_HALT_COOL]:
                halted = False
                resumed = True
                age = 0
            else:
                halted = True
        else:
            halted = drawdown >= cf[F_MAX_DD]
        # market layer: spacing, funding tilt
        spacing = cf[F_SPACING]
        if ci[I_DYNAMIC]:
            dynamic = cf[F_VOL_MULT] * vol * math.sqrt(float(ci[I_HORIZON]))
            new = min(dynamic, 0.5) if dynamic > spacing else spacing
            # the last decision's spacing stays within the tolerance (market.rs: spacing)
            last = ef[E_LAST_SPACING]
            if (
                cf[F_GRID_TOL] > 0.0
                and last >= cf[F_SPACING]
                and last <= 0.5
                and abs(new - last) <= cf[F_GRID_TOL] * last / float(ci[I_LEVELS])
            ):
                new = last
            if new > spacing:
                spacing = new
        ef[E_LAST_SPACING] = spacing
        h_target = cf[F_H]
        if ci[I_TILT] and frate != 0.0:
            h_target = min(max(cf[F_H] + cf[F_FUND_SENS] * frate, cf[F_H_MIN]), cf[F_H_MAX])
        # a review after the tilt, tighten-only (none when F_REVIEW_H < 0)
        if cf[F_REVIEW_H] >= 0.0:
            full = min(max(1.0, cf[F_H_MIN]), cf[F_H_MAX])
            rv = min(max(cf[F_REVIEW_H], cf[F_H_MIN]), cf[F_H_MAX])
            if abs(rv - full) < abs(h_target - full):
                h_target = rv
        # position layer: the band in lots
        cap = snap(cf[F_MAX_POS] / lot, False)
        s_lo = min(snap(cf[F_H_MIN] * spot / lot, False), cap)
        s_hi = min(snap(cf[F_H_MAX] * spot / lot, False), cap)
        s_target = min(max(snap(h_target * spot / lot, False), s_lo), s_hi)
        # portfolio layer: VaR of the worst in-band exposure
        var_fraction = varf  # the horizon VaR (policy::horizon_var_fraction)
        worst = max(abs(spot - s_lo * lot) * price, abs(spot - s_hi * lot) * price) * var_fraction
        ef[E_VAR_WORST] = worst
        if (
            worst > cf[F_VAR_LIMIT]
            and worst > cf[F_VAR_LIMIT] * cf[F_SHRINK]
            and var_fraction > 0.0
        ):
            allowed = cf[F_VAR_LIMIT] / var_fraction / price
            full = snap(spot / lot, False)
            room = snap(allowed / lot, False)
            lo = min(max(s_lo, full - room), s_hi)
            hi = max(min(s_hi, full + room), s_lo)
            s_lo = lo
            s_hi = hi
        n = 0
        new_center = center
        new_ref = ref_short
        # a stop that traded since the last decision pauses its grid side (stop.rs: cooldown)
        sell_fired = (
            st[P_SELL_STOP] > 0
            and lo_since > 0.0
            and snap(lo_since / tick, True) <= st[P_SELL_STOP]
        )
        buy_fired = (
            st[P_BUY_STOP] > 0 and hi_since > 0.0 and snap(hi_since / tick, False) >= st[P_BUY_STOP]
        )
        pause_b = ci[I_STOP_COOL] if sell_fired else max(st[P_PAUSE_B] - 1, 0)
        pause_s = ci[I_STOP_COOL] if buy_fired else max(st[P_PAUSE_S] - 1, 0)
        s_cur = short
        # a halt moves to the safe hedge, outside the band back to the target: volume-capped
        volume_cap = snap(cf[F_VOL_SHARE] * avgv / lot, False) if avgv > 0.0 else I64MAX
        has_target = False
        target = 0
        if halted:
            safe = min(max(snap(cf[F_HALT_H] * spot / lot, False), s_lo), s_hi)
            # never past the point nearest a full hedge: a halt never raises the net exposure
            target = min(max(snap(spot / lot, False), min(s_cur, safe)), max(s_cur, safe))
            has_target = True
        elif s_cur < s_lo or s_cur > s_hi:
            target = min(max(s_target, s_lo), s_hi)
            has_target = True
        if has_target and target != s_cur:
            if target > s_cur:
                side = SELL
                want = target - s_cur
            else:
                side = BUY
                want = s_cur - target
            lots = min(want, volume_cap)
            if lots > 0 and meets(ci, max(snap(price / tick, False), 1), lots):
                n = put(od, n, REBALANCE, side, 0, MARKET, 0, lots)
                s_cur += lots if side == SELL else -lots
                if not halted:
                    new_center = 0
        price_q = price / tick
        ng = 0
        if not halted:
            # sizing::level_risk_lots: the volatility target and the VaR budget of one level
            level_cap = I64MAX
            if cf[F_SIZE_VOL] > 0.0 and vol > 0.0:
                raw = cf[F_SIZE_VOL] * max(equity, 0.0) / (price * vol)
                level_cap = max(snap(raw / lot, False), 0)
            if cf[F_SIZE_VAR] > 0.0 and var_fraction > 0.0:
                raw = cf[F_SIZE_VAR] * cf[F_VAR_LIMIT] / (price * var_fraction)
                level_cap = min(level_cap, max(snap(raw / lot, False), 0))
            new_center, new_ref, ng = grid(
                cf,
                ci,
                price,
                avgv,
                srp,
                nsr,
                center,
                new_center,
                new_ref,
                s_lo,
                s_hi,
                s_target,
                s_cur,
                spacing,
                level_cap,
                ef,
                fac,
                row,
                ladder,
                go,
            )
            # the grid side a stop paused
            kept = 0
            for k in range(ng):
                gs = go[k * OC + C_SIDE]
                if (gs == BUY and pause_b == 0) or (gs == SELL and pause_s == 0):
                    if kept != k:
                        for m in range(OC):
                            go[kept * OC + m] = go[k * OC + m]
                    kept += 1
            ng = kept
            # the trend guard (trend.rs): the rungs beyond the center the trend would fill
            if ci[I_TREND_BARS] > 0 and tmean > 0.0:
                paused = -1
                if price > tmean * (1.0 + cf[F_TREND_PCT]):
                    paused = SELL
                elif price < tmean * (1.0 - cf[F_TREND_PCT]):
                    paused = BUY
                if paused >= 0:
                    kept = 0
                    for k in range(ng):
                        if not (go[k * OC + C_SIDE] == paused and go[k * OC + C_LEVEL] != 0):
                            if kept != k:
                                for m in range(OC):
                                    go[kept * OC + m] = go[k * OC + m]
                            kept += 1
                    ng = kept
        # position layer: the dynamic stop on the net exposure (stop.rs)
        net = snap(spot / lot, False) - s_cur
        scale = 1.0
        if vol > 0.0 and lrv > 0.0:
            scale = min(max(vol / lrv, cf[F_SCALE_MIN]), cf[F_SCALE_MAX])
        distance = min(cf[F_STOP_PCT] * scale, 0.99)
        # the grid nearest the price first
        for a in range(1, ng):
            b = a
            while b > 0 and abs(go[(b - 1) * OC + C_PRICE] - price_q) > abs(
                go[b * OC + C_PRICE] - price_q
            ):
                swap_rows(go, b - 1, b)
                b -= 1
        stop_ref = 0
        if net != 0:
            pt = max(snap(price_q, False), 1)
            is_long = net > 0
            if is_long:
                reference = max(st[P_STOP_REF], pt) if st[P_STOP_REF] > 0 else pt
                stop_ref = reference
            else:
                reference = min(-st[P_STOP_REF], pt) if st[P_STOP_REF] < 0 else pt
                stop_ref = -reference
            ref_f = float(reference * ci[I_TICK_MANT]) / cf[F_TICK_DIV]
            if is_long:
                level = ref_f * (1.0 - distance)
                sticks = snap(level / tick, True)
                side = SELL
                gside = BUY
            else:
                level = ref_f * (1.0 + distance)
                sticks = snap(level / tick, False)
                side = BUY
                gside = SELL
            if (
                ref_f > 0.0
                and distance > 0.0
                and level > 0.0
                and sticks <= 1_000_000_000_000
                and sticks >= 1
            ):
                past = pt <= sticks if is_long else pt >= sticks
                # the resting stop stays still within the tolerance (stop.rs: place)
                if is_long:
                    rest, rest_lots, rest_fired = st[P_SELL_STOP], st[P_SELL_LOTS], sell_fired
                else:
                    rest, rest_lots, rest_fired = st[P_BUY_STOP], st[P_BUY_LOTS], buy_fired
                if (
                    not past
                    and rest > 0
                    and rest_lots > 0
                    and not rest_fired
                    and rest != sticks
                    and float(abs(rest - sticks)) <= cf[F_STOP_TOL] * distance * float(reference)
                    and (pt > rest if is_long else pt < rest)
                ):
                    rest_ahead = 0
                    for k in range(ng):
                        gp = go[k * OC + C_PRICE]
                        if go[k * OC + C_SIDE] == gside and (gp > rest if is_long else gp < rest):
                            rest_ahead += go[k * OC + C_LOTS]
                    if abs(net) + rest_ahead == rest_lots:
                        sticks = rest
                kept = 0
                ahead = 0
                for k in range(ng):
                    gs = go[k * OC + C_SIDE]
                    gp = go[k * OC + C_PRICE]
                    if past:
                        keep = gs != gside
                    elif is_long:
                        keep = gs != gside or gp > sticks
                    else:
                        keep = gs != gside or gp < sticks
                    if keep:
                        if gs == gside:
                            ahead += go[k * OC + C_LOTS]
                        if kept != k:
                            for m in range(OC):
                                go[kept * OC + m] = go[k * OC + m]
                        kept += 1
                ng = kept
                if past:
                    if is_long:
                        pause_b = max(pause_b, ci[I_STOP_COOL])
                    else:
                        pause_s = max(pause_s, ci[I_STOP_COOL])
                    if meets(ci, pt, abs(net)):
                        n = put(od, n, STOP, side, 0, MARKET, 0, abs(net))
                elif meets(ci, sticks, abs(net) + ahead):
                    n = put(od, n, STOP, side, 0, STOP_MARKET, sticks, abs(net) + ahead)
        # position layer: one worst-case cap over each side's resting orders (cap.rs)
        cap = snap(cf[F_MAX_POS] / lot, False)
        room_s = max(cap - short, 0)
        room_b = max(cap + short, 0)
        clipped = 0
        for k in range(n + ng):
            q = k * OC
            arr = od if k < n else go
            if k >= n:
                q = (k - n) * OC
            lots = arr[q + C_LOTS]
            if arr[q + C_SIDE] == SELL:
                if lots > room_s:
                    lots = room_s
                    clipped += 1
                room_s -= lots
            else:
                if lots > room_b:
                    lots = room_b
                    clipped += 1
                room_b -= lots
            arr[q + C_LOTS] = lots
        if clipped > 0:
            now = max(snap(price_q, False), 1)
            kept = 0
            for k in range(n):
                lots = od[k * OC + C_LOTS]
                px = now if od[k * OC + C_KIND] == MARKET else od[k * OC + C_PRICE]
                if lots > 0 and meets(ci, px, lots):
                    if kept != k:
                        for m in range(OC):
                            od[kept * OC + m] = od[k * OC + m]
                    kept += 1
            n = kept
            kept = 0
            for k in range(ng):
                lots = go[k * OC + C_LOTS]
                if lots > 0 and meets(ci, go[k * OC + C_PRICE], lots):
                    if kept != k:
                        for m in range(OC):
                            go[kept * OC + m] = go[k * OC + m]
                    kept += 1
            ng = kept
        # order layer: at most max_active_orders
        room = max(ci[I_POLICY_MAX_ACTIVE] - n, 0)
        ng = min(ng, room)
        n = min(n, ci[I_POLICY_MAX_ACTIVE])
        sell_stop = 0
        buy_stop = 0
        sell_lots = 0
        buy_lots = 0
        for k in range(n):
            if od[k * OC + C_ROLE] == STOP and od[k * OC + C_KIND] == STOP_MARKET:
                if od[k * OC + C_SIDE] == SELL:
                    sell_stop = od[k * OC + C_PRICE]
                    sell_lots = od[k * OC + C_LOTS]
                else:
                    buy_stop = od[k * OC + C_PRICE]
                    buy_lots = od[k * OC + C_LOTS]
        for k in range(ng):
            for m in range(OC):
                od[(n + k) * OC + m] = go[k * OC + m]
        n += ng
        # sorted by (role, buys after sells, |level|, price), stable
        for a in range(1, n):
            b = a
            while b > 0:
                p = (b - 1) * OC
                q = b * OC
                if od[p + C_ROLE] != od[q + C_ROLE]:
                    greater = od[p + C_ROLE] > od[q + C_ROLE]
                elif od[p + C_SIDE] != od[q + C_SIDE]:
                    greater = od[p + C_SIDE] > od[q + C_SIDE]
                elif abs(od[p + C_LEVEL]) != abs(od[q + C_LEVEL]):
                    greater = abs(od[p + C_LEVEL]) > abs(od[q + C_LEVEL])
                else:
                    greater = od[p + C_PRICE] > od[q + C_PRICE]
                if not greater:
                    break
                swap_rows(od, b - 1, b)
                b -= 1
        st[P_CENTER] = new_center
        st[P_REF] = new_ref
        st[P_HALTED] = 1 if halted else 0
        st[P_AGE] = age
        st[P_STOP_REF] = stop_ref
        st[P_SELL_STOP] = sell_stop
        st[P_BUY_STOP] = buy_stop
        st[P_SELL_LOTS] = sell_lots
        st[P_BUY_LOTS] = buy_lots
        st[P_PAUSE_B] = pause_b
        st[P_PAUSE_S] = pause_s
        return n, resumed

    @jit
    def run(ts, o, h, low, c, v, ft, fr, cf, ci, ev, record):  # type: ignore[no-untyped-def]
        # backtest::run (see the module doc); returns the metrics and the events recorded
        n_bars = len(c)
        cap = ci[I_HISTORY]
        levels = ci[I_LEVELS]
        start = ci[I_START]
        cadence = ci[I_CADENCE]
        max_active = ci[I_MAX_ACTIVE]
        tick = cf[F_TICK]
        lot = cf[F_LOT]
        spot = cf[F_SPOT]
        cash = cf[F_CASH]
        bar_ms = ts[1] - ts[0] if n_bars >= 2 else 3_600_000
        # engine state
        ef = zf(N_EF)
        ei = zi(N_EI)
        zr = zf(max(ci[I_VAR_HORIZON], 1))
        fsr = zf(max(ci[I_VAR_WINDOW], 1))
        fs = sbuf(ci[I_VAR_WINDOW] + 2)
        ef[E_SPACING] = -1.0
        losses = sbuf(cap + 2)
        pv_seq = zi(2 * cap + 4)
        pv_price = zf(2 * cap + 4)
        pp = sbuf(2 * cap + 4)
        srp = zf(2 * cap + 4)
        gr = zf(3 * (2 * cap + 4))  # clusters: (start, sum, count) as floats
        old = zf(3 * (2 * cap + 4))
        nsr = 0
        engine_reset(ef, ei)
        fed = -1  # last bar fed to the engine
        # decision buffers
        dcap = 2 * levels + 4
        fac = zf(levels)
        row = zi(6 * levels)
        ladder = zi(6 * levels)
        od = zi(dcap * OC)
        go = zi(dcap * OC)
        # live orders (placement order), keys' sequence numbers, the diff's scratch
        lcap = max_active + dcap
        live = zi(lcap * LC)
        nlive = 0
        width = 2 * levels + 1
        seqs = zi(3 * 2 * width)
        kept = zi(lcap)
        places = zi(dcap)
        cr_seg = zi(lcap)
        cr_key = zi(lcap)
        cr_slot = zi(lcap)
        down = zi(4)
        up = zi(4)
        path = zf(4)
        # account (floats where the core is exact decimal)
        pos = 0
        entry = 0.0
        realized = 0.0
        fees = 0.0
        funding = 0.0
        notional = 0.0
        base_pnl = 0.0
        entry_c = 0.0
        pos_c = 0.0
        hwm = 0.0
        st = zi(N_P)  # the policy state
        last_decision = -1
        # the requote gate (policy/requote.rs): the kept decision's inputs and bounds
        rq_tol = cf[F_REQUOTE_TOL]
        k_ok = False
        k_skips = 0
        k_price = 0.0
        k_frate = 0.0
        k_vol = 0.0
        k_lrv = 0.0
        k_varh = 0.0
        k_avgv = 0.0
        k_eq = 0.0
        k_pos = 0
        k_trend = -1
        k_spacing = 0.0
        k_vw = 0.0
        k_fall = -I64MAX - 1
        k_rise = I64MAX
        k_lo = 0.0
        k_hi = 0.0
        k_nsr = 0
        k_gmax = 0  # the largest grid order's lots
        k_sr = zf(2 * cap + 4)
        fptr = 0
        rptr = 0
        var_fraction = 0.0
        # metrics
        ne = 0
        n_fills = 0
        n_placed = 0
        n_cancelled = 0
        decisions = 0
        r_n = 0.0
        r_mean = 0.0
        r_m2 = 0.0
        down_sum = 0.0
        down_n = 0
        ch_n = 0.0
        ch_mean = 0.0
        ch_m2 = 0.0
        sp_n = 0.0
        sp_mean = 0.0
        sp_m2 = 0.0
        peak = -math.inf
        max_dd = 0.0
        hedge_sum = 0.0
        prev_eq = math.nan
        prev_net = 0.0
        initial = 0.0
        var_obs = 0
        var_exc = 0
        for j in range(start, n_bars):
            close = c[j]
            if j > start:
                if nlive > 0:
                    # FillBook::on_bar: crossings along the intrabar path, in path order
                    path[0] = o[j]
                    path[3] = close
                    if close < o[j]:
                        path[1] = h[j]
                        path[2] = low[j]
                    else:
                        path[1] = low[j]
                        path[2] = h[j]
                    for s in range(4):
                        down[s] = snap(path[s] / tick, False)
                        up[s] = snap(path[s] / tick, True)
                    m = 0
                    for slot in range(nlive):
                        b = slot * LC
                        if live[b + C_PLACED] >= j:
                            continue
                        kind = live[b + C_KIND]
                        if kind == MARKET:
                            seg = 0
                            key = MARKET_KEY
                        else:
                            p = live[b + C_PRICE]
                            sell = live[b + C_SIDE] == SELL
                            if kind == LIMIT:
                                rising = sell
                                th = p + 1 if sell else p - 1
                            else:
                                rising = not sell
                                th = p
                            seg = -1
                            for s in range(4):
                                if (down[s] >= th) if rising else (up[s] <= th):
                                    seg = s
                                    break
                            if seg < 0:
                                continue
                            key = th if rising else -th
                        # insertion by (segment, key), slots in order
                        a = m
                        while a > 0 and (
                            cr_seg[a - 1] > seg or (cr_seg[a - 1] == seg and cr_key[a - 1] > key)
                        ):
                            cr_seg[a] = cr_seg[a - 1]
                            cr_key[a] = cr_key[a - 1]
                            cr_slot[a] = cr_slot[a - 1]
                            a -= 1
                        cr_seg[a] = seg
                        cr_key[a] = key
                        cr_slot[a] = slot
                        m += 1
                    if m > 0:
                        budget = snap(cf[F_PARTICIPATION] * v[j] / lot, False)
                        for a in range(m):
                            b = cr_slot[a] * LC
                            kind = live[b + C_KIND]
                            side = live[b + C_SIDE]
                            rem_lots = live[b + C_LOTS]
                            if kind == LIMIT:
                                lots = min(rem_lots, budget)
                                if lots == 0:
                                    continue
                                budget -= lots
                                px = live[b + C_PRICE]
                                rate = cf[F_MAKER]
                            elif kind == MARKET:
                                px = up[0] if side == BUY else down[0]
                                lots = rem_lots
                                rate = cf[F_TAKER]
                            else:
                                px = live[b + C_PRICE]
                                if cr_seg[a] == 0:
                                    px = max(up[0], px) if side == BUY else min(down[0], px)
                                lots = rem_lots
                                rate = cf[F_TAKER]
                            live[b + C_LOTS] = rem_lots - lots
                            # Account::apply_fill
                            price = float(px * ci[I_TICK_MANT]) / cf[F_TICK_DIV]
                            amount = float(lots * ci[I_LOT_MANT]) / cf[F_LOT_DIV]
                            signed = lots if side == BUY else -lots
                            new = pos + signed
                            if pos == 0 or (pos > 0) == (signed > 0):
                                q_old = float(abs(pos))
                                entry = (entry * q_old + price * lots) / (q_old + lots)
                            else:
                                closed = min(lots, abs(pos))
                                per_unit = price - entry if pos > 0 else entry - price
                                realized += (
                                    per_unit * float(closed * ci[I_LOT_MANT]) / cf[F_LOT_DIV]
                                )
                                if new == 0:
                                    entry = 0.0
                                elif (new > 0) != (pos > 0):
                                    entry = price
                            pos = new
                            fees += price * amount * rate
                            notional += price * amount
                            n_fills += 1
                            if record:
                                ne = emit(
                                    ev,
                                    ne,
                                    j,
                                    FILL,
                                    live[b + C_ROLE],
                                    side,
                                    live[b + C_LEVEL],
                                    live[b + C_SEQ],
                                    px,
                                    lots,
                                )
                        # drop the filled orders
                        k = 0
                        for slot in range(nlive):
                            if live[slot * LC + C_LOTS] > 0:
                                if k != slot:
                                    for x in range(LC):
                                        live[k * LC + x] = live[slot * LC + x]
                                k += 1
                        nlive = k
                        base_pnl = realized + funding - fees
                        entry_c = entry
                        pos_c = float(pos * ci[I_LOT_MANT]) / cf[F_LOT_DIV]
                # funding whose time falls in the bar, paid at the close
                opened = ts[j]
                while fptr < len(ft) and ft[fptr] <= opened:
                    fptr += 1
                paid = False
                while fptr < len(ft) and ft[fptr] <= opened + bar_ms:
                    funding += -(float(pos * ci[I_LOT_MANT]) / cf[F_LOT_DIV] * close * fr[fptr])
                    fptr += 1
                    paid = True
                if paid:
                    base_pnl = realized + funding - fees
                    entry_c = entry
                    pos_c = float(pos * ci[I_LOT_MANT]) / cf[F_LOT_DIV]

            if j == start or (j - start) % cadence == 0 or j == n_bars - 1:
                decisions += 1
                # PolicyEngine::sync: feed the window's bars newer than the last one fed
                first = max(j + 1 - cap, 0)
                if fed < first:
                    engine_reset(ef, ei)
                    fed = first - 1
                    k_ok = False  # PolicyEngine::reset forgets the kept decision
                for k in range(fed + 1, j + 1):
                    engine_push(
                        o,
                        h,
                        low,
                        c,
                        v,
                        k,
                        cf,
                        ci,
                        ef,
                        ei,
                        losses,
                        pv_seq,
                        pv_price,
                        pp,
                        gr,
                        old,
                        zr,
                        fsr,
                        fs,
                    )
                fed = j
                close_ms = ts[j] + bar_ms
                while rptr < len(ft) and ft[rptr] <= close_ms:
                    rptr += 1
                frate = fr[rptr - 1] if rptr > 0 else 0.0
                equity = cash + spot * close + base_pnl + (close - entry_c) * pos_c
                if equity > hwm:
                    hwm = equity
                # PolicyEngine::stats
                nb = ei[E_N]
                nr = nb - 1
                var = 0.0 if ei[E_RUN] >= nr else max(ef[E_M2] / (nr - 1.0), 0.0)
                long_run = math.sqrt(var)
                est = ci[I_ESTIMATOR]
                if est == 0:
                    vol = long_run
                elif est == 1:
                    vol = math.sqrt(ef[E_EWMA]) if ei[E_HAS_EWMA] else 0.0
                else:
                    vol = math.sqrt(max(ef[E_TERMS] / nb, 0.0))
                avg_volume = ef[E_VSUM] / max(min(nb, VOLUME_BARS), 1)
                # the trend guard's mean close of the window's last trend_guard_bars bars
                tk = min(nb, ci[I_TREND_BARS])
                tmean = 0.0
                if tk > 0:
                    st_sum = 0.0
                    for k in range(ei[E_LO] + nb - tk, ei[E_LO] + nb):
                        st_sum += c[k]
                    tmean = st_sum / tk
                var_fraction = quantile(losses, ei[E_NLOSS], cf[F_VAR_CONF])
                var_h = horizon_var(cf, ci, ef, ei, fs, var_fraction)
                if not ci[I_SR]:
                    nsr = 0
                elif ei[E_DIRTY]:
                    nsr = sr_levels(gr, ei[E_NCL], srp)
                    ei[E_DIRTY] = 0
                # the lowest low and highest high since the last decision (the last bar first)
                lo_since = low[j]
                hi_since = h[j]
                if last_decision >= 0:
                    for k in range(last_decision + 1, j):
                        lo_since = min(lo_since, low[k])
                        hi_since = max(hi_since, h[k])
                last_decision = j
                # the requote gate (policy/requote.rs: Gate::quiet)
                trend_now = -1
                if ci[I_TREND_BARS] > 0:
                    trend_now = 0
                    if tmean > 0.0:
                        if close > tmean * (1.0 + cf[F_TREND_PCT]):
                            trend_now = 1
                        elif close < tmean * (1.0 - cf[F_TREND_PCT]):
                            trend_now = 2
                quiet = False
                if rq_tol > 0.0 and k_ok:
                    dd = max(1.0 - equity / hwm, 0.0) if hwm > 0.0 else 0.0
                    vw = k_vw / k_varh * var_h / k_price * close if k_varh > 0.0 else 0.0
                    quiet = (
                        k_skips < ci[I_REQUOTE_MAX]
                        and st[P_PAUSE_B] != 1
                        and st[P_PAUSE_S] != 1
                        and pos == k_pos
                        and not (
                            snap(lo_since / tick, True) <= k_fall
                            or snap(hi_since / tick, False) >= k_rise
                        )
                        and abs(close / k_price - 1.0) <= rq_tol * k_spacing
                        and near(vol, k_vol, rq_tol)
                        and near(long_run, k_lrv, rq_tol)
                        and near(var_h, k_varh, rq_tol)
                        and (
                            near(avg_volume, k_avgv, rq_tol)
                            or (
                                avg_volume > 0.0
                                and k_avgv > 0.0
                                and snap(cf[F_VOL_SHARE] * avg_volume / lot, False) > k_gmax
                                and snap(cf[F_VOL_SHARE] * k_avgv / lot, False) > k_gmax
                            )
                        )
                        and near(equity, k_eq, rq_tol)
                        and frate == k_frate
                        and dd < cf[F_MAX_DD]
                        and (vw > cf[F_VAR_LIMIT]) == (k_vw > cf[F_VAR_LIMIT])
                        and (vw > cf[F_VAR_LIMIT] * cf[F_SHRINK])
                        == (k_vw > cf[F_VAR_LIMIT] * cf[F_SHRINK])
                        and trend_now == k_trend
                    )
                    if quiet:
                        # the S/R levels near the grid: as many, each within the tolerance
                        a = 0
                        for x in range(nsr):
                            if srp[x] >= k_lo and srp[x] <= k_hi:
                                if a >= k_nsr or abs(srp[x] / k_sr[a] - 1.0) > rq_tol * k_spacing:
                                    quiet = False
                                    break
                                a += 1
                        if a != k_nsr:
                            quiet = False
                if quiet:
                    # the kept decision stands: its orders rest untouched, the pauses count
                    k_skips += 1
                    st[P_PAUSE_B] = max(st[P_PAUSE_B] - 1, 0)
                    st[P_PAUSE_S] = max(st[P_PAUSE_S] - 1, 0)
                else:
                    nd, resumed = decide(
                        cf,
                        ci,
                        close,
                        frate,
                        vol,
                        long_run,
                        var_h,
                        avg_volume,
                        srp,
                        nsr,
                        pos,
                        equity,
                        hwm,
                        st,
                        lo_since,
                        hi_since,
                        tmean,
                        ef,
                        fac,
                        row,
                        ladder,
                        od,
                        go,
                    )
                    if resumed:
                        hwm = equity  # a halt's cooldown ran out: the drawdown restarts here
                    # orders::diff: keep a live order a desired one matches exactly
                    nw = min(nd, max_active)
                    for slot in range(nlive):
                        kept[slot] = 0
                    npl = 0
                    for di in range(nw):
                        q = di * OC
                        hit = -1
                        for slot in range(nlive):
                            b = slot * LC
                            if (
                                kept[slot] == 0
                                and live[b + C_ROLE] == od[q + C_ROLE]
                                and live[b + C_SIDE] == od[q + C_SIDE]
                                and live[b + C_LEVEL] == od[q + C_LEVEL]
                                and live[b + C_KIND] == od[q + C_KIND]
                                and (1 if live[b + C_KIND] == MARKET else live[b + C_PRICE])
                                == od[q + C_PRICE]
                                and live[b + C_LOTS] == od[q + C_LOTS]
                            ):
                                hit = slot
                                break
                        if hit >= 0:
                            kept[hit] = 1
                        else:
                            places[npl] = di
                            npl += 1
                    # cancels, then places
                    k = 0
                    for slot in range(nlive):
                        b = slot * LC
                        if kept[slot]:
                            if k != slot:
                                for x in range(LC):
                                    live[k * LC + x] = live[b + x]
                            k += 1
                        else:
                            n_cancelled += 1
                            if record:
                                ne = emit(
                                    ev,
                                    ne,
                                    j,
                                    CANCEL,
                                    live[b + C_ROLE],
                                    live[b + C_SIDE],
                                    live[b + C_LEVEL],
                                    live[b + C_SEQ],
                                    live[b + C_PRICE],
                                    live[b + C_LOTS],
                                )
                    nlive = k
                    for a in range(npl):
                        q = places[a] * OC
                        role = od[q + C_ROLE]
                        side = od[q + C_SIDE]
                        level = od[q + C_LEVEL]
                        key = (role * 2 + side) * width + level + levels
                        seqs[key] += 1
                        b = nlive * LC
                        for x in range(OC):
                            live[b + x] = od[q + x]
                        live[b + C_PLACED] = j
                        live[b + C_SEQ] = seqs[key]
                        nlive += 1
                        n_placed += 1
                        if record:
                            ne = emit(
                                ev,
                                ne,
                                j,
                                PLACE,
                                role,
                                side,
                                level,
                                seqs[key],
                                od[q + C_PRICE],
                                od[q + C_LOTS],
                            )
                    # Gate::remember: a plain decision (not halted, no market order, no halt
                    # lifted) is kept with its inputs, its order bounds and the S/R near it
                    if rq_tol > 0.0:
                        k_ok = st[P_HALTED] == 0 and not resumed
                        k_fall = -I64MAX - 1
                        k_rise = I64MAX
                        lo_t = I64MAX
                        hi_t = -I64MAX - 1
                        gmax = 0
                        for x in range(nd):
                            q = x * OC
                            kind = od[q + C_KIND]
                            if kind == MARKET:
                                k_ok = False
                            elif (kind == LIMIT) == (od[q + C_SIDE] == BUY):
                                k_fall = max(k_fall, od[q + C_PRICE])
                            else:
                                k_rise = min(k_rise, od[q + C_PRICE])
                            if od[q + C_ROLE] == GRID:
                                lo_t = min(lo_t, od[q + C_PRICE])
                                hi_t = max(hi_t, od[q + C_PRICE])
                                gmax = max(gmax, od[q + C_LOTS])
                        if k_ok:
                            k_skips = 0
                            k_price = close
                            k_frate = frate
                            k_vol = vol
                            k_lrv = long_run
                            k_varh = var_h
                            k_avgv = avg_volume
                            k_eq = equity
                            k_pos = pos
                            k_trend = trend_now
                            k_spacing = ef[E_LAST_SPACING]
                            k_vw = ef[E_VAR_WORST]
                            k_gmax = gmax
                            if lo_t <= hi_t:
                                reach = 2.0 * cf[F_SR_TOL]
                                k_lo = float(lo_t * ci[I_TICK_MANT]) / cf[F_TICK_DIV]
                                k_lo *= 1.0 - reach
                                k_hi = float(hi_t * ci[I_TICK_MANT]) / cf[F_TICK_DIV]
                                k_hi *= 1.0 + reach
                            else:
                                k_lo = math.inf
                                k_hi = -math.inf
                            k_nsr = 0
                            for x in range(nsr):
                                if srp[x] >= k_lo and srp[x] <= k_hi:
                                    k_sr[k_nsr] = srp[x]
                                    k_nsr += 1
            # mark to market at the close
            equity = cash + spot * close + base_pnl + (close - entry_c) * pos_c
            short = -float(pos) * lot
            hedge_ratio = short / spot if spot > 0.0 else 0.0
            hedge_sum += hedge_ratio
            forecast = var_fraction * prev_net
            if j == start:
                initial = equity
            else:
                change = equity - prev_eq
                # as the engine: equity changes (returns on PnL relative to the initial
                # capital up to its scale)
                r = change
                r_n += 1.0
                d = r - r_mean
                r_mean += d / r_n
                r_m2 += d * (r - r_mean)
                if r < 0.0:
                    down_sum += r * r
                down_n += 1
                ch_n += 1.0
                d = change - ch_mean
                ch_mean += d / ch_n
                ch_m2 += d * (change - ch_mean)
                dx = spot * (close - c[j - 1])
                sp_n += 1.0
                d = dx - sp_mean
                sp_mean += d / sp_n
                sp_m2 += d * (dx - sp_mean)
                # every bar counts: a loss above a zero forecast is an exception (beyond the
                # f64 marking's rounding, as the engine's var_noise)
                var_obs += 1
                noise = 1e-9 * max(abs(spot * close), abs(equity), 1.0)
                if -change - noise > forecast:
                    var_exc += 1
            peak = max(peak, equity)
            if peak > 0.0:
                max_dd = max(max_dd, 1.0 - equity / peak)
            prev_eq = equity
            prev_net = abs(spot - short) * close
        bars = n_bars - start
        per_year = 365.0 * 86_400_000.0 / bar_ms
        sd = math.sqrt(r_m2 / (r_n - 1.0)) if r_n > 1.0 else 0.0
        sharpe = r_mean / sd * math.sqrt(per_year) if sd > 0.0 else 0.0
        spot_var = sp_m2 / (sp_n - 1.0) if sp_n > 1.0 else 0.0
        ch_var = ch_m2 / (ch_n - 1.0) if ch_n > 1.0 else 0.0
        hedge_eff = 1.0 - ch_var / spot_var if spot_var > 0.0 else 0.0
        return (
            ne,
            n_fills,
            n_placed,
            n_cancelled,
            pos,
            decisions,
            st[P_HALTED] == 1,
            var_obs,
            var_exc,
            initial,
            prev_eq,
            max_dd,
            sharpe,
            hedge_eff,
            hedge_sum / bars,
            fees,
            funding,
            realized,
            notional,
            down_sum,
            down_n,
        )

    return run


# --- pure Python: lists, bisect, a list of event tuples ---------------------------------------


def _py_zi(n: int) -> list[int]:
    return [0] * n


def _py_zf(n: int) -> list[float]:
    return [0.0] * n


def _py_sbuf(n: int) -> list[float]:
    return []


def _py_ins(a: list[float], n: int, x: float) -> int:
    # the buffer is a[:n] (an engine reset only sets n = 0, as for the numba arrays)
    at = bisect.bisect_left(a, x, 0, n)
    a.insert(at, x)
    return at


def _py_rem(a: list[float], n: int, x: float) -> int:
    at = bisect.bisect_left(a, x, 0, n)
    del a[at]
    return at


def _py_emit(ev: list[tuple[int, ...]], ne: int, *row: int) -> int:
    ev.append(row)
    return ne + 1


_py_run = _make(lambda f: f, _py_zi, _py_zf, _py_sbuf, _py_ins, _py_rem, _py_emit)

METRIC_NAMES = (
    "events",
    "fills",
    "orders_placed",
    "orders_cancelled",
    "position_lots",
    "decisions",
    "halted",
    "var_observations",
    "var_exceptions",
    "initial_equity",
    "final_equity",
    "max_drawdown",
    "sharpe",
    "hedge_effectiveness",
    "mean_hedge_ratio",
    "fees",
    "funding_pnl",
    "realized_pnl",
    "traded_notional",
    "downside_sum",
    "downside_n",
)


def py_twin(
    data: tuple[Any, ...], cf: Any, ci: Any, record: bool = True
) -> tuple[dict[str, Any], list[tuple[int, ...]]]:
    """The pure-Python run over `data` (the core's eight arrays, see `engine.arrays`), with the
    settings of `twin_settings`; returns (metrics, events)."""
    lists = [np.asarray(x).tolist() for x in data]
    ev: list[tuple[int, ...]] = []
    out = _py_run(*lists, list(np.asarray(cf).tolist()), list(np.asarray(ci).tolist()), ev, record)
    return dict(zip(METRIC_NAMES, out, strict=True)), ev


_NUMBA: list[Any] = []
COMPILE_SECONDS: list[float] = []  # the first numba call (compilation included)


def numba_twin() -> Any:
    """The numba run: a function (data, cf, ci, record=True) -> (metrics, events as an
    (n, 8) int64 array), compiled on its first call (once per process)."""
    if _NUMBA:
        return _NUMBA[0]
    from numba import njit

    jit = njit(cache=False)

    @njit(cache=True)
    def zi(n):  # type: ignore[no-untyped-def]
        return np.zeros(n, np.int64)

    @njit(cache=True)
    def zf(n):  # type: ignore[no-untyped-def]
        return np.zeros(n, np.float64)

    # sorted buffers: a binary search, then the shift; unsigned indexes spare numba's
    # negative-index wraparound, so the shift loops compile to plain moves
    @njit(cache=True)
    def bsearch(a, n, x):  # type: ignore[no-untyped-def]
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if a[np.uint64(mid)] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo

    @njit(cache=True)
    def ins(a, n, x):  # type: ignore[no-untyped-def]
        at = bsearch(a, n, x)
        for k in range(n - at):
            m = np.uint64(n - k)
            a[m] = a[m - np.uint64(1)]
        a[at] = x
        return at

    @njit(cache=True)
    def rem(a, n, x):  # type: ignore[no-untyped-def]
        at = bsearch(a, n, x)
        for k in range(at, n - 1):
            a[np.uint64(k)] = a[np.uint64(k + 1)]
        return at

    @njit(cache=True)
    def emit(ev, ne, bar, kind, role, side, level, seq, price, lots):  # type: ignore[no-untyped-def]
        if ne < ev.shape[0]:
            ev[ne, 0] = bar
            ev[ne, 1] = kind
            ev[ne, 2] = role
            ev[ne, 3] = side
            ev[ne, 4] = level
            ev[ne, 5] = seq
            ev[ne, 6] = price
            ev[ne, 7] = lots
        return ne + 1

    kernel = _make(jit, zi, zf, zf, ins, rem, emit)

    def run(
        data: tuple[Any, ...], cf: Any, ci: Any, record: bool = True
    ) -> tuple[dict[str, Any], Any]:
        cap = 2 * len(data[0]) + 1024 if record else 0
        while True:
            ev = np.zeros((cap, EV_COLS), np.int64)
            t0 = time.perf_counter()
            out = kernel(*data, cf, ci, ev, record)
            if not COMPILE_SECONDS:
                COMPILE_SECONDS.append(time.perf_counter() - t0)
            if out[0] <= cap:
                return dict(zip(METRIC_NAMES, out, strict=True)), ev[: out[0]]
            cap = out[0]

    _NUMBA.append(run)
    return run


# --- settings, the engine's events, validation -------------------------------------------------


def _decimal_parts(d: Decimal) -> tuple[int, float]:
    """(mantissa, 10**scale) of the normalised decimal, as the core's `ticks_to_f64`."""
    sign, digits, exp = d.normalize().as_tuple()
    assert isinstance(exp, int)
    mant = int("".join(map(str, digits))) * (-1 if sign else 1)
    if exp >= 0:
        return mant * 10**exp, 1.0
    return mant, float(10**-exp)


def twin_settings(config: Any, spec: Any, market: Any) -> tuple[Any, Any]:
    """The float and integer settings (cf, ci) of a bot configuration, read from the same
    ``GridHedgeConfig`` that ``spec_for`` turns into ``spec`` (the policy config's floats are
    ``float(Decimal)``), and the market's tick and lot."""
    from gridhedge.grid.config import GridHedgeConfig
    from gridhedge.grid.policy import decision_period, decisions_in

    cfg = GridHedgeConfig.load(config)
    g, r, e, h, f = cfg.grid, cfg.risk, cfg.execution, cfg.hedge, cfg.funding
    tick_d, lot_d = Decimal(str(market.tick_size)), Decimal(str(market.lot_size))
    tick_mant, tick_div = _decimal_parts(tick_d)
    lot_mant, lot_div = _decimal_parts(lot_d)
    min_qty_lots = -((-Decimal(str(market.min_qty))) // lot_d)
    min_notional_units = -((-Decimal(str(market.min_notional))) // (tick_d * lot_d))
    cf = np.zeros(N_F)
    cf[F_SPACING] = float(g.grid_spacing_pct)
    cf[F_MIN_DIST] = float(g.min_price_distance)
    cf[F_VOL_MULT] = float(g.volatility_multiplier)
    cf[F_RECENTER] = float(g.recenter_threshold_pct)
    cf[F_SR_TOL] = float(g.sr_tolerance_pct)
    cf[F_MAX_POS] = float(r.max_position_size)
    cf[F_MAX_DD] = float(r.max_drawdown)
    cf[F_STOP_PCT] = float(r.stop_loss_pct)
    cf[F_VAR_LIMIT] = float(r.var_limit)
    cf[F_VAR_CONF] = float(r.var_confidence)
    cf[F_SHRINK] = float(r.var_shrink_ratio)
    cf[F_SCALE_MIN] = float(r.stop_scale_min)
    cf[F_SCALE_MAX] = float(r.stop_scale_max)
    cf[F_VOL_SHARE] = float(r.max_volume_share)
    cf[F_H] = float(h.hedge_ratio)
    cf[F_H_MIN] = float(h.hedge_ratio_min)
    cf[F_H_MAX] = float(h.hedge_ratio_max)
    cf[F_FUND_SENS] = float(f.funding_sensitivity)
    cf[F_TICK] = float(tick_d)
    cf[F_LOT] = float(lot_d)
    cf[F_TICK_DIV] = tick_div
    cf[F_LOT_DIV] = lot_div
    cf[F_SPOT] = 1.0  # spec_for's default spot_amount "1"
    cf[F_CASH] = 0.0  # and cash "0"
    cf[F_PARTICIPATION] = float(e.participation)
    cf[F_MAKER] = float(e.maker_fee)
    cf[F_TAKER] = float(e.taker_fee)
    cf[F_HALT_H] = float(r.halt_hedge_ratio)
    cf[F_REVIEW_H] = -1.0  # no risk review in a backtest (a review is a live bot's)
    cf[F_SIZE_VOL] = float(r.sizing_vol_target_pct)
    cf[F_SIZE_VAR] = float(r.sizing_var_share)
    cf[F_TREND_PCT] = float(g.trend_guard_pct)
    cf[F_STOP_TOL] = float(r.stop_refresh_tolerance)
    cf[F_GRID_TOL] = float(g.grid_refresh_tolerance)
    cf[F_REQUOTE_TOL] = float(e.requote_tolerance)
    ci = np.zeros(N_I, np.int64)
    ci[I_LEVELS] = g.num_levels
    ci[I_MODE] = 0 if g.grid_mode == "geometric" else 1
    ci[I_DYNAMIC] = int(g.dynamic_spacing)
    ci[I_ESTIMATOR] = ESTIMATORS[g.volatility_estimator]
    ci[I_HORIZON] = g.spacing_horizon_bars
    ci[I_SR] = int(g.support_resistance)
    ci[I_VAR_HORIZON] = r.var_horizon_bars
    ci[I_POLICY_MAX_ACTIVE] = e.max_active_orders
    ci[I_TILT] = int(f.funding_tilt)
    ci[I_TICK_MANT] = tick_mant
    ci[I_LOT_MANT] = lot_mant
    ci[I_MIN_QTY] = int(min_qty_lots)
    ci[I_MIN_NOTIONAL] = int(min_notional_units)
    ci[I_HISTORY] = cfg.data.history_bars
    ci[I_CADENCE] = spec.cadence
    ci[I_START] = spec.start
    ci[I_MAX_ACTIVE] = e.max_active_orders
    ci[I_HALT_COOL] = decisions_in(r.halt_cooldown, decision_period(cfg))
    ci[I_STOP_COOL] = decisions_in(r.stop_cooldown, decision_period(cfg))
    ci[I_VAR_METHOD] = 1 if r.var_method == "fhs" else 0
    ci[I_VAR_WINDOW] = r.var_window_bars
    ci[I_TREND_BARS] = g.trend_guard_bars
    ci[I_REQUOTE_MAX] = e.requote_max_skips
    return cf, ci


def engine_events(e: Any, market: Any) -> list[tuple[int, ...]]:
    """The engine's event log (`BacktestResult.events`, the frame a user reads) as the twin's
    rows (bar, kind, role, side, level, sequence, price ticks, lots), the key read back from
    the client order id."""
    tick, lot = Decimal(str(market.tick_size)), Decimal(str(market.lot_size))
    kinds = {"place": PLACE, "cancel": CANCEL, "fill": FILL}
    roles = {"g": GRID, "r": REBALANCE, "x": STOP}
    out: list[tuple[int, ...]] = []
    for bar, kind, cid, side, price, amount in zip(
        e["bar"], e["event"], e["client_order_id"], e["side"], e["price"], e["amount"], strict=True
    ):
        code, seq = cid[10:].rsplit("-", 1)
        sd = BUY if side == "buy" else SELL
        rung = int(code[2:])
        out.append(
            (
                int(bar),
                kinds[kind],
                roles[code[0]],
                sd,
                -rung if sd == BUY else rung,
                int(seq),
                int(Decimal(price) / tick),
                int(Decimal(amount) / lot),
            )
        )
    return out


def _first_difference(a: list[tuple[int, ...]], b: list[tuple[int, ...]]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if tuple(x) != tuple(y):
            return f"event {i}: engine {tuple(y)} vs twin {tuple(x)}"
    return f"lengths: twin {len(a)}, engine {len(b)}"


def validate(
    bars: int = 20_000,
    seeds: tuple[int, ...] = (1, 2, 3),
    py_bars: int = 3_000,
    config: Any = None,
    verbose: bool = True,
) -> bool:
    """Check the numba twin's event log (bar, kind, key, sequence, side, price ticks, lots)
    and counts (fills, orders placed / cancelled, final position, decisions, halted) equal to
    the engine's over `bars` one-minute bars of each seed, and the pure-Python twin equal to
    the numba one (events and metrics) on the first `py_bars` bars of the first seed.
    Prints what differs; returns whether everything matched."""
    from gridhedge import _core
    from gridhedge.backtest.engine import arrays, result_of, spec_for
    from gridhedge.data.synthetic import synthetic_candles
    from gridhedge.execution.paper import default_market

    config = FULL if config is None else config
    market = default_market("BTCUSDT")
    nb = numba_twin()
    ok = True
    for seed in seeds:
        c = synthetic_candles(seed=seed, bars=bars, timeframe="1m", start_price=40_000.0)
        spec = spec_for(config, c)
        data = arrays(c)
        raw = _core.backtest(spec, market, *data, record_events=True, record_series=True)
        want = engine_events(result_of(raw, c, spec, market).events, market)
        cf, ci = twin_settings(config, spec, market)
        met, ev = nb(data, cf, ci)
        got = [tuple(int(x) for x in r) for r in ev]
        m = raw["metrics"]
        # the final position (the engine's metrics carry none): its series, and its fills
        pos = round(raw["series"]["position"][-1] / float(market.lot_size))
        from_fills = sum(r[7] if r[3] == BUY else -r[7] for r in want if r[1] == FILL)
        if from_fills != pos:
            print(f"  the engine's fills add up to {from_fills} lots, its series says {pos}")
            ok = False
        counts_eng = (
            m["fills"],
            m["orders_placed"],
            m["orders_cancelled"],
            pos,
            m["decisions"],
            m["halted"],
        )
        counts_twin = (
            met["fills"],
            met["orders_placed"],
            met["orders_cancelled"],
            met["position_lots"],
            met["decisions"],
            bool(met["halted"]),
        )
        same = got == want and counts_eng == counts_twin
        ok = ok and same
        if verbose:
            print(
                f"seed {seed}, {bars} bars: {len(want)} engine events, {len(got)} twin events: "
                + (
                    "identical"
                    if got == want
                    else "DIFFER, first at " + _first_difference(got, want)
                )
                + f"; (fills, placed, cancelled, position lots, decisions, halted) engine "
                f"{counts_eng} twin {counts_twin}"
                + (" equal" if counts_eng == counts_twin else " DIFFER")
            )
            print(
                f"  final equity engine {m['final_equity']:.6f} twin {met['final_equity']:.6f}; "
                f"fees {m['fees']:.6f} / {met['fees']:.6f}; funding {m['funding_pnl']:.6f} / "
                f"{met['funding_pnl']:.6f}; var exceptions {m['var_exceptions']}/"
                f"{m['var_observations']} vs {met['var_exceptions']}/{met['var_observations']}"
                f" (floats where the engine is exact decimal)"
            )
    # pure Python == numba on a slice
    c = synthetic_candles(seed=seeds[0], bars=py_bars, timeframe="1m", start_price=40_000.0)
    spec = spec_for(config, c)
    data = arrays(c)
    cf, ci = twin_settings(config, spec, market)
    met_nb, ev_nb = nb(data, cf, ci)
    met_py, ev_py = py_twin(data, cf, ci)
    rows_nb = [tuple(int(x) for x in r) for r in ev_nb]
    same = rows_nb == [tuple(r) for r in ev_py] and met_nb == met_py
    ok = ok and same
    if verbose:
        print(
            f"pure Python vs numba, seed {seeds[0]}, {py_bars} bars: {len(ev_py)} events, "
            + ("events and metrics identical" if same else "DIFFER")
        )
        if not same:
            print("  " + _first_difference([tuple(r) for r in ev_py], rows_nb))
            for k in METRIC_NAMES:
                if met_nb[k] != met_py[k]:
                    print(f"  {k}: numba {met_nb[k]} python {met_py[k]}")
    return ok


FULL: dict[str, Any] = {
    "data": {"timeframe": "1m", "history_bars": 500},
    "execution": {"rebalance_interval": "60"},
    "logging": {"level": "ERROR"},
}
"""The full-policy bench configuration (bench_backtest imports it from here): one-minute bars,
a decision every bar, 500 bars of history, the defaults for everything else."""


REQUOTE_TOLERANCE = "0.2"
GATED: dict[str, Any] = {
    **FULL,
    "execution": {**FULL["execution"], "requote_tolerance": REQUOTE_TOLERANCE},
}
"""FULL with the requote gate on (policy/requote.rs): a decision every bar that keeps the last
full one while its inputs stay within the tolerance (issue 18, item 3)."""


VARIANTS: dict[str, dict[str, Any]] = {
    # overrides of FULL reaching the branches FULL's runs do not (checked by --variants)
    "halt": {"risk": {"max_drawdown": "0.003"}},
    "halt_cooldown_safe_hedge": {
        "risk": {"max_drawdown": "0.003", "halt_cooldown": "1200", "halt_hedge_ratio": "0.9"}
    },
    "tight_stop_cooldown": {"risk": {"stop_loss_pct": "0.002", "stop_cooldown": "600"}},
    "joint_cap_binds": {"risk": {"max_position_size": "0.9", "max_volume_share": "0.01"}},
    "var_shrink": {"risk": {"var_limit": "40"}},
    # the horizon VaR's sum window slides (300 sums) / the square-root rule (var_method sqrt)
    "var_shrink_fhs_window300": {"risk": {"var_limit": "40", "var_window_bars": 300}},
    "var_shrink_sqrt": {"risk": {"var_limit": "40", "var_method": "sqrt"}},
    "parkinson_arithmetic_min_distance": {
        "grid": {
            "volatility_estimator": "parkinson",
            "grid_mode": "arithmetic",
            "min_price_distance": "30",
            "num_levels": 8,
        }
    },
    "garman_klass_cadence5_history50_max6": {
        "grid": {"volatility_estimator": "garman_klass"},
        "execution": {"rebalance_interval": "300", "max_active_orders": 6},
        "data": {"timeframe": "1m", "history_bars": 50},
    },
    "close_to_close_no_sr_no_tilt_restarts": {
        # a decision every 700 bars over 600-bar windows: the engine restarts each time
        "grid": {"volatility_estimator": "close_to_close", "support_resistance": False},
        "funding": {"funding_tilt": False},
        "execution": {"rebalance_interval": "42000"},
        "data": {"timeframe": "1m", "history_bars": 600},
    },
    "trend_guard": {"grid": {"trend_guard_bars": 120, "trend_guard_pct": "0.003"}},
    "tight_stops_20_levels": {
        "risk": {"stop_loss_pct": "0.002"},
        "grid": {"num_levels": 20, "grid_spacing_pct": "0.0005", "dynamic_spacing": False},
    },
    "grid_and_stop_kept_still": {
        "risk": {"stop_refresh_tolerance": "0.2"},
        # a spacing floor the volatility passes, so the dynamic spacing moves and is kept
        "grid": {"grid_refresh_tolerance": "0.3", "grid_spacing_pct": "0.0005"},
    },
    # the requote gate (policy/requote.rs): plain; with stops firing and their pauses counted
    # down by quiet decisions; beside the VaR shrink; beside the trend guard
    "requote": {"execution": {"requote_tolerance": "0.2"}},
    "requote_tight_stop_cooldown_max5": {
        "execution": {"requote_tolerance": "0.1", "requote_max_skips": 5},
        "risk": {"stop_loss_pct": "0.002", "stop_cooldown": "600"},
    },
    "requote_var_shrink": {"execution": {"requote_tolerance": "0.3"}, "risk": {"var_limit": "40"}},
    "requote_trend_guard": {
        "execution": {"requote_tolerance": "0.5"},
        "grid": {"trend_guard_bars": 120, "trend_guard_pct": "0.003"},
    },
}


def variant(name: str) -> dict[str, Any]:
    """FULL with the overrides of VARIANTS[name] (section by section)."""
    cfg = dict(FULL)
    for section, values in VARIANTS[name].items():
        cfg[section] = {**cfg.get(section, {}), **values}
    return cfg


def validate_variants(bars: int = 30_000, seeds: tuple[int, ...] = (1, 2)) -> bool:
    ok = True
    for name in VARIANTS:
        print(f"-- variant {name}")
        ok = validate(bars=bars, seeds=seeds, py_bars=3_000, config=variant(name)) and ok
    return ok


def best_of(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main_twin(
    quick: bool = False, config: Any = None, name: str = "full policy"
) -> tuple[float, float]:
    """Validate (the engine's 1-minute bars of seeds 1, 2, 3: 20,000 bars in quick mode, the
    full year otherwise), then time the engine, the numba twin and the pure-Python twin, on
    `config` (default FULL). Returns the engine's and the numba twin's ns/bar."""
    config = FULL if config is None else config
    from gridhedge import _core
    from gridhedge.backtest.engine import arrays, spec_for
    from gridhedge.data.synthetic import synthetic_candles
    from gridhedge.execution.paper import default_market

    bars = 50_000 if quick else 525_600
    t0 = time.perf_counter()
    if not validate(
        bars=20_000 if quick else bars,
        py_bars=2_000 if quick else 20_000,
        seeds=(1, 2, 3),
        config=config,
    ):
        raise SystemExit("the twin does not reproduce the engine: no timings")
    print(
        f"validated in {time.perf_counter() - t0:.1f} s (numba's first call, compilation "
        f"included: {COMPILE_SECONDS[0]:.1f} s)"
    )
    market = default_market("BTCUSDT")
    c = synthetic_candles(seed=1, bars=bars, timeframe="1m", start_price=40_000.0)
    spec = spec_for(config, c)
    data = arrays(c)
    cf, ci = twin_settings(config, spec, market)
    load = os.getloadavg()[0]
    nb = numba_twin()
    nb(data, cf, ci, False)  # compiled already by the validation; warm
    # alternate the two (best of 3 each) so that both see the same machine load
    t_eng = t_nb = math.inf
    for _ in range(3):
        t_eng = min(
            t_eng,
            best_of(
                lambda: _core.backtest(
                    spec, market, *data, record_events=False, record_series=False
                ),
                1,
            ),
        )
        t_nb = min(t_nb, best_of(lambda: nb(data, cf, ci, False), 1))
    # pure Python on the first bars of the same series (its own history start), per bar
    py_n = 3_000 if quick else 10_000
    pc = c.slice(0, py_n)
    pspec = spec_for(config, pc)
    pcf, pci = twin_settings(config, pspec, market)
    t0 = time.perf_counter()
    py_twin(arrays(pc), pcf, pci, False)
    py_bars = py_n - pspec.start
    run_bars = bars - spec.start
    t_py = (time.perf_counter() - t0) / py_bars * run_bars
    print(f"{name}, {bars} one-minute bars ({run_bars} after the {spec.start}-bar history):")
    print(
        f"  engine (_core.backtest, metrics only, best of 3): {t_eng / run_bars * 1e9:.0f} ns/bar"
    )
    print(f"  numba twin (metrics only, best of 3, compiled): {t_nb / run_bars * 1e9:.0f} ns/bar")
    print(
        f"  pure-Python twin (timed on {py_bars} bars, scaled): {t_py / run_bars * 1e9:.0f} ns/bar"
    )
    print(
        f"  pure Python / engine = {t_py / t_eng:.0f}x (floor >= 50x); numba / engine = "
        f"{t_nb / t_eng:.2f}x (floor > 1x: the engine faster than the numba twin)"
    )
    eng_ns = t_eng / run_bars * 1e9
    print(
        f"  issue 18 item 3 floor: {name} <= 300 ns/bar at 5 levels a side: "
        f"{eng_ns:.0f} ns/bar, {'met' if eng_ns <= 300 else 'NOT met'} "
        f"(in the twin's units: <= {t_nb / run_bars * 1e9 / 300:.1f}x faster than numba needed, "
        f"{t_nb / t_eng:.2f}x now)"
    )
    print(f"  (load average {load:.1f} on {os.cpu_count()} CPUs before the timings)")
    return eng_ns, t_nb / run_bars * 1e9


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="50,000 bars (< 60 s)")
    ap.add_argument(
        "--variants", action="store_true", help="validate the VARIANTS configurations only"
    )
    args = ap.parse_args()
    if args.variants:
        if not validate_variants():
            raise SystemExit("the twin does not reproduce the engine on a variant")
    else:
        main_twin(args.quick)
        main_twin(args.quick, GATED, f"full policy, requote gate {REQUOTE_TOLERANCE}")
