"""Everything one shop process holds: database, store, faults, gateways, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from riskkit.shop.catalog import seed_catalog
from riskkit.shop.config import ShopConfig
from riskkit.shop.db import Database
from riskkit.shop.faults import FaultRegistry
from riskkit.shop.gateway import PaymentGateways
from riskkit.shop.metrics import ShopMetrics
from riskkit.shop.payments import PaymentLedger
from riskkit.shop.store import ShopStore

__all__ = ["ShopState", "shop_state"]


@dataclass
class ShopState:
    """The live parts of one shop, built from a :class:`ShopConfig`."""

    config: ShopConfig
    database: Database = field(init=False)
    store: ShopStore = field(init=False)
    payments: PaymentLedger = field(init=False)
    faults: FaultRegistry = field(init=False)
    gateways: PaymentGateways = field(init=False)
    metrics: ShopMetrics = field(init=False)

    def __post_init__(self) -> None:
        self.database = Database(self.config.db_path, self.config.resolved_backup_dir)
        self.store = ShopStore(self.database)
        self.payments = PaymentLedger(self.database)
        self.store.seed(seed_catalog(self.config.seed_catalog, self.config.hot_stock))
        self.faults = FaultRegistry(seed=self.config.fault_seed)
        self.gateways = PaymentGateways(self.faults, self.config.gateway_latency_s)
        self.metrics = ShopMetrics(
            faults_active=lambda: len(self.faults.active()),
            database_up=lambda: not self.database.lost,
            active_gateway=lambda: self.gateways.active,
        )


def shop_state(request: Request) -> ShopState:
    state = request.app.state.shop
    assert isinstance(state, ShopState)
    return state
