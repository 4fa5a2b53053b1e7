use proptest::prelude::*;

use super::*;

fn market() -> Market {
    Market::new("1", "0.1", "0", "0").expect("valid market")
}

fn book(participation: f64) -> FillBook {
    FillBook::new(
        market(),
        FillParams::new(participation, 0.0002, 0.0005).expect("valid"),
    )
}

fn limit(id: u64, side: Side, price: i64, lots: i64, placed: i64) -> SimOrder {
    SimOrder {
        id,
        side,
        kind: OrderKind::Limit,
        price_ticks: price,
        remaining_lots: lots,
        placed_bar: placed,
    }
}

fn bar(o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
    Bar {
        open: o,
        high: h,
        low: l,
        close: c,
        volume: v,
    }
}

#[test]
fn a_touch_is_not_a_fill_one_tick_through_is() {
    let mut b = book(1.0);
    b.place(limit(1, Side::Buy, 95, 10, 0)).expect("place");
    b.place(limit(2, Side::Sell, 105, 10, 0)).expect("place");
    // low touches 95, high touches 105: nothing
    assert!(b
        .on_bar(1, &bar(100.0, 105.0, 95.0, 101.0, 1000.0))
        .expect("bar")
        .is_empty());
    // low 94.5 is through 95 by half a tick: still nothing
    assert!(b
        .on_bar(2, &bar(100.0, 105.9, 94.5, 101.0, 1000.0))
        .expect("bar")
        .is_empty());
    // low 94 is one tick through: the buy fills at its limit, 95
    let fills = b
        .on_bar(3, &bar(100.0, 104.0, 94.0, 101.0, 1000.0))
        .expect("bar");
    assert_eq!(fills.len(), 1);
    assert_eq!(
        (fills[0].order_id, fills[0].price_ticks, fills[0].lots),
        (1, 95, 10)
    );
    assert!(fills[0].maker && fills[0].done);
    // fee: 95 x 1.0 x 0.0002 = 0.019
    assert_eq!(fills[0].fee.to_string(), "0.019");
    assert_eq!(b.orders().len(), 1);
}

#[test]
fn orders_never_fill_on_the_bar_that_created_them() {
    let mut b = book(1.0);
    b.place(limit(1, Side::Buy, 95, 10, 5)).expect("place");
    assert!(b
        .on_bar(5, &bar(100.0, 100.0, 80.0, 90.0, 1000.0))
        .expect("bar")
        .is_empty());
    assert_eq!(
        b.on_bar(6, &bar(90.0, 95.0, 80.0, 85.0, 1000.0))
            .expect("bar")
            .len(),
        1
    );
}

#[test]
fn path_order_is_o_h_l_c_on_a_down_bar_and_o_l_h_c_on_an_up_bar() {
    // down bar (close < open): O -> H -> L -> C, so the sell (crossed going up to H) fills first
    let mut b = book(1.0);
    b.place(limit(1, Side::Buy, 95, 1, 0)).expect("place");
    b.place(limit(2, Side::Sell, 105, 1, 0)).expect("place");
    let ids: Vec<u64> = b
        .on_bar(1, &bar(100.0, 110.0, 90.0, 99.0, 1e6))
        .expect("bar")
        .iter()
        .map(|f| f.order_id)
        .collect();
    assert_eq!(ids, [2, 1]);
    // up bar: O -> L -> H -> C, buy first
    let mut b = book(1.0);
    b.place(limit(1, Side::Buy, 95, 1, 0)).expect("place");
    b.place(limit(2, Side::Sell, 105, 1, 0)).expect("place");
    let ids: Vec<u64> = b
        .on_bar(1, &bar(100.0, 110.0, 90.0, 101.0, 1e6))
        .expect("bar")
        .iter()
        .map(|f| f.order_id)
        .collect();
    assert_eq!(ids, [1, 2]);
}

