"""Order execution: brokers (PAPER, RECOMMENDATION, REAL), the order manager, positions."""
