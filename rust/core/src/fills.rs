//! The fill model shared by the backtester, the PAPER broker and the exchange emulator.