#[test]
fn participation_caps_fills_in_path_order_and_partials_carry_over() {
    // volume 100 x 10% = 10 base = 100 lots of 0.1 per bar
    let mut b = book(0.1);
    b.place(limit(1, Side::Buy, 98, 60, 0)).expect("place");
    b.place(limit(2, Side::Buy, 96, 60, 0)).expect("place");
    let f = b
        .on_bar(1, &bar(100.0, 100.0, 90.0, 95.0, 100.0))
        .expect("bar");
    // falling: 98 is crossed before 96
    assert_eq!(
        f.iter()
            .map(|x| (x.order_id, x.lots, x.done))
            .collect::<Vec<_>>(),
        [(1, 60, true), (2, 40, false)]
    );
    let f = b
        .on_bar(2, &bar(95.0, 96.0, 90.0, 92.0, 100.0))
        .expect("bar");
    assert_eq!(
        f.iter()
            .map(|x| (x.order_id, x.lots, x.done))
            .collect::<Vec<_>>(),
        [(2, 20, true)]
    );
    assert!(b.orders().is_empty());
}

#[test]
fn stops_trigger_on_touch_and_fill_at_the_open_when_gapped() {
    let mut b = book(0.0001);
    let stop = |id, side, price| SimOrder {
        id,
        side,
        kind: OrderKind::StopMarket,
        price_ticks: price,
        remaining_lots: 50,
        placed_bar: 0,
    };
    b.place(stop(1, Side::Buy, 110)).expect("place");
    let f = b
        .on_bar(1, &bar(100.0, 110.0, 99.0, 105.0, 1.0))
        .expect("bar");
    assert_eq!(
        (f[0].price_ticks, f[0].lots, f[0].maker),
        (110, 50, false),
        "touch triggers, no volume cap"
    );
    b.place(stop(2, Side::Sell, 90)).expect("place");
    let f = b.on_bar(2, &bar(85.2, 86.0, 80.0, 82.0, 1.0)).expect("bar");
    assert_eq!(
        f[0].price_ticks, 85,
        "gap below the stop fills at the open, rounded down"
    );
}

#[test]
fn market_orders_fill_whole_at_the_next_open() {
    let mut b = book(0.0001);
    let market = |id, side| SimOrder {
        id,
        side,
        kind: OrderKind::Market,
        price_ticks: 1,
        remaining_lots: 30,
        placed_bar: 0,
    };
    b.place(market(1, Side::Sell)).expect("place");
    b.place(market(2, Side::Buy)).expect("place");
    let f = b
        .on_bar(1, &bar(100.4, 101.0, 99.0, 100.0, 1.0))
        .expect("bar");
    assert_eq!(
        f.iter()
            .map(|x| (x.order_id, x.price_ticks, x.lots, x.maker))
            .collect::<Vec<_>>(),
        [(1, 100, 30, false), (2, 101, 30, false)]
    );
}

#[test]
fn kinds_parse_by_name() {
    for kind in [OrderKind::Limit, OrderKind::StopMarket, OrderKind::Market] {
        assert_eq!(kind.as_str().parse::<OrderKind>(), Ok(kind));
    }
    assert!("iceberg".parse::<OrderKind>().is_err());
}

#[test]
fn cancel_and_duplicates() {
    let mut b = book(1.0);
    b.place(limit(7, Side::Buy, 95, 1, 0)).expect("place");
    assert!(b.place(limit(7, Side::Buy, 94, 1, 0)).is_err());
    assert!(b.cancel(7).is_some());
    assert!(b.cancel(7).is_none());
    assert!(b
        .on_bar(1, &bar(100.0, 100.0, 50.0, 60.0, 1e6))
        .expect("bar")
        .is_empty());
}

