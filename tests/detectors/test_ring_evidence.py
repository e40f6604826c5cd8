"""Evidence weighed against the export's background: a ring showing only two
signs is found; honest look-alikes whose signs are common in the export are not."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from riskkit_detectors.brushing import BrushingDetector
from riskkit_detectors.evidence import Line, bh_qvalues, combine_families, score_of_q

START = pd.Timestamp("2026-10-01 08:00")


def _ordinary_order(
    rng: np.random.Generator,
    order_id: str,
    buyer: str,
    address: str,
    sku_of: Callable[[], str],
    phone_of: Callable[[], str],
) -> dict[str, object]:
    """One honest order at a random time of the 20 days, paid within 15 minutes."""
    created = START + pd.Timedelta(minutes=int(rng.integers(0, 20 * 1440)))
    return {
        "order_id": order_id,
        "buyer_id": buyer,
        "created_at": created,
        "paid_at": created + pd.Timedelta(seconds=int(rng.integers(20, 900))),
        "shop_id": "S1",
        "sku_id": sku_of(),
        "ship_phone": phone_of(),
        "ship_address": address,
        "carrier": "中通快递",
        "amount_paid": float(rng.integers(30, 300)),
    }


def ring_order(
    order_id: str,
    buyer: str,
    created: pd.Timestamp,
    paid: pd.Timestamp,
    sku: str,
    phone: str,
    address: str,
    **extra: object,
) -> dict[str, object]:
    """One order of a ring at shop S1, shipped by 中通 for ¥59 (``extra`` adds columns)."""
    return {
        "order_id": order_id,
        "buyer_id": buyer,
        "created_at": created,
        "paid_at": paid,
        "shop_id": "S1",
        "sku_id": sku,
        "ship_phone": phone,
        "ship_address": address,
        "carrier": "中通快递",
        "amount_paid": 59.0,
        **extra,
    }


def honest_shop(n_accounts: int = 600, seed: int = 3, batch_waybills: bool = False) -> pd.DataFrame:
    """Honest buyers of 80 SKUs of one shop over 20 days; optionally the shop
    prints its waybills in one batch, so its parcels are numbered consecutively."""
    rng = np.random.default_rng(seed)
    rows = [
        _ordinary_order(
            rng,
            f"H{a}-{k}",
            f"h{a}",
            f"杭州市西湖区文{a}路{a % 97}号{a % 13}栋{a % 7}单元{a}室",
            lambda: f"SKU{int(rng.integers(0, 80)):03d}",
            lambda: f"13{int(rng.integers(10**8, 10**9 - 1)):09d}",
        )
        for a in range(n_accounts)
        for k in range(int(rng.integers(1, 4)))
    ]
    frame = pd.DataFrame(rows).sort_values("created_at", ignore_index=True)
    if batch_waybills:
        frame["tracking_no"] = [f"7531{1000000 + i:08d}" for i in range(len(frame))]
    else:
        frame["tracking_no"] = [f"7531{int(v):08d}" for v in rng.choice(10**8, len(frame), False)]
    return frame


def two_sign_ring() -> pd.DataFrame:
    """Eight accounts each ordering one SKU three times within a few hours and
    paying within two seconds: no shared device, phone, IP or address."""
    rows = []
    for a in range(8):
        for k in range(3):
            created = START + pd.Timedelta(days=9, minutes=40 * a + 10 * k)
            rows.append(
                {
                    "order_id": f"R{a}-{k}",
                    "buyer_id": f"r{a}",
                    "created_at": created,
                    "paid_at": created + pd.Timedelta(seconds=2),
                    "shop_id": "S1",
                    "sku_id": "SKU999",
                    "ship_phone": f"15{a}{'8' * 8}{a}",
                    "ship_address": f"成都市锦江区红星路{a}号{a}栋{a}单元{a}0{a}室",
                    "carrier": "中通快递",
                    "tracking_no": f"9999{a}{k}0000{a}",
                    "amount_paid": 59.0,
                }
            )
    return pd.DataFrame(rows)


def one_sku_buyers(
    prefix: str,
    created: list[pd.Timestamp],
    sku: str,
    addresses: list[str],
    waybill_prefix: str,
    amount: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One order each of one SKU by accounts sharing nothing (own phone, address, waybill)."""
    n = len(created)
    return pd.DataFrame(
        {
            "order_id": [f"{prefix.upper()}{i}" for i in range(n)],
            "buyer_id": [f"{prefix}{i}" for i in range(n)],
            "created_at": created,
            "shop_id": "S1",
            "sku_id": sku,
            "ship_phone": [f"17{int(v):09d}" for v in rng.integers(10**8, 10**9 - 1, n)],
            "ship_address": addresses,
            "carrier": "中通快递",
            "tracking_no": [f"{waybill_prefix}{int(v):08d}" for v in rng.choice(10**8, n, False)],
            "amount_paid": amount,
        }
    )


def _flagged(detector: BrushingDetector) -> pd.Series:
    scores = detector.result_.tables["scores.csv"].set_index("order_id")
    return scores["flagged"].eq("true")


def test_a_ring_with_only_two_signs_is_found() -> None:
    ring = two_sign_ring()
    orders = pd.concat([honest_shop(), ring], ignore_index=True)
    detector = BrushingDetector().fit(orders)
    flagged = _flagged(detector)
    assert flagged.loc[ring["order_id"]].all()
    assert not flagged.drop(ring["order_id"]).any()
    (finding,) = detector.result_.findings
    reasons = finding["reasons"]
    assert "convicted by" in reasons and "false-discovery q = " in reasons
    assert "accounts ordered the same SKU again in another order within 24 h" in reasons
    assert "accounts paid within 5 s of ordering" in reasons
    assert reasons.count("in this export") >= 2


