"""The scenarios as iterations: what one arrival does against the shop.

* :class:`CheckoutFlow` (checkout, double11, retry-storm): each arrival is ONE step of
  the funnel, picked by smooth weighted round-robin so the mix browse 10 : view cart 3 :
  add to cart 2 : apply coupon 1 : checkout 1 : pay 1 holds exactly.  Shoppers carry
  state (cart, pending orders, coupon used), so checkout goes to a shopper with a cart
  and pay to one with an unpaid order; when none is ready yet the missing steps run
  first, each recorded under its own name.
* :class:`FlashSaleFlow` (秒杀): each arrival is one buyer: add the hot SKU, check out
  (201 or an expected 409 sold out), pay.  A buyer never comes back.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from riskkit_loadtests.generator.http import StepCaller, StepResult

__all__ = ["CHECKOUT_MIX", "CheckoutFlow", "FlashSaleFlow", "Shopper", "make_flow"]

CHECKOUT_MIX: dict[str, int] = {
    "browse": 10,
    "view_cart": 3,
    "add_to_cart": 2,
    "apply_coupon": 1,
    "checkout": 1,
    "pay": 1,
}
_MONEY_TOLERANCE = 0.011


@dataclass
class Shopper:
    user_id: str
    cart_items: int = 0
    coupon_discount: float | None = None
    once_coupons_redeemed: set[str] = field(default_factory=set)
    once_coupon_applied: str | None = None
    pending_orders: list[str] = field(default_factory=list)
    checkouts: int = 0


def _money(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _SmoothWeighted:
    """nginx's smooth weighted round-robin: exact proportions, evenly interleaved."""

    def __init__(self, weights: dict[str, int]) -> None:
        self.weights = dict(weights)
        self.total = sum(weights.values())
        self.current = dict.fromkeys(weights, 0)

    def next(self) -> str:
        for name, weight in self.weights.items():
            self.current[name] += weight
        chosen = max(self.current, key=lambda name: self.current[name])
        self.current[chosen] -= self.total
        return chosen


class _FlowBase:
    def __init__(self, config: dict[str, Any], caller: StepCaller, worker_index: int) -> None:
        data = config["data"]
        self.caller = caller
        self.recorder = caller.recorder
        self.run_id = str(config["run_id"])
        self.worker_index = worker_index
        self.rng = random.Random(int(config.get("seed", 0)) * 1000 + worker_index)
        self.skus: list[str] = [s for s in data["skus"] if s != config["hot_sku"]] or list(
            data["skus"]
        )
        self.hot_sku: str = config["hot_sku"]
        self.coupons: list[dict[str, Any]] = list(data["coupons"])
        self.plain: deque[Shopper] = deque(Shopper(user) for user in data["users"])
        self._keys = 0

    def key(self, prefix: str) -> str:
        self._keys += 1
        return f"{self.run_id}-{prefix}-w{self.worker_index}-{self._keys}"

    def variables(self, shopper: Shopper, **extra: Any) -> dict[str, Any]:
        return {"user_id": shopper.user_id, "quantity": 1, "run_id": self.run_id, **extra}