#[test]
fn duplicates_are_refused_below_the_largest_id_and_cancels_go_by_sorted_ids() {
    let mut b = book(1.0);
    for id in [3, 9, 5] {
        b.place(limit(id, Side::Buy, 90 + id as i64, 1, 0))
            .expect("place");
    }
    // below the largest id placed the book is scanned: a resting id is refused, a free one not
    assert!(b.place(limit(5, Side::Buy, 80, 1, 0)).is_err());
    assert!(b.place(limit(3, Side::Sell, 120, 1, 0)).is_err());
    b.place(limit(4, Side::Buy, 80, 1, 0))
        .expect("a free id below the largest");
    // one pass: only the listed ids that rest go, the rest keep their order
    assert_eq!(b.cancel_sorted(&[1, 3, 5, 11]), 2);
    let left: Vec<u64> = b.orders().iter().map(|o| o.id).collect();
    assert_eq!(left, [9, 4]);
    assert_eq!(b.cancel_sorted(&[]), 0);
    // a cancelled id may rest again
    b.place(limit(3, Side::Buy, 81, 1, 0)).expect("re-place");
}

#[test]
fn bad_bars_and_params_are_named_errors() {
    let mut b = book(1.0);
    assert!(b.on_bar(1, &bar(100.0, 99.0, 95.0, 98.0, 1.0)).is_err());
    assert!(b.on_bar(1, &bar(f64::NAN, 99.0, 95.0, 98.0, 1.0)).is_err());
    assert!(b.on_bar(1, &bar(100.0, 101.0, 95.0, 98.0, -1.0)).is_err());
    assert!(FillParams::new(0.0, 0.0, 0.0).is_err());
    assert!(FillParams::new(0.5, 0.5, 0.0).is_err());
    assert_eq!(funding_payment(-2.0, 100.0, 0.0001), Ok(0.02));
}

