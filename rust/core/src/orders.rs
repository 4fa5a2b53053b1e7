//! Order identity and the order diff, shared by the live order manager and the backtester.
//!
//! Client order ids are deterministic: `gh` + 8 base-36 characters of a FNV-1a hash of the bot
//! id and symbol + the order's key (role, side, rung) + `-` + the rung's sequence number, which
//! the caller increments each time that rung is re-placed after a fill or cancel. At most 36
//! characters of `[A-Za-z0-9_-]` (the exchange's limit), so the same intent always yields the
//! same id and a resend after a timeout is refused by the exchange as a duplicate.

use crate::error::{Error, Result};
use crate::fills::OrderKind;
use crate::money::Side;
use crate::policy::{DesiredOrder, Role};

/// What identifies an order across decisions: its role, side and rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderKey {
    pub role: Role,
    pub side: Side,
    pub level: i32,
}

impl OrderKey {
    /// The key's short code: `g` (grid) / `r` (rebalance) / `x` (stop), `s`/`b`, the rung.
    pub fn code(&self) -> String {
        let role = match self.role {
            Role::Grid => 'g',
            Role::Rebalance => 'r',
            Role::Stop => 'x',
        };
        let side = match self.side {
            Side::Sell => 's',
            Side::Buy => 'b',
        };
        format!("{role}{side}{}", self.level.unsigned_abs())
    }
}

impl From<&DesiredOrder> for OrderKey {
    fn from(o: &DesiredOrder) -> Self {
        OrderKey {
            role: o.role,
            side: o.side,
            level: o.level,
        }
    }
}

/// FNV-1a, 64 bits: a stable hash (unlike `std`'s, which may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn base36(mut v: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v % 36) as usize];
        v /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The deterministic client order id of `key`'s `sequence`-th placement for a bot and symbol.
pub fn client_order_id(
    bot_id: &str,
    symbol: &str,
    key: &OrderKey,
    sequence: u64,
) -> Result<String> {
    if bot_id.is_empty() {
        return Err(Error::invalid("bot_id", "\"\"", "must not be empty"));
    }
    if symbol.is_empty() {
        return Err(Error::invalid("symbol", "\"\"", "must not be empty"));
    }
    let scope = base36(fnv1a(format!("{bot_id}\u{1f}{symbol}").as_bytes()), 8);
    let id = format!("gh{scope}{}-{sequence}", key.code());
    if id.len() > 36 {
        return Err(Error::invalid(
            "sequence",
            sequence,
            "makes the client order id longer than 36 characters",
        ));
    }
    Ok(id)
}

/// The key and sequence of a client order id of this bot and symbol; None for any other id
/// (another bot's, or an order placed by hand).
pub fn parse_client_order_id(bot_id: &str, symbol: &str, id: &str) -> Option<(OrderKey, u64)> {
    let scope = base36(fnv1a(format!("{bot_id}\u{1f}{symbol}").as_bytes()), 8);
    let rest = id.strip_prefix("gh")?.strip_prefix(scope.as_str())?;
    let (code, sequence) = rest.rsplit_once('-')?;
    let sequence: u64 = sequence.parse().ok()?;
    let mut chars = code.chars();
    let role = match chars.next()? {
        'g' => Role::Grid,
        'r' => Role::Rebalance,
        'x' => Role::Stop,
        _ => return None,
    };
    let side = match chars.next()? {
        's' => Side::Sell,
        'b' => Side::Buy,
        _ => return None,
    };
    let rung: i32 = chars.as_str().parse().ok()?;
    let level = if side == Side::Buy { -rung } else { rung };
    Some((OrderKey { role, side, level }, sequence))
}

/// An order resting on the exchange (or the simulated book), as the diff sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOrder {
    pub key: OrderKey,
    pub kind: OrderKind,
    pub price_ticks: i64,
    /// Amount not yet filled, in lots.
    pub remaining_lots: i64,
}

/// What an open order must share with a desired one to be kept: key (role, side, level),
/// kind, price and amount, as one totally ordered value.
type Match = (u8, u8, i32, u8, i64, i64);