class CheckoutFlow(_FlowBase):
    """The checkout funnel; ``retry_storm`` makes pay clients retry failures at once."""

    def __init__(
        self,
        config: dict[str, Any],
        caller: StepCaller,
        worker_index: int,
        retry_storm: bool = False,
    ) -> None:
        super().__init__(config, caller, worker_index)
        self.mix = _SmoothWeighted(CHECKOUT_MIX)
        self.with_cart: deque[Shopper] = deque()
        self.with_order: deque[Shopper] = deque()
        self.retry_storm = retry_storm
        self.replay_every = 1 if retry_storm else int(config.get("pay_replay_every", 10))
        self.retry_max = int(config.get("retry_max", 3))
        self._pays = 0
        self.once_coupons = [c["code"] for c in self.coupons if c.get("once_per_user")]
        self.threshold_coupons = [c["code"] for c in self.coupons if not c.get("once_per_user")]

    # -- shopper bookkeeping -------------------------------------------------------
    def _take(self, *pools: deque[Shopper]) -> Shopper | None:
        for pool in pools:
            if pool:
                return pool.popleft()
        return None

    def _release(self, shopper: Shopper) -> None:
        if shopper.pending_orders:
            self.with_order.append(shopper)
        elif shopper.cart_items:
            self.with_cart.append(shopper)
        else:
            self.plain.append(shopper)

    def has_shoppers(self) -> bool:
        return bool(self.plain or self.with_cart or self.with_order)

    # -- one arrival -----------------------------------------------------------------
    def run(self, client: Any, intended: float) -> bool:
        """Run one iteration; ``False`` when no shopper was free (counted as dropped)."""
        step = self.mix.next()
        if step == "pay":
            shopper = self._take(self.with_order, self.with_cart, self.plain)
        elif step in ("checkout", "apply_coupon"):
            shopper = self._take(self.with_cart, self.plain, self.with_order)
        else:
            shopper = self._take(self.plain, self.with_cart, self.with_order)
        if shopper is None:
            return False
        try:
            self._run_step(client, step, shopper, intended)
        finally:
            self._release(shopper)
        return True

    def _run_step(self, client: Any, step: str, shopper: Shopper, intended: float) -> None:
        start: float | None = intended
        if step == "browse":
            self.caller.call(client, "browse", self.variables(shopper, sku_id=self._sku()), start)
        elif step == "view_cart":
            self.caller.call(client, "view_cart", self.variables(shopper), start)
        elif step == "add_to_cart":
            self._add(client, shopper, start)
        elif step == "apply_coupon":
            self._apply_coupon(client, shopper, start)
        elif step == "checkout":
            if not shopper.cart_items:
                self._add(client, shopper, start)
                start = None
            self._checkout(client, shopper, start)
        elif step == "pay":
            if not shopper.pending_orders:
                if not shopper.cart_items:
                    self._add(client, shopper, start)
                    start = None
                self._checkout(client, shopper, start)
                start = None
            if shopper.pending_orders:
                self._pay(client, shopper, shopper.pending_orders.pop(0), start)

    def _sku(self) -> str:
        return self.rng.choice(self.skus)

    def _add(self, client: Any, shopper: Shopper, start: float | None) -> StepResult:
        result = self.caller.call(
            client, "add_to_cart", self.variables(shopper, sku_id=self._sku()), start
        )
        if result.ok:
            shopper.cart_items += 1
        return result

    def _apply_coupon(self, client: Any, shopper: Shopper, start: float | None) -> None:
        redeemed = [code for code in self.once_coupons if code in shopper.once_coupons_redeemed]
        fresh = [code for code in self.once_coupons if code not in shopper.once_coupons_redeemed]
        if redeemed and (not fresh or self.rng.random() < 0.5):
            # The same once-per-account coupon again: the shop must refuse it.
            code = redeemed[0]
            result = self.caller.call(
                client, "apply_coupon", self.variables(shopper, coupon=code), start
            )
            if not result.failed:
                self.recorder.check("coupon_applied_once", result.refused)
            return
        choices = fresh or self.threshold_coupons
        if not choices:
            return
        code = choices[0] if fresh else self.rng.choice(choices)
        result = self.caller.call(
            client, "apply_coupon", self.variables(shopper, coupon=code), start
        )
        if result.ok:
            discount = _money(result.fields.get("discount"))
            subtotal = _money(result.fields.get("subtotal"))
            total = _money(result.fields.get("total"))
            if None not in (discount, subtotal, total):
                assert discount is not None and subtotal is not None and total is not None
                self.recorder.check(
                    "coupon_total_consistent", abs(subtotal - discount - total) <= _MONEY_TOLERANCE
                )
            shopper.coupon_discount = discount
            shopper.once_coupon_applied = code if code in self.once_coupons else None

    def _checkout(self, client: Any, shopper: Shopper, start: float | None) -> None:
        variables = self.variables(shopper, idempotency_key=self.key("co"))
        result = self.caller.call(client, "checkout", variables, start)
        if not result.ok:
            if result.refused:
                shopper.cart_items = 0  # sold out: the shopper gives up this cart
                self.caller.call(client, "view_cart", self.variables(shopper))
            return
        order_id = result.fields.get("order_id")
        status = result.fields.get("status")
        self.recorder.check("order_created", bool(order_id) and status in (None, "created"))
        discount = _money(result.fields.get("discount")) or 0.0
        subtotal = _money(result.fields.get("subtotal"))
        total = _money(result.fields.get("total"))
        if subtotal is not None and total is not None:
            applied = shopper.coupon_discount or 0.0
            # One coupon, once: the order's discount is the applied coupon's at most.
            self.recorder.check(
                "coupon_applied_once",
                discount <= applied + _MONEY_TOLERANCE
                and abs(subtotal - discount - total) <= _MONEY_TOLERANCE,
            )
        if shopper.once_coupon_applied and discount > 0:
            shopper.once_coupons_redeemed.add(shopper.once_coupon_applied)
        shopper.once_coupon_applied = None
        shopper.coupon_discount = None
        shopper.cart_items = 0
        shopper.checkouts += 1
        if order_id:
            shopper.pending_orders.append(str(order_id))

    def _pay(self, client: Any, shopper: Shopper, order_id: str, start: float | None) -> None:
        variables = self.variables(shopper, order_id=order_id, idempotency_key=self.key("pay"))
        result = self.caller.call(client, "pay", variables, start)
        attempts = 0
        while self.retry_storm and result.failed and attempts < self.retry_max:
            attempts += 1  # the storm: retry at once, no backoff, same key
            result = self.caller.call(client, "pay", variables, record_as="pay_retry")
        if not result.ok:
            return
        self.recorder.check("payment_paid", result.fields.get("status") in (None, "paid"))
        self._pays += 1
        if self.replay_every and self._pays % self.replay_every == 0:
            replay = self.caller.call(client, "pay", variables, record_as="pay_replay")
            if replay.ok:
                first = result.fields.get("payment_id")
                self.recorder.check(
                    "payment_idempotent",
                    first is not None and replay.fields.get("payment_id") == first,
                )


