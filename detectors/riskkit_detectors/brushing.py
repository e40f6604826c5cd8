"""Brushing (刷单): fake orders placed by rings of linked accounts.

How it works, in three steps, all vectorised:

1. Per-order facts (:mod:`riskkit_detectors.brushing_features`): instant
   payment, empty parcel signed for a day later, instant five-star review,
   young account, virtual-operator phone, near-sequential waybill.
2. Groups: buyers linked by a shared device, phone, IP, normalised address,
   near-sequential phones or waybills (identifiers shared by too many
   accounts link nobody), merged with dense buyer x SKU blocks found by
   FRAUDAR-style peeling in short time windows
   (:mod:`riskkit_detectors.dense_block`).
3. Each group is scored from its members' behaviour, how much of a SKU's
   sales it carries, and how it is linked; every order of a flagged group is
   flagged (rings hide behind ordinary orders on popular SKUs; those orders
   are the ring's too) with the facts that convict the group as reasons.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from riskkit.detection import Detector, DetectorOption
from riskkit_detectors.brushing_evidence import scanned_signs
from riskkit_detectors.brushing_features import (
    DAY,
    identity_keys,
    order_facts,
    repeat_links,
    repeat_sku_indicator,
)
from riskkit_detectors.brushing_groups import BrushingGroups, score_groups
from riskkit_detectors.dense_block import find_dense_blocks
from riskkit_detectors.evidence_bursts import burst_regulars, sku_surges, telling_bursts
from riskkit_detectors.identity import (
    IdentityKey,
    build_identity_graph,
    linked_accounts,
    linked_only_among,
    sku_bursts,
)
from riskkit_detectors.order_view import ItemIndex, build_order_view
from riskkit_detectors.sections import publish_rings
from riskkit_detectors.sign_surges import find_sign_surges, surge_windows

__all__ = ["BrushingDetector"]

# Longest window a sign surge is sought in: a studio brushes a SKU for a week.
_SIGN_SURGE_DAYS = 8.0


class BrushingDetector(Detector):
    """Find brushing rings and their fake orders.

    Parameters
    ----------
    threshold
        Flag the orders of groups whose score is at least this (0-1).
    min_accounts
        Smallest group (distinct buyer accounts) that can be flagged.
    window_days
        Length of the windows in which dense buyer x SKU blocks are sought.
    young_account_days
        An account younger than this at order time counts as young.
    instant_pay_seconds
        Payment this soon after ordering counts as instant.
    quick_receipt_days
        A parcel signed for this soon after payment is suspiciously fast
        (an empty parcel, 空包).
    quick_ship_hours
        An order shipped this soon after payment was not picked and packed:
        an empty parcel's waybill is bought, not earned.
    instant_review_hours
        A five-star review this soon after receipt counts as instant.
    max_shared_accounts
        An identifier (phone, IP, address) shared by more accounts than this
        links nobody (carrier-grade NAT, parcel stations); devices allow ten times more.
    show_pii
        Name identifiers unmasked in reasons.
    random_state
        Seed (the detector is deterministic; kept for the estimator contract).
    """

    name: ClassVar[str] = "brushing"
    description: ClassVar[str] = "Fake orders (刷单) placed by rings of linked accounts."
    options: ClassVar[tuple[DetectorOption, ...]] = (
        DetectorOption("threshold", float, 0.5, "Flag groups scoring at least this (0-1)."),
        DetectorOption("min_accounts", int, 3, "Smallest ring (accounts) that can be flagged."),
        DetectorOption("window_days", float, 2.0, "Dense-block window length in days."),
        DetectorOption(
            "young_account_days", float, 30.0, "Accounts younger than this (days) count as young."
        ),
        DetectorOption(
            "max_shared_accounts",
            int,
            50,
            "An identifier shared by more accounts links nobody (CGNAT, parcel stations).",
        ),
    )

    def __init__(
        self,
        threshold: float = 0.5,
        min_accounts: int = 3,
        window_days: float = 2.0,
        young_account_days: float = 30.0,
        instant_pay_seconds: float = 5.0,
        quick_receipt_days: float = 2.0,
        quick_ship_hours: float = 2.0,
        instant_review_hours: float = 12.0,
        max_shared_accounts: int = 50,
        block_min_density: float = 0.6,
        burst_hours: float = 24.0,
        burst_min_orders: int = 8,
        phone_gap: int = 100,
        waybill_gap: int = 3,
        show_pii: bool = False,
        random_state: int = 0,
    ) -> None:
        self.threshold = threshold
        self.min_accounts = min_accounts
        self.window_days = window_days
        self.young_account_days = young_account_days
        self.instant_pay_seconds = instant_pay_seconds
        self.quick_receipt_days = quick_receipt_days
        self.quick_ship_hours = quick_ship_hours
        self.instant_review_hours = instant_review_hours
        self.max_shared_accounts = max_shared_accounts
        self.block_min_density = block_min_density
        self.burst_hours = burst_hours
        self.burst_min_orders = burst_min_orders
        self.phone_gap = phone_gap
        self.waybill_gap = waybill_gap
        self.show_pii = show_pii
        self.random_state = random_state

    def fit(self, orders: pd.DataFrame) -> Self:
        view = build_order_view(orders)
        n = len(view)
        buyer, buyer_values = pd.factorize(view.orders["buyer_id"].fillna("<no buyer>"))
        buyer = buyer.astype(np.int64)
        n_buyers = len(buyer_values)
        facts = order_facts(
            view,
            self.young_account_days,
            self.instant_pay_seconds,
            self.quick_receipt_days,
            self.instant_review_hours,
            self.waybill_gap,
            self.quick_ship_hours,
        )
        behaviour = facts.behaviour()
        keys = identity_keys(
            view, buyer, facts, self.max_shared_accounts, self.phone_gap, self.show_pii
        )
        unavailable = dict(facts.unavailable)

        line_order = view.lines["order_pos"].to_numpy()
        item_values = ItemIndex(view)
        item = item_values.codes
        created = view.orders["created_at"]
        seconds = (created - created.min()).dt.total_seconds().to_numpy(dtype=float)
        line_buyer = buyer[line_order]
        line_time = seconds[line_order] if n else np.zeros(0)
        pairs = pd.DataFrame({"b": line_buyer, "i": item}).drop_duplicates()
        item_degree = np.bincount(pairs["i"].to_numpy(), minlength=len(item_values)).astype(float)
        if n and len(item_values) > 1:
            repeat_sku = repeat_sku_indicator(
                line_buyer, item, line_time, line_order, n, DAY, facts.addresses.codes
            )
            facts.indicators.append(repeat_sku)
            repeat_key = repeat_links(
                repeat_sku.hit,
                line_buyer,
                item,
                item_values,
                line_order,
                created,
                4 * self.max_shared_accounts,
            )
            if repeat_key is not None:
                keys.append(repeat_key)

        several = np.zeros(n_buyers, dtype=bool)
        shop_code = pd.factorize(view.orders["shop_id"].astype("object").fillna("<none>"))[0]
        shop_code = shop_code.astype(np.int64)
        # An item's surge: its orders in some window far beyond its own sales
        # elsewhere, scaled by its shop's traffic (a shop-wide promotion is none).
        burst = sku_surges(
            item,
            line_time,
            shop_code[line_order],
            surge_windows(self.burst_hours * 3600.0),
            self.burst_min_orders,
        )
        # A burst on an item that otherwise barely sells (most of its sales in
        # one window) holds few bystanders: its buyers are linked whatever else
        # links them.  A surge on an item that sells every day holds regulars.
        lone_burst = (
            sku_bursts(item, line_time, self.burst_hours * 3600.0, self.burst_min_orders, 0.5) >= 0
        )
        # An ordinary buyer who happened to buy the SKU during the burst is not
        # linked by it: only burst orders that show a tell-tale sign, or buyers
        # with several orders in the burst, are.
        # Several orders in one shop's bursts, not one in each of several
        # shops': a busy customer's orders land in other shops' bursts by chance.
        line_shop = shop_code[line_order]
        burst_orders = pd.DataFrame({"b": line_buyer, "o": line_order, "s": line_shop, "k": burst})
        burst_orders = burst_orders[burst_orders["k"] >= 0].drop_duplicates(["b", "s", "o"])
        per_pair = burst_orders.groupby(["b", "s"])["o"].transform("size").to_numpy()
        repeated = burst_orders[per_pair >= 2]
        several[repeated["b"].to_numpy(dtype=np.int64)] = True
        n_shops = int(shop_code.max()) + 1 if n else 1
        line_several = (burst >= 0) & np.isin(
            line_buyer * n_shops + line_shop,
            repeated["b"].to_numpy(dtype=np.int64) * n_shops
            + repeated["s"].to_numpy(dtype=np.int64),
        )
        burst, line_told = telling_bursts(
            burst,
            line_order,
            facts.signs(),
            shop_code,
            item,
            lone_burst,
            line_buyer,
            facts.habits(),
        )
        burst = np.where(line_several | line_told, burst, -1)
        # Elsewhere a surge links only buyers nothing else links (an honest
        # regular who paid at once must not carry its household, dormitory or
        # office into a ring) and whose orders crowd into it.
        linked_before_bursts = linked_accounts(n_buyers, keys)
        keys_before_bursts = list(keys)
        bystander = linked_before_bursts[line_buyer]
        bystander |= burst_regulars(burst, line_buyer, line_order, shop_code)
        burst = np.where(bystander & ~lone_burst, -1, burst)
        if (burst >= 0).any():
            keys.append(
                IdentityKey(
                    "burst",
                    line_buyer,
                    burst,
                    item_values,
                    max_accounts=4 * self.max_shared_accounts,
                )
            )
        phrase_params = {
            "young": self.young_account_days,
            "pay": self.instant_pay_seconds,
            "receipt": self.quick_receipt_days,
            "ship": self.quick_ship_hours,
            "review": self.instant_review_hours,
        }
        first_time = created.min()
        surges = find_sign_surges(
            scanned_signs(facts, phrase_params),
            item,
            line_time,
            line_order,
            line_buyer,
            shop_code,
            surge_windows(_SIGN_SURGE_DAYS * DAY),
            self.burst_min_orders,
            lambda code: f"SKU {item_values[code]}",
            lambda s: (first_time + pd.Timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M"),
        )
        # Prior suspicion of a buyer: its behaviour and how it is linked.
        buyer_behaviour = np.divide(
            np.bincount(buyer, weights=behaviour, minlength=n_buyers),
            np.maximum(np.bincount(buyer, minlength=n_buyers), 1),
        )
        prior = 0.3 * buyer_behaviour
        blocks = (
            find_dense_blocks(
                line_buyer,
                item,
                line_time,
                prior,
                item_degree,
                window=self.window_days * 86_400.0,
                min_density=self.block_min_density,
                min_buyers=self.min_accounts,
            )
            if n and len(item_values) > 1
            else []
        )
        if not (view.lines["sku_id"].notna().any()):
            unavailable["dense_blocks"] = "no sku_id column (buyer x SKU blocks unknown)"
        if blocks:
            block_buyers = np.concatenate([b.buyers for b in blocks])
            block_codes = np.concatenate(
                [np.full(len(b.buyers), k, dtype=np.int64) for k, b in enumerate(blocks)]
            )
            keys.append(
                IdentityKey(
                    "block",
                    block_buyers,
                    block_codes,
                    pd.Index(np.arange(len(blocks))),
                    max_accounts=4 * self.max_shared_accounts,
                )
            )
        # A sign surge links only accounts nothing else links: an honest
        # colleague who signed for a parcel fast must not carry its office's
        # phone block into a ring.  Unless chance accounts for less than one
        # of the surge's sign-showing orders and what else links an account
        # links it only to accounts of such surges (a studio's accounts in
        # pairs at one address): then the surge holds no such colleague.
        surge_only = ~(
            linked_before_bursts
            | linked_accounts(n_buyers, [k for k in keys if k.kind in ("burst", "block")])
        )
        in_lone = np.zeros(n_buyers, dtype=bool)
        in_lone[surges.buyers[surges.lone[surges.codes]]] = True
        among_lone = linked_only_among(n_buyers, keys_before_bursts, in_lone)
        lone = surge_only[surges.buyers] | (surges.lone[surges.codes] & among_lone[surges.buyers])
        # Only the lone surges' orders of the accounts they link are fake
        # orders whoever placed them (see score_groups).
        linked_by_lone = np.zeros(n_buyers, dtype=bool)
        linked_by_lone[surges.buyers[lone & surges.lone[surges.codes]]] = True
        surges.lone_orders = surges.lone_orders[linked_by_lone[buyer[surges.lone_orders]]]
        if lone.any():
            keys.append(
                IdentityKey(
                    "sign_surge",
                    surges.buyers[lone],
                    surges.codes[lone],
                    surges.labels(),
                    max_accounts=4 * self.max_shared_accounts,
                    counts_toward_degree=False,
                )
            )
        graph = build_identity_graph(n_buyers, keys)
        groups: BrushingGroups = score_groups(
            view=view,
            buyer=buyer,
            component=graph.component,
            behaviour=behaviour,
            facts=facts,
            item=item,
            graph=graph,
            keys={k.kind: k for k in keys},
            blocks=blocks,
            item_values=item_values,
            threshold=self.threshold,
            min_accounts=self.min_accounts,
            show_pii=self.show_pii,
            burst_repeaters=several,
            phrase_params=phrase_params,
            surges=surges,
            surge_only=surge_only,
        )
        summary: dict[str, Any] = {
            "orders": n,
            "accounts": n_buyers,
            "dense_blocks": len(blocks),
            "indicators_used": [i.name for i in facts.indicators],
        }
        publish_rings(
            self, view, groups, "Brushing rings", "brushing_section.html", summary, unavailable
        )
        return self
