"""RPO as a number: orders the load run saw confirmed, minus the orders the
shop still has after the restore."""

from __future__ import annotations

import logging

import httpx

from riskkit_drills.context import DrillContext
from riskkit_drills.journal import RpoResult, TrafficSummary
from riskkit_drills.models import Traffic
from riskkit_drills.shop_admin import confirmed_order_ids
from riskkit_drills.traffic import TrafficDriver

__all__ = ["RecoveryPointMeter", "same_order"]

log = logging.getLogger(__name__)


def same_order(client: httpx.Client, order_id: str, user_id: str) -> bool:
    """Is ``order_id`` still the order ``user_id`` placed?  A restore that
    rewinds the id sequence hands lost ids to new orders; those must still
    count as lost."""
    response = client.get(f"/api/orders/{order_id}")
    if response.status_code == 404:
        return False
    response.raise_for_status()
    return str(response.json().get("user_id")) == user_id


class RecoveryPointMeter:
    """Runs the drill's traffic and, at the end, counts the confirmed orders lost."""

    def __init__(
        self,
        base_url: str,
        traffic: Traffic,
        ctx: DrillContext,
        drill_started: float,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.headers = headers or {}
        self.drill_started = drill_started
        self.base_url = base_url
        self.traffic = traffic
        self.driver = TrafficDriver(
            base_url,
            traffic.rate_per_s,
            traffic.workers,
            max_duration_s=max(ctx.remaining_s(), 1.0),
            sku_id=traffic.sku_id,
        )
        self.stopped = False

    def start(self) -> RecoveryPointMeter:
        self.driver.start()
        return self

    def stop_traffic(self) -> TrafficSummary:
        stats = self.driver.stop()
        self.stopped = True
        seconds = sorted(stats.per_second)
        return TrafficSummary(
            rate_per_s=self.driver.rate_per_s,
            workers=self.driver.workers,
            attempted=stats.attempted,
            confirmed=len(stats.confirmed),
            refused=stats.refused,
            failed=stats.failed,
            dropped=stats.dropped,
            # buckets on the drill's clock, so the chart lines up with T0-T4
            seconds=[round(self.driver.started - self.drill_started + s, 3) for s in seconds],
            confirmed_per_second=[stats.per_second[s][0] for s in seconds],
            failed_per_second=[stats.per_second[s][1] for s in seconds],
        )

    def measure_rpo(self, target_orders: int | None) -> RpoResult | None:
        if not self.traffic.measure_rpo:
            return None
        confirmed = dict(self.driver.stats.confirmed)
        try:
            with httpx.Client(base_url=self.base_url, timeout=10.0, headers=self.headers) as client:
                listed = confirmed_order_ids(client)
                present = {
                    order_id
                    for order_id in confirmed.keys() & listed
                    if same_order(client, order_id, confirmed[order_id])
                }
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("cannot list the shop's orders: %s", exc)
            return RpoResult(
                orders_confirmed=len(confirmed),
                orders_present_after_restore=None,
                orders_lost=None,
                lost_order_ids_sample=[],
                target_orders=target_orders,
                met=False,
                error=f"GET /admin/orders failed: {type(exc).__name__}: {exc}",
            )
        lost = sorted(confirmed.keys() - present, key=lambda i: (len(i), i))
        return RpoResult(
            orders_confirmed=len(confirmed),
            orders_present_after_restore=len(present),
            orders_lost=len(lost),
            lost_order_ids_sample=lost[:20],
            target_orders=target_orders,
            met=None if target_orders is None else len(lost) <= target_orders,
        )
