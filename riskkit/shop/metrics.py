"""Prometheus metrics of one shop process, in their own registry."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from riskkit.shop.catalog import COUPONS
from riskkit.shop.gateway import GATEWAYS

__all__ = [
    "CONTENT_TYPE_LATEST",
    "LATENCY_BUCKETS_S",
    "PAYMENT_RESULTS",
    "ShopMetrics",
    "status_class",
]

# Fine below 100 ms where a healthy shop lives, coarse above where injected faults land.
LATENCY_BUCKETS_S = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
PAYMENT_RESULTS = ("success", "unavailable")


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


class ShopMetrics:
    """Request latency per route template plus the shop's business counters.

    Parameters
    ----------
    faults_active : callable
        Returns the number of active faults when ``/metrics`` is scraped.
    database_up : callable
        Returns whether the database is usable (0 after ``db_lost`` until a restore).
    active_gateway : callable
        Returns the name of the active payment gateway.
    """

    def __init__(
        self,
        faults_active: Callable[[], int],
        database_up: Callable[[], bool],
        active_gateway: Callable[[], str],
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_duration = Histogram(
            "riskkit_shop_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["endpoint", "method", "status_class"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.orders = Counter(
            "riskkit_shop_orders_total", "Orders created by checkout.", registry=self.registry
        )
        self.payments = Counter(
            "riskkit_shop_payments_total",
            "Payment attempts by gateway and result.",
            ["gateway", "result"],
            registry=self.registry,
        )
        self.oversell_refused = Counter(
            "riskkit_shop_oversell_refused_total",
            "Checkouts refused because the stock could not cover them.",
            registry=self.registry,
        )
        self.coupon_redemptions = Counter(
            "riskkit_shop_coupon_redemptions_total",
            "Coupons redeemed by committed orders.",
            ["coupon"],
            registry=self.registry,
        )
        faults_gauge = Gauge(
            "riskkit_shop_faults_active",
            "Injected faults currently active.",
            registry=self.registry,
        )
        faults_gauge.set_function(lambda: float(faults_active()))
        database_gauge = Gauge(
            "riskkit_shop_database_up",
            "1 while the database is usable, 0 after db_lost until a restore.",
            registry=self.registry,
        )
        database_gauge.set_function(lambda: 1.0 if database_up() else 0.0)
        self._gateway_gauge = Gauge(
            "riskkit_shop_payment_gateway_active",
            "1 for the payment gateway that takes charges.",
            ["gateway"],
            registry=self.registry,
        )
        self._active_gateway = active_gateway
        # Series exist at zero from the start, so rate() works on the first scrape.
        for gateway in GATEWAYS:
            for result in PAYMENT_RESULTS:
                self.payments.labels(gateway=gateway, result=result)
        for code in COUPONS:
            self.coupon_redemptions.labels(coupon=code)

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.request_duration.labels(
            endpoint=endpoint, method=method, status_class=status_class(status)
        ).observe(seconds)

    def render(self) -> bytes:
        active = self._active_gateway()
        for gateway in GATEWAYS:
            self._gateway_gauge.labels(gateway=gateway).set(1.0 if gateway == active else 0.0)
        return generate_latest(self.registry)
