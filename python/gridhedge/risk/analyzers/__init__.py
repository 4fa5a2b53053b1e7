"""Risk analyzers: basic (deterministic) and LLM-enhanced (only ever tightens risk)."""
