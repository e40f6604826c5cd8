"""Pure rules: seed catalog, coupon eligibility, fault registry (no server)."""

from __future__ import annotations

import itertools

import pytest

from riskkit.shop.admin import is_loopback
from riskkit.shop.catalog import COUPONS, HOT_SKU, coupon_error, seed_catalog
from riskkit.shop.faults import FaultRegistry, FaultSpecError
from riskkit.shop.middleware import fault_scopes


def test_seed_catalog_is_deterministic_and_priced_within_range() -> None:
    products = seed_catalog(200, hot_stock=7)
    assert products == seed_catalog(200, hot_stock=7)
    assert len(products) == 200
    assert len({p.sku_id for p in products}) == 200
    assert products[0].sku_id == HOT_SKU and products[0].stock == 7
    prices = [p.price_cents for p in products]
    assert min(prices) >= 990 and max(prices) <= 99_900
    # log-uniform: about half the goods cost under the ¥99 median, yet the range is covered
    assert 60 < sum(price < 10_000 for price in prices[1:]) < 140
    assert max(prices[1:]) > 50_000 and min(prices[1:]) < 2_000


@pytest.mark.parametrize(
    ("code", "subtotal", "redeemed", "has_orders", "expected"),
    [
        ("NEW30", 9_900, False, False, None),
        ("NEW30", 9_899, False, False, "threshold_not_met"),
        ("NEW30", 50_000, True, True, "already_used"),
        ("NEW30", 50_000, False, True, "not_eligible"),
        ("FULL200-20", 19_999, False, True, "threshold_not_met"),
        ("FULL200-20", 20_000, True, True, None),
        ("FULL300-50", 30_000, False, False, None),
        ("BOGUS", 99_999, False, False, "unknown_coupon"),
    ],
)
def test_coupon_rules(
    code: str, subtotal: int, redeemed: bool, has_orders: bool, expected: str | None
) -> None:
    assert (
        coupon_error(code, subtotal, already_redeemed=redeemed, has_orders=has_orders) == expected
    )


def test_coupon_table_matches_the_contract() -> None:
    assert {c: (v.threshold_cents, v.discount_cents) for c, v in COUPONS.items()} == {
        "NEW30": (9_900, 3_000),
        "FULL200-20": (20_000, 2_000),
        "FULL300-50": (30_000, 5_000),
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_faults_expire_on_their_own_and_can_be_removed() -> None:
    clock = FakeClock()
    faults = FaultRegistry(clock=clock)
    first = faults.add("latency", "*", 0.5, 10)
    second = faults.add("stall", "pay", 1.0, 100)
    assert {f.fault_id for f in faults.active()} == {first.fault_id, second.fault_id}
    clock.now += 10
    assert [f.fault_id for f in faults.active()] == [second.fault_id]
    assert faults.remove(second.fault_id)
    assert not faults.remove(second.fault_id)
    faults.add("coupon_5xx", "*", 0, 5)
    assert faults.clear() == 1 and faults.active() == []


def test_fault_scopes_follow_templates_and_step_names() -> None:
    faults = FaultRegistry()
    faults.add("latency", "pay", 0.2, 60)
    faults.add("latency", "/api/orders/{order_id}/pay", 0.3, 60)
    faults.add("latency", "checkout", 5, 60)
    assert faults.total("latency", fault_scopes("/api/orders/{order_id}/pay")) == pytest.approx(0.5)
    assert faults.total("latency", fault_scopes("/api/products")) == 0
    faults.add("stall", "*", 1, 60)
    assert faults.total("stall", fault_scopes("/api/products")) == 1
    # "*" never reaches health, metrics or admin
    assert faults.total("stall", fault_scopes("/healthz")) == 0
    assert fault_scopes("/metrics") == () and fault_scopes("/admin/faults") == ()


@pytest.mark.parametrize(
    ("kind", "value", "duration"),
    [
        ("meteor", 1, 10),
        ("latency", -1, 10),
        ("latency", 0.1, 0),
        ("latency", 0.1, 3601),
        ("error_rate", 1.5, 10),
        ("capacity_limit", 0, 10),
        ("stall", 600, 10),
        ("latency", float("nan"), 10),
    ],
)
def test_bad_fault_specs_are_refused(kind: str, value: float, duration: float) -> None:
    with pytest.raises(FaultSpecError):
        FaultRegistry().add(kind, "*", value, duration)


def test_error_rate_fails_about_that_share() -> None:
    faults = FaultRegistry(seed=3)
    faults.add("error_rate", "*", 0.25, 60)
    failures = sum(faults.should_fail(("*",)) for _ in range(4_000))
    assert 850 < failures < 1_150


def test_capacity_limit_delay_grows_with_overload() -> None:
    faults = FaultRegistry()
    faults.add("capacity_limit", "*", 100, 60)
    # 50 requests at once against 100 req/s: the last waits about 0.49 s
    delays = [faults.admission_delay(("*",)) for _ in range(50)]
    assert delays[0] == pytest.approx(0, abs=1e-3)
    assert delays[-1] == pytest.approx(0.49, abs=0.02)
    assert all(b is not None and a is not None and b >= a for a, b in itertools.pairwise(delays))
    # past MAX_QUEUE_WAIT_S of queue, requests are shed
    assert any(faults.admission_delay(("*",)) is None for _ in range(2_000))


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.5.0.9") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("testclient")