fn match_of(key: &OrderKey, kind: OrderKind, price_ticks: i64, lots: i64) -> Match {
    (
        key.role as u8,
        key.side as u8,
        key.level,
        kind as u8,
        price_ticks,
        lots,
    )
}

/// The order manager's diff with its buffers kept between decisions, linear in the orders:
/// the open orders are chained by key in a table indexed by (role, side, level) (the levels
/// a run uses are a narrow range of rungs), so each desired order looks only at the open
/// orders of its key. Keys spread wider than the table allows (a hand-made input) fall back
/// to sorting the open orders. After the first decisions of a run it allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Differ {
    /// Per (role, side, level) slot: 1 + the lowest open index of that key (0: none). All
    /// zeros between two diffs.
    head: Vec<u32>,
    /// Per open order: 1 + the next open index of the same key (0: none).
    next: Vec<u32>,
    /// The fallback: open orders by (match, index).
    sorted: Vec<(Match, usize)>,
    kept: Vec<bool>,
    cancels: Vec<usize>,
    places: Vec<usize>,
}

/// The widest level range (per role and side) the key table covers beyond the orders' count.
const DENSE_SPAN: i64 = 4096;

impl Differ {
    /// [`diff`] into the buffers: (open indexes to cancel, desired indexes to place), both
    /// ascending. Each desired order keeps the lowest-index open order not kept yet that has
    /// its key, kind, price and remaining amount.
    pub fn diff(&mut self, open: &[OpenOrder], desired: &[DesiredOrder]) -> (&[usize], &[usize]) {
        self.kept.clear();
        self.kept.resize(open.len(), false);
        self.places.clear();
        let (lo, hi) = open.iter().fold((i64::MAX, i64::MIN), |(lo, hi), o| {
            let l = i64::from(o.key.level);
            (lo.min(l), hi.max(l))
        });
        // levels are i32: the span of a non-empty open book fits an i64
        let span = if open.is_empty() { 0 } else { hi - lo + 1 };
        if open.is_empty() {
            self.places.extend(0..desired.len());
        } else if span <= DENSE_SPAN + 4 * open.len() as i64 && open.len() < u32::MAX as usize {
            self.by_table(open, desired, lo, span as usize);
        } else {
            self.by_sorting(open, desired);
        }
        self.cancels.clear();
        self.cancels
            .extend((0..open.len()).filter(|&i| !self.kept[i]));
        (&self.cancels, &self.places)
    }

    fn by_table(&mut self, open: &[OpenOrder], desired: &[DesiredOrder], lo: i64, span: usize) {
        let slot = |k: &OrderKey| -> Option<usize> {
            let at = usize::try_from(i64::from(k.level) - lo).ok()?;
            (at < span).then(|| (k.role as usize * 2 + k.side as usize) * span + at)
        };
        if self.head.len() < 6 * span {
            self.head.resize(6 * span, 0);
        }
        self.next.clear();
        self.next.resize(open.len(), 0);
        // chain each key's open orders in ascending index order
        for (i, o) in open.iter().enumerate().rev() {
            if let Some(s) = slot(&o.key) {
                self.next[i] = self.head[s];
                self.head[s] = i as u32 + 1;
            }
        }
        for (d_index, d) in desired.iter().enumerate() {
            let mut link = slot(&OrderKey::from(d)).map_or(0, |s| self.head[s]);
            let mut found = false;
            while link != 0 {
                let i = link as usize - 1;
                let o = &open[i];
                if !self.kept[i]
                    && o.kind == d.kind
                    && o.price_ticks == d.price_ticks
                    && o.remaining_lots == d.amount_lots
                {
                    self.kept[i] = true;
                    found = true;
                    break;
                }
                link = self.next[i];
            }
            if !found {
                self.places.push(d_index);
            }
        }
        for o in open {
            if let Some(s) = slot(&o.key) {
                self.head[s] = 0;
            }
        }
    }