class FlashSaleFlow(_FlowBase):
    """Every arrival is a new buyer going for the hot SKU."""

    def run(self, client: Any, intended: float) -> bool:
        if not self.plain:
            return False
        shopper = self.plain.popleft()
        added = self.caller.call(
            client, "add_to_cart", self.variables(shopper, sku_id=self.hot_sku), intended
        )
        if not added.ok:
            return True
        variables = self.variables(shopper, idempotency_key=self.key("co"))
        result = self.caller.call(client, "checkout", variables)
        if result.refused:
            self.recorder.count("hot_sold_out")
            return True
        if not result.ok:
            return True
        order_id = result.fields.get("order_id")
        self.recorder.check("order_created", bool(order_id))
        self.recorder.count("hot_orders_created")
        if not order_id:
            return True
        pay_vars = self.variables(shopper, order_id=order_id, idempotency_key=self.key("pay"))
        paid = self.caller.call(client, "pay", pay_vars)
        if paid.ok:
            self.recorder.count("hot_orders_paid")
            self.recorder.check("payment_paid", paid.fields.get("status") in (None, "paid"))
        return True

    def has_shoppers(self) -> bool:
        return bool(self.plain)


Flow = CheckoutFlow | FlashSaleFlow


def make_flow(
    config: dict[str, Any], caller: StepCaller, worker_index: int
) -> Callable[[Any, float], bool]:
    scenario = config["scenario"]
    if scenario == "flash-sale":
        return FlashSaleFlow(config, caller, worker_index).run
    return CheckoutFlow(config, caller, worker_index, retry_storm=scenario == "retry-storm").run
