//! gridhedge-core: the numeric heart of gridhedge, pure Rust with no Python.
//!
//! One module per concept: [`money`] (exact ticks and lots), [`grid`] (grid levels).
//! Every fallible function returns [`error::Result`], whose errors name the field, the value
//! and the rule that failed.
#![forbid(unsafe_code)]

pub mod account;
pub mod backtest;
pub mod drawdown;
pub mod error;
pub mod fills;
pub mod garch;
pub mod grid;
pub mod hedge;
pub mod levels;
pub mod money;
pub mod orders;
pub mod policy;
pub mod portfolio;
pub mod series;
pub mod sizing;
pub mod stops;
pub mod synthetic;
pub mod var;
pub mod var_backtest;
pub mod volatility;

pub use error::{Error, Result};
pub use grid::{Grid, GridBatch, GridBatchMut, GridCounts, GridMode, GridParams, GridPlan, Level};
pub use money::{Market, Side};
