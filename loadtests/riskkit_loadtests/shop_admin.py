"""Admin calls the riskkit process makes itself (plain urllib: no gevent here).

Only the flash sale needs them: set the hot SKU's stock before T0, and read the
shop's own counters afterwards to prove it never oversold.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from riskkit.errors import InvalidRun
from riskkit_loadtests.apimap import ApiMap, StepSpec, render_template
from riskkit_loadtests.gates import GateResult

__all__ = ["ShopAdmin"]


class ShopAdmin:
    def __init__(self, base_url: str, api_map: ApiMap, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_map = api_map
        self.timeout_s = timeout_s

    def _call(self, spec: StepSpec, variables: dict[str, Any]) -> Any:
        admin = self.api_map.admin
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if admin is not None:
            headers.update(
                {k: str(render_template(v, variables)) for k, v in admin.headers.items()}
            )
        body = None
        if spec.json_body is not None:
            body = json.dumps(render_template(spec.json_body, variables)).encode()
        request = urllib.request.Request(  # noqa: S310  (the URL was checked: loopback or --allow-remote)
            self.base_url + str(render_template(spec.path, variables)),
            data=body,
            headers=headers,
            method=spec.method,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise InvalidRun(f"admin call {spec.method} {spec.path} failed: {exc}") from exc

    def prepare_flash_sale(self, stock: int) -> dict[str, Any]:
        """Set the hot SKU's stock (when the map has ``admin.set_stock``)."""
        admin = self.api_map.admin
        state: dict[str, Any] = {"hot_sku": self.api_map.hot_sku, "initial_stock": None}
        if admin is None or admin.set_stock is None:
            return state
        self._call(admin.set_stock, {"sku_id": self.api_map.hot_sku, "stock": stock})
        state["initial_stock"] = stock
        return state

    def flash_sale_invariants(
        self, state: dict[str, Any], counters: dict[str, int]
    ) -> tuple[dict[str, Any], list[GateResult]]:
        """Stock never below zero, never more sold than stocked, sold = paid orders."""
        created = counters.get("hot_orders_created", 0)
        paid = counters.get("hot_orders_paid", 0)
        facts: dict[str, Any] = {
            **state,
            "orders_created": created,
            "orders_paid": paid,
            "sold_out_refusals": counters.get("hot_sold_out", 0),
        }
        gates: list[GateResult] = []
        admin = self.api_map.admin
        initial = state.get("initial_stock")
        if admin is None or admin.stats is None or initial is None:
            facts["note"] = "no admin stats in the API map: only client-side counts"
            return facts, gates
        stats = self._call(admin.stats, {})
        hot = self.api_map.hot_sku
        stock_left = (stats.get(admin.stats_stock_field) or {}).get(hot)
        sold = (stats.get(admin.stats_sold_field) or {}).get(hot)
        facts.update({"stock_left": stock_left, "sold": sold})

        def gate(
            gate_id: str, description: str, observed: float | None, limit: float, ok: bool
        ) -> None:
            gates.append(
                GateResult(
                    gate_id=gate_id,
                    kind="invariant",
                    subject="flash-sale",
                    description=description,
                    limit=limit,
                    observed=observed,
                    unit="",
                    passed=ok,
                )
            )

        gate("flash_sale.stock_non_negative", "hot SKU stock ends >= 0",
             stock_left, 0, stock_left is not None and stock_left >= 0)  # fmt: skip
        gate("flash_sale.not_oversold", f"hot SKU sold <= stock ({initial})",
             sold, float(initial), sold is not None and sold <= initial and created <= initial)  # fmt: skip
        gate("flash_sale.sold_equals_paid", "hot SKU sold = paid orders",
             sold, float(paid), sold is not None and sold == paid)  # fmt: skip
        return facts, gates
