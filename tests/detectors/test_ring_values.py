"""A ring's quiet accounts: on the studio's band of phone numbers and buying
its SKU, but showing no sign of their own.  The band's holders are weighed
together: far more of them bought the ring's SKU than other accounts do."""

from __future__ import annotations

import re

import pandas as pd
from test_ring_evidence import START, _flagged, honest_shop, ring_order

from riskkit_detectors.brushing import BrushingDetector


def _studio(loud: int, quiet: int) -> pd.DataFrame:
    """``loud`` accounts buy SKU950, which the shop otherwise never sells,
    within six hours and pay within two seconds; ``quiet`` ones buy it over
    the following week and pay like anyone.  All write numbers of one SIM
    batch (139 0000 0000 onwards, every third number)."""
    rows = []
    for a in range(loud + quiet):
        if a < loud:
            created = START + pd.Timedelta(days=9, minutes=35 * a)
            paid = created + pd.Timedelta(seconds=2)
        else:
            created = START + pd.Timedelta(days=11 + (a - loud) % 7, hours=3 * (a - loud))
            paid = created + pd.Timedelta(minutes=4)
        rows.append(
            ring_order(
                f"S{a}",
                f"s{a}",
                created,
                paid,
                "SKU950",
                f"1390000{3 * a:04d}",
                f"苏州市姑苏区人民路{a + 1}号{a % 9 + 1}栋{a % 4 + 1}单元{a + 201}室",
            )
        )
    return pd.DataFrame(rows)


def test_quiet_accounts_on_the_rings_phone_band_are_its_members() -> None:
    honest = honest_shop(seed=5)
    ring = _studio(10, 10)
    detector = BrushingDetector().fit(pd.concat([honest, ring], ignore_index=True))
    flagged = _flagged(detector)
    assert flagged[ring["order_id"]].all()
    assert not flagged[honest["order_id"]].any()
    (finding,) = detector.result_.findings
    match = re.search(
        r"(\d+) of the (\d+) accounts on near-sequential phones \S+ bought the group's SKUs; "
        r"in this export ([\d.]+) % of other accounts do",
        finding["reasons"],
    )
    assert match is not None, finding["reasons"]
    assert match.group(1) == match.group(2) == "20"