def test_a_shop_printing_its_waybills_in_one_batch_is_not_a_ring() -> None:
    """Every parcel of the shop has a near-sequential waybill: it links no one."""
    orders = honest_shop(batch_waybills=True)
    detector = BrushingDetector().fit(orders)
    assert not _flagged(detector).any()
    assert detector.result_.findings == []


def test_one_sign_alone_convicts_no_one() -> None:
    """A household of five at one address, all paying at once: one family of
    evidence (a shared address) plus a sign one account in five shows."""
    orders = honest_shop()
    family = orders["buyer_id"].isin([f"h{i}" for i in range(5)])
    orders.loc[family, "ship_address"] = "杭州市西湖区文一路1号1栋1单元101室"
    detector = BrushingDetector().fit(orders)
    assert not _flagged(detector).any()


def test_two_families_are_needed_and_q_values_are_monotone() -> None:
    strong = np.array([1e-12, 1e-12, 1.0])
    lines = [
        Line("identity", "shared_identifiers", strong, {}),
        Line("payment", "instant_pay", np.array([1.0, 1e-9, 1e-9]), {}),
        Line("review", "instant_review", np.array([1.0, 1.0, 1e-9]), {}),
    ]
    group_p, _ = combine_families(lines, 3)
    # One family alone (group 0) is no conviction; two are (groups 1, 2).
    assert group_p[0] > 0.5
    assert group_p[1] < 1e-6 and group_p[2] < 1e-6
    q = bh_qvalues(np.array([0.001, 0.01, 0.02, 0.5]))
    assert np.all(np.diff(q) >= 0) and q[-1] <= 1.0
    assert score_of_q(np.array([0.01]))[0] == 0.5


def _instant_payers(orders: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """A share of every kind of order paid within two seconds, as honest
    shoppers with a saved card pay."""
    rng = np.random.default_rng(seed)
    instant = rng.random(len(orders)) < share
    orders.loc[instant, "paid_at"] = orders.loc[instant, "created_at"] + pd.Timedelta(seconds=2)
    return orders


def test_an_office_sharing_a_reception_address_and_a_phone_block_is_not_a_ring() -> None:
    """Forty colleagues ship to the reception desk from the company's block of
    numbers and buy whatever they like: linked, but concentrated on no SKU."""
    orders = honest_shop()
    office = orders["buyer_id"].isin([f"h{i}" for i in range(40)])
    number = {f"h{i}": f"1865710{4000 + 7 * i:04d}" for i in range(40)}
    orders.loc[office, "ship_address"] = "深圳市南山区科技园科苑路15号科兴科学园A栋前台"
    orders.loc[office, "ship_phone"] = orders.loc[office, "buyer_id"].map(number)
    orders = _instant_payers(orders, 0.2, seed=5)
    detector = BrushingDetector().fit(orders)
    assert not _flagged(detector).any()
    assert detector.result_.findings == []


def test_a_flash_sale_whose_buyers_pay_as_the_shop_usually_does_links_no_one() -> None:
    """A live-stream drop: 150 buyers take one SKU within two hours, a fifth of
    them paying at once, as a fifth of the shop's other buyers do."""
    rng = np.random.default_rng(11)
    created = [
        START + pd.Timedelta(days=12, seconds=int(s)) for s in np.sort(rng.integers(0, 7200, 150))
    ]
    drop = one_sku_buyers(
        "l",
        created,
        "SKU-LIVE",
        [f"武汉市洪山区珞喻路{i}号{i % 9}栋{i}室" for i in range(150)],
        "8842",
        39.9,
        rng,
    )
    drop["paid_at"] = drop["created_at"] + pd.to_timedelta(rng.integers(20, 600, 150), unit="s")
    orders = _instant_payers(pd.concat([honest_shop(), drop], ignore_index=True), 0.2, seed=7)
    detector = BrushingDetector().fit(orders)
    assert not _flagged(detector).any()


def _busy_office() -> pd.DataFrame:
    """Twenty-six colleagues order about seven times each to the reception desk
    from the company's block of numbers, each choosing among the 3,000 SKUs of
    the shop's wholesale range; a former colleague at home keeps a number in
    the block.  She and one colleague happen to buy the same SKU."""
    rng = np.random.default_rng(17)
    orders = honest_shop()
    rows = [
        _ordinary_order(
            rng,
            f"O{i}-{k}",
            f"o{i}",
            "深圳市南山区科技园科苑路15号科兴科学园A栋前台",
            lambda: f"SKU-W{int(rng.integers(0, 3000)):04d}",
            lambda i=i: f"1865710{4000 + 7 * i:04d}",
        )
        for i in range(26)
        for k in range(7)
    ]
    office = pd.DataFrame(rows)
    office["tracking_no"] = [f"3321{int(v):08d}" for v in rng.choice(10**8, len(office), False)]
    home = office.iloc[[0]].assign(
        order_id="X0",
        buyer_id="former",
        ship_phone="18657104190",
        ship_address="深圳市福田区莲花路2008号5栋3单元1201室",
        tracking_no="332199999999",
    )
    return pd.concat([orders, office, home], ignore_index=True)


def test_a_busy_office_whose_two_households_share_a_sku_is_not_a_ring() -> None:
    detector = BrushingDetector().fit(_busy_office())
    assert not _flagged(detector).any()
