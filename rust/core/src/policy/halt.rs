//! Portfolio layer: the drawdown halt, which de-risks instead of freezing.
//!
//! At `drawdown >= max_drawdown` the policy halts: the grid is cancelled, the hedge is moved
//! to the safe hedge (`halt_hedge_ratio x spot`, clamped to the band and the position cap) by
//! market orders capped at `max_volume_share x` recent volume (spread over decisions), and the
//! protective stop stays on whatever net exposure remains. The move never raises the net
//! exposure ([`target`]). The halt sticks across decisions
//! (and restarts: it lives in [`PolicyState`]) until the trader resumes it (the drivers clear
//! `halted`) or, when `halt_cooldown > 0`, that many decisions have passed; a resume restarts
//! the drawdown from the equity at that decision ([`super::Decision::resumed`]).

use super::{reason, PolicyConfig, PolicyState, Reason};

/// The halt's state after this decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Halt {
    pub halted: bool,
    /// The cooldown ran out at this decision: trading resumes, the drawdown restarts.
    pub resumed: bool,
    /// Decisions spent halted (0 on the decision that halts).
    pub age: u32,
}

/// The halt holds through the next decision taken in `state`: halted, and no cooldown runs
/// out at it (that decision builds no grid, whatever the drawdown).
pub(super) fn holds(cfg: &PolicyConfig, state: &PolicyState) -> bool {
    let age = state.halt_age.saturating_add(1);
    state.halted && !(cfg.halt_cooldown > 0 && age >= cfg.halt_cooldown)
}

/// Advance the halt by one decision. `drawdown` is set to 0 on a resume (the high-water mark
/// restarts at the current equity).
pub(super) fn step(
    cfg: &PolicyConfig,
    state: &PolicyState,
    drawdown: &mut f64,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> Halt {
    if state.halted {
        if !holds(cfg, state) {
            reason(reasons, explain, "resume", || {
                format!(
                    "halt_cooldown of {} decisions passed: trading resumes, the drawdown restarts from the current equity",
                    cfg.halt_cooldown
                )
            });
            *drawdown = 0.0;
            return Halt {
                halted: false,
                resumed: true,
                age: 0,
            };
        }
        reason(reasons, explain, "halted", || {
            "halted by the drawdown limit: hedge held at the safe hedge, grid off; `gridhedge resume` lifts it"
                .to_string()
        });
        return Halt {
            halted: true,
            resumed: false,
            age: state.halt_age.saturating_add(1),
        };
    }
    if *drawdown >= cfg.max_drawdown {
        let dd = *drawdown;
        reason(reasons, explain, "halt", || {
            format!(
                "drawdown {:.2}% reached max_drawdown {:.2}%: halt, cancel the grid, move the hedge to the safe hedge ratio {:.3}",
                100.0 * dd,
                100.0 * cfg.max_drawdown,
                cfg.halt_hedge_ratio
            )
        });
        return Halt {
            halted: true,
            resumed: false,
            age: 0,
        };
    }
    Halt {
        halted: false,
        resumed: false,
        age: 0,
    }
}

/// Where a halt moves the hedge (lots): toward the safe hedge `halt_hedge_ratio x spot`
/// (snapped down, clamped to `[s_lo, s_hi]`, the band after the position cap and the VaR
/// shrink), but never past the point of that way nearest a full hedge (`full` lots): a halt
/// never raises the net exposure (a hedge above a lowered cap is not bought back into an
/// unhedged book; an over-hedge stops at the full hedge).
pub(super) fn target(
    cfg: &PolicyConfig,
    spot_lots_of: impl Fn(f64) -> i64,
    full: i64,
    s_cur: i64,
    s_lo: i64,
    s_hi: i64,
) -> i64 {
    let safe = spot_lots_of(cfg.halt_hedge_ratio).clamp(s_lo, s_hi);
    full.clamp(s_cur.min(safe), s_cur.max(safe))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::tests::config;
    use super::{holds, step, PolicyConfig, PolicyState};

    proptest! {
        /// `holds` predicts exactly what the next `step` decides: halted, and not resumed.
        #[test]
        fn holds_is_the_next_steps_verdict(
            halted in any::<bool>(),
            age in prop_oneof![0u32..5, Just(u32::MAX - 1), Just(u32::MAX), any::<u32>()],
            cooldown in prop_oneof![Just(0u32), 1u32..6, any::<u32>()],
            drawdown in 0.0f64..0.5,
        ) {
            let cfg = PolicyConfig { halt_cooldown: cooldown, ..config() };
            let state = PolicyState { halted, halt_age: age, ..PolicyState::default() };
            let mut dd = drawdown;
            let next = step(&cfg, &state, &mut dd, &mut Vec::new(), false);
            if halted {
                prop_assert_eq!(holds(&cfg, &state), next.halted);
                prop_assert_eq!(next.resumed, !next.halted);
            } else {
                // a new halt comes from the drawdown, which `holds` does not read
                prop_assert!(!holds(&cfg, &state));
            }
        }
    }
}