proptest! {

    /// Reference: `Reach::reached` on the snapped extremes. A bar `surely_missed` finds out of
    /// reach is out of reach, at any tick and near the thresholds (within a few ticks).
    #[test]
    fn surely_missed_never_hides_a_reach(
        tick_exp in -8i32..4,
        tick_mant in 1u32..100,
        rise in 1i64..(1i64 << 50),
        up in -6i64..6,
        fall in -10i64..(1i64 << 50),
        down in -6i64..6,
        fraction in 0.0f64..1.0,
        empty_side in 0u8..3,
    ) {
        let tick = f64::from(tick_mant) * 10f64.powi(tick_exp);
        let reach = Reach {
            rise: if empty_side == 1 { i64::MAX } else { rise },
            fall: if empty_side == 2 { i64::MIN } else { fall },
            market: false,
        };
        // extremes a few ticks around the thresholds, off the tick grid
        let high = ((rise + up) as f64 + fraction) * tick;
        let low = ((fall + down) as f64 + fraction) * tick;
        if high.is_finite() && low.is_finite() && low > 0.0 && reach.surely_missed(high, low, tick) {
            let h = snap(high / tick, Round::Down);
            let l = snap(low / tick, Round::Up);
            prop_assert!(!reach.reached(h, l), "rise {} fall {} high {} low {}", reach.rise, reach.fall, h, l);
        }
    }

    /// Reference: filtering the placement-ordered ids by membership in a set. A sorted cancel
    /// leaves the same orders in the same order, whether the ids were placed ascending (the
    /// merge walk) or not (the binary search).
    #[test]
    fn a_sorted_cancel_removes_exactly_the_listed_resting_ids(
        gaps in prop::collection::vec(1u64..5, 0..40),
        shuffle in any::<bool>(),
        picks in prop::collection::vec(any::<bool>(), 40),
        strays in prop::collection::vec(0u64..200, 0..5),
    ) {
        let mut ids: Vec<u64> = gaps.iter().scan(0, |at, g| { *at += g; Some(*at) }).collect();
        if shuffle {
            ids.reverse();
        }
        let mut b = book(1.0);
        for &id in &ids {
            b.place(limit(id, Side::Buy, 90, 1, 0)).expect("place");
        }
        let mut cancel: Vec<u64> = ids.iter().zip(&picks).filter(|(_, p)| **p).map(|(id, _)| *id).collect();
        cancel.extend(&strays);
        cancel.sort_unstable();
        cancel.dedup();
        let set: std::collections::BTreeSet<u64> = cancel.iter().copied().collect();
        let expect: Vec<u64> = ids.iter().copied().filter(|id| !set.contains(id)).collect();
        let removed = b.cancel_sorted(&cancel);
        let left: Vec<u64> = b.orders().iter().map(|o| o.id).collect();
        prop_assert_eq!(removed, ids.len() - expect.len());
        prop_assert_eq!(left, expect);
    }
    #[test]
    fn fills_respect_the_model(
        orders in prop::collection::vec((any::<bool>(), 80i64..120, 1i64..50), 0..20),
        o in 85.0f64..115.0, up in 0.0f64..20.0, down in 0.0f64..20.0, c_frac in 0.0f64..1.0,
        volume in 0.0f64..500.0, participation in 0.01f64..1.0,
    ) {
        let (high, low) = (o + up, o - down);
        let close = low + (high - low) * c_frac;
        let b0 = bar(o, high, low, close, volume);
        let mut b = book(participation);
        for (i, (is_buy, price, lots)) in orders.iter().enumerate() {
            let side = if *is_buy { Side::Buy } else { Side::Sell };
            b.place(limit(i as u64, side, *price, *lots, 0)).expect("place");
        }
        let fills = b.on_bar(1, &b0).expect("bar");
        let budget = (participation * volume / 0.1 + 1e-9).floor() as i64;
        prop_assert!(fills.iter().map(|f| f.lots).sum::<i64>() <= budget);
        for f in &fills {
            let (_, price, lots) = orders[f.order_id as usize];
            prop_assert_eq!(f.price_ticks, price, "limit fills at the limit price");
            prop_assert!(f.lots <= lots);
            match f.side {
                Side::Buy => prop_assert!(low <= (price - 1) as f64 + 1e-9),
                Side::Sell => prop_assert!(high >= (price + 1) as f64 - 1e-9),
            }
        }
        // every order that was traded through and had budget left got something
        let filled_lots: i64 = fills.iter().map(|f| f.lots).sum();
        if filled_lots < budget {
            for (i, (is_buy, price, _)) in orders.iter().enumerate() {
                let through = if *is_buy { low <= (*price - 1) as f64 - 1e-9 } else { high >= (*price + 1) as f64 + 1e-9 };
                if through {
                    prop_assert!(fills.iter().any(|f| f.order_id == i as u64));
                }
            }
        }
    }

    /// The reach bound only skips work: over random places (every kind and side), cancels
    /// and bars, a book using it fills exactly as one forced to scan every order every bar.
    #[test]
    fn the_reach_bound_never_hides_a_fill(
        steps in prop::collection::vec(
            (0u8..4, any::<bool>(), 80i64..120, 1i64..30, 85.0f64..115.0, 0.0f64..12.0, 0.0f64..12.0, 0.0f64..1.0),
            1..60,
        ),
    ) {
        let mut fast = book(0.5);
        let mut scan = book(0.5);
        let mut next_id = 0u64;
        for (bar_index, (op, is_buy, price, lots, o, up, down, c_frac)) in steps.into_iter().enumerate() {
            let bar_index = bar_index as i64;
            let side = if is_buy { Side::Buy } else { Side::Sell };
            match op {
                0 | 1 => {
                    let kind = [OrderKind::Limit, OrderKind::StopMarket, OrderKind::Market][(price % 3) as usize];
                    let order = SimOrder { kind, ..limit(next_id, side, price, lots, bar_index - 1) };
                    next_id += 1;
                    fast.place(order).expect("place");
                    scan.place(order).expect("place");
                }
                2 => {
                    let id = (price as u64) % next_id.max(1);
                    prop_assert_eq!(fast.cancel(id), scan.cancel(id));
                }
                _ => {
                    let (high, low) = (o + up, o - down);
                    let b0 = bar(o, high, low, low + (high - low) * c_frac, 200.0);
                    scan.reach = Reach { market: true, ..Reach::NONE };
                    let a = fast.on_bar(bar_index, &b0).expect("bar");
                    let b = scan.on_bar(bar_index, &b0).expect("bar");
                    prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
                    prop_assert_eq!(fast.orders(), scan.orders());
                }
            }
        }
    }
}
