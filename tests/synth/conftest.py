from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskkit.synth import SynthData, generate, write_dataset

ROWS = 20_000
SEED = 11


@pytest.fixture(scope="session")
def synth() -> SynthData:
    return generate(ROWS, SEED)


@pytest.fixture(scope="session")
def order_level(synth: SynthData) -> pd.DataFrame:
    """First line of each order (carries the order-level amounts) joined with its labels."""
    first = synth.orders.drop_duplicates("order_id", keep="first")
    return first.merge(synth.labels, on="order_id", how="left", validate="one_to_one")


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synth")
    out = {}
    for fmt in ("riskkit", "shopify", "taobao"):
        write_dataset(root / fmt, rows=6_000, seed=5, fmt=fmt)
        out[fmt] = root / fmt
    return out