    fn by_sorting(&mut self, open: &[OpenOrder], desired: &[DesiredOrder]) {
        self.sorted.clear();
        self.sorted.extend(
            open.iter()
                .enumerate()
                .map(|(i, o)| (match_of(&o.key, o.kind, o.price_ticks, o.remaining_lots), i)),
        );
        self.sorted.sort_unstable();
        for (d_index, d) in desired.iter().enumerate() {
            let want = match_of(&OrderKey::from(d), d.kind, d.price_ticks, d.amount_lots);
            let mut at = self.sorted.partition_point(|(m, _)| *m < want);
            let mut found = false;
            while let Some(&(m, i)) = self.sorted.get(at) {
                if m != want {
                    break;
                }
                if !self.kept[i] {
                    self.kept[i] = true;
                    found = true;
                    break;
                }
                at += 1;
            }
            if !found {
                self.places.push(d_index);
            }
        }
    }

    /// Whether each open order of the last [`Differ::diff`] is kept (not cancelled).
    pub fn kept(&self) -> &[bool] {
        &self.kept
    }
}

/// The minimal change from `open` to `desired`: indexes of open orders to cancel and of
/// desired orders to place. An open order is kept when a desired order has its key, kind,
/// price and remaining amount; any other open order is cancelled (and re-placed if still
/// wanted). Cancels come before places so `max_active_orders` is never exceeded. A driver
/// that diffs every bar keeps a [`Differ`] instead (same result, no allocation).
pub fn diff(open: &[OpenOrder], desired: &[DesiredOrder]) -> (Vec<usize>, Vec<usize>) {
    let mut d = Differ::default();
    let (cancels, places) = d.diff(open, desired);
    (cancels.to_vec(), places.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn desired(role: Role, side: Side, level: i32, price: i64, lots: i64) -> DesiredOrder {
        DesiredOrder {
            role,
            side,
            level,
            kind: OrderKind::Limit,
            price_ticks: price,
            amount_lots: lots,
        }
    }

    #[test]
    fn ids_are_deterministic_short_and_distinct() {
        let key = OrderKey {
            role: Role::Grid,
            side: Side::Sell,
            level: 3,
        };
        let a = client_order_id("bot-1", "BTCUSDT", &key, 17).expect("id");
        assert_eq!(
            a,
            client_order_id("bot-1", "BTCUSDT", &key, 17).expect("id")
        );
        assert!(
            a.len() <= 36
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert!(a.starts_with("gh") && a.ends_with("gs3-17"));
        assert_ne!(
            a,
            client_order_id("bot-2", "BTCUSDT", &key, 17).expect("id")
        );
        assert_ne!(
            a,
            client_order_id("bot-1", "ETHUSDT", &key, 17).expect("id")
        );
        assert_ne!(
            a,
            client_order_id("bot-1", "BTCUSDT", &key, 18).expect("id")
        );
        let far = OrderKey {
            role: Role::Grid,
            side: Side::Buy,
            level: -1000,
        };
        assert!(client_order_id("b", "s", &far, 10u64.pow(18)).is_ok_and(|id| id.len() == 36));
        assert!(
            matches!(client_order_id("b", "s", &far, u64::MAX), Err(Error::InvalidInput { field, .. }) if field == "sequence")
        );
        assert!(client_order_id("", "s", &key, 0).is_err());
    }

    #[test]
    fn ids_parse_back_for_their_own_bot_only() {
        let key = OrderKey {
            role: Role::Grid,
            side: Side::Buy,
            level: -4,
        };
        let id = client_order_id("bot-1", "BTCUSDT", &key, 9).expect("id");
        assert_eq!(
            parse_client_order_id("bot-1", "BTCUSDT", &id),
            Some((key, 9))
        );
        assert_eq!(parse_client_order_id("bot-2", "BTCUSDT", &id), None);
        assert_eq!(parse_client_order_id("bot-1", "BTCUSDT", "web_123"), None);
        assert_eq!(
            parse_client_order_id("bot-1", "BTCUSDT", &id.replace("-9", "-x")),
            None
        );
    }

    /// The linear-search diff this module had before [`Differ`]: the reference.
    fn diff_by_scan(open: &[OpenOrder], desired: &[DesiredOrder]) -> (Vec<usize>, Vec<usize>) {
        let mut kept = vec![false; open.len()];
        let mut places = Vec::new();
        for (d_index, d) in desired.iter().enumerate() {
            let key = OrderKey::from(d);
            let matching = open.iter().enumerate().position(|(i, o)| {
                !kept[i]
                    && o.key == key
                    && o.kind == d.kind
                    && o.price_ticks == d.price_ticks
                    && o.remaining_lots == d.amount_lots
            });
            match matching {
                Some(i) => kept[i] = true,
                None => places.push(d_index),
            }
        }
        let cancels = (0..open.len()).filter(|&i| !kept[i]).collect();
        (cancels, places)
    }

    fn arb_order() -> impl Strategy<Value = (u8, bool, i32, u8, i64, i64)> {
        // few distinct values, so that keys, prices and amounts collide often (duplicates);
        // now and then a far level, beyond the key table's span (the sorting fallback)
        let level = prop_oneof![8 => -3i32..4, 1 => Just(i32::MIN), 1 => Just(i32::MAX)];
        (0u8..3, any::<bool>(), level, 0u8..3, 98i64..102, 1i64..3)
    }

    fn desired_of(t: (u8, bool, i32, u8, i64, i64)) -> DesiredOrder {
        DesiredOrder {
            role: [Role::Grid, Role::Rebalance, Role::Stop][usize::from(t.0)],
            side: if t.1 { Side::Buy } else { Side::Sell },
            level: t.2,
            kind: [OrderKind::Limit, OrderKind::StopMarket, OrderKind::Market][usize::from(t.3)],
            price_ticks: t.4,
            amount_lots: t.5,
        }
    }

    proptest! {
        /// Reference: the linear scan (`diff_by_scan`), on orders with many duplicate keys,
        /// prices and amounts; one `Differ` reused across cases, as a run reuses it.
        #[test]
        fn differ_equals_the_linear_scan(
            runs in proptest::collection::vec(
                (
                    proptest::collection::vec(arb_order(), 0..12),
                    proptest::collection::vec(arb_order(), 0..12),
                ),
                1..4,
            )
        ) {
            let mut differ = Differ::default();
            for (open, want) in runs {
                let open: Vec<OpenOrder> = open
                    .into_iter()
                    .map(|t| {
                        let d = desired_of(t);
                        OpenOrder {
                            key: OrderKey::from(&d),
                            kind: d.kind,
                            price_ticks: d.price_ticks,
                            remaining_lots: d.amount_lots,
                        }
                    })
                    .collect();
                let want: Vec<DesiredOrder> = want.into_iter().map(desired_of).collect();
                let (c, p) = diff_by_scan(&open, &want);
                let (dc, dp) = differ.diff(&open, &want);
                prop_assert_eq!((dc, dp), (c.as_slice(), p.as_slice()));
                let kept: Vec<bool> = (0..open.len()).map(|i| !c.contains(&i)).collect();
                prop_assert_eq!(differ.kept(), kept.as_slice());
                prop_assert_eq!(diff(&open, &want), (c, p));
            }
        }
    }

    #[test]
    fn diff_keeps_matches_and_replaces_the_rest() {
        let open = [
            OpenOrder {
                key: OrderKey {
                    role: Role::Grid,
                    side: Side::Sell,
                    level: 1,
                },
                kind: OrderKind::Limit,
                price_ticks: 101,
                remaining_lots: 5,
            },
            OpenOrder {
                key: OrderKey {
                    role: Role::Grid,
                    side: Side::Buy,
                    level: -1,
                },
                kind: OrderKind::Limit,
                price_ticks: 99,
                remaining_lots: 5,
            },
            OpenOrder {
                key: OrderKey {
                    role: Role::Grid,
                    side: Side::Buy,
                    level: -2,
                },
                kind: OrderKind::Limit,
                price_ticks: 98,
                remaining_lots: 5,
            },
        ];
        let want = [
            desired(Role::Grid, Side::Sell, 1, 101, 5), // same: kept
            desired(Role::Grid, Side::Buy, -1, 99, 4),  // amount changed: cancel + place
            desired(Role::Grid, Side::Sell, 2, 102, 5), // new: place
        ];
        let (cancels, places) = diff(&open, &want);
        assert_eq!(cancels, [1, 2]);
        assert_eq!(places, [1, 2]);
        assert_eq!(diff(&open, &[]).0, [0, 1, 2]);
    }
}
