"""The simulated payment gateways: a primary and a backup, one of them active."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from riskkit.shop.faults import FaultRegistry

__all__ = ["GATEWAYS", "GatewayUnavailable", "PaymentGateways"]

GATEWAYS: tuple[str, ...] = ("primary", "backup")


class GatewayUnavailable(RuntimeError):
    """The active gateway refused the charge (``payment_gateway_down`` on the primary)."""

    def __init__(self, gateway: str) -> None:
        super().__init__(f"payment gateway {gateway!r} unavailable")
        self.gateway = gateway


class PaymentGateways:
    """Which gateway takes charges, and whether it is up.

    Parameters
    ----------
    faults : FaultRegistry
        ``payment_gateway_down`` faults take the PRIMARY gateway down; the backup stays
        up, so switching to it is the drill's recovery.
    latency_s : float
        Simulated round trip of a charge (an asyncio sleep, never blocking the loop).
    """

    def __init__(self, faults: FaultRegistry, latency_s: float = 0.0) -> None:
        self._faults = faults
        self._latency_s = latency_s
        self._lock = threading.Lock()
        self._active = "primary"

    @property
    def active(self) -> str:
        return self._active

    def switch(self, gateway: str) -> str:
        if gateway not in GATEWAYS:
            raise ValueError(f"gateway must be one of {', '.join(GATEWAYS)}")
        with self._lock:
            self._active = gateway
        return gateway

    def primary_down(self, scopes: Iterable[str] = ()) -> bool:
        return self._faults.is_active("payment_gateway_down", scopes)

    async def charge(self, scopes: Iterable[str]) -> str:
        """Charge through the active gateway; returns its name or raises GatewayUnavailable."""
        gateway = self._active
        if self._latency_s > 0:
            await asyncio.sleep(self._latency_s)
        if gateway == "primary" and self.primary_down(scopes):
            raise GatewayUnavailable(gateway)
        return gateway
