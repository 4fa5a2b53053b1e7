"""Reads the position through the broker."""

from __future__ import annotations

from gridhedge.common.interfaces import Broker, PositionFetcher
from gridhedge.common.types import Position


class BrokerPositionFetcher(PositionFetcher):
    """The broker's own view of spot inventory and the futures hedge."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def get_position(self, symbol: str) -> Position:
        return await self.broker.fetch_position(symbol)
