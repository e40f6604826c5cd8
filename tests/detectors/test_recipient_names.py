"""Recipients written as a surname and a title (王先生, 李女士): a studio's
habit when it fills in a hundred addresses, and some honest buyers' too.  The
sign weighs only as much as it is rare among the export's other accounts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_ring_evidence import START, _flagged, honest_shop, ring_order

from riskkit_detectors.brushing import BrushingDetector

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
TITLES = ("先生", "女士", "小姐")


def _titled(rng: np.random.Generator, n: int) -> list[str]:
    return [
        SURNAMES[int(rng.integers(0, len(SURNAMES)))] + TITLES[int(rng.integers(0, 3))]
        for _ in range(n)
    ]


def _named(orders: pd.DataFrame, titled_share: float, seed: int) -> pd.DataFrame:
    """Each honest account writes its recipient one way on every order: a full
    name, or (``titled_share`` of accounts) a surname and a title."""
    rng = np.random.default_rng(seed)
    orders = orders.copy()
    buyers = orders["buyer_id"].unique()
    titled = rng.random(len(buyers)) < titled_share
    full = [
        f"{SURNAMES[i % len(SURNAMES)]}{'建华明丽芳伟'[i % 6]}{'国强敏静'[i % 4]}"
        for i in range(len(buyers))
    ]
    name = np.where(titled, _titled(rng, len(buyers)), full)
    orders["ship_name"] = orders["buyer_id"].map(dict(zip(buyers, name, strict=True)))
    return orders


def _titled_ring(n_accounts: int, seed: int) -> pd.DataFrame:
    """Fresh one-order accounts, each its own phone and address, buy a SKU the
    shop otherwise never sells within six hours, every recipient a title."""
    rng = np.random.default_rng(seed)
    names = _titled(rng, n_accounts)
    rows = []
    for a in range(n_accounts):
        created = START + pd.Timedelta(days=11, seconds=int(rng.integers(0, 6 * 3600)))
        rows.append(
            ring_order(
                f"T{a}",
                f"t{a}",
                created,
                created + pd.Timedelta(seconds=int(rng.integers(30, 600))),
                "SKU900",
                f"13{int(rng.integers(10**8, 10**9 - 1)):09d}",
                f"南京市鼓楼区中山路{a + 1}号{a % 7 + 1}栋{a + 101}室",
                ship_name=names[a],
            )
        )
    return pd.DataFrame(rows)


def test_a_burst_whose_recipients_are_all_titles_is_a_ring() -> None:
    """Two signs: a burst on a SKU nobody else buys, and titles where 2 % of
    the shop's accounts write one."""
    honest = _named(honest_shop(seed=8), 0.02, seed=1)
    ring = _titled_ring(12, seed=4)
    flagged = _flagged(BrushingDetector().fit(pd.concat([honest, ring], ignore_index=True)))
    assert flagged[ring["order_id"]].all()
    assert not flagged.drop(ring["order_id"]).any()


def test_where_a_quarter_of_buyers_write_titles_a_flash_sale_is_no_ring() -> None:
    """Forty honest buyers in an hour's flash sale, a quarter of them writing
    a title as everybody in this shop does: nobody is flagged."""
    rng = np.random.default_rng(3)
    honest = honest_shop(seed=8)
    sale = honest.drop_duplicates("buyer_id").sample(40, random_state=5).index
    honest.loc[sale, "sku_id"] = "SKU900"
    honest.loc[sale, "created_at"] = (
        START + pd.Timedelta(days=11) + pd.to_timedelta(rng.integers(0, 3600, 40), unit="s")
    )
    honest.loc[sale, "paid_at"] = honest.loc[sale, "created_at"] + pd.Timedelta(seconds=90)
    orders = _named(honest, 0.25, seed=2)
    assert not _flagged(BrushingDetector().fit(orders)).any()
