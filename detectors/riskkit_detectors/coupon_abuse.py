"""Coupon abuse (薅羊毛): rings of fresh accounts farming new-user coupons.

Accounts are linked into an identity graph (device, phone and near-sequential
phones, normalised address, IP); identifiers shared by very many accounts
(carrier-grade NAT, a district's parcel station) link nobody, and masked
values are unknown.  Each connected group is scored on its registration
burst, the share of accounts that redeemed a new-user coupon, order values
just over the coupon threshold and churn after redeeming
(:mod:`riskkit_detectors.coupon_groups`).
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from riskkit.detection import Detector, DetectorOption
from riskkit_detectors.brushing_features import phone_run_labels, phone_runs
from riskkit_detectors.coupon_burst_members import arrival_traits
from riskkit_detectors.coupon_features import account_facts
from riskkit_detectors.coupon_groups import score_coupon_groups
from riskkit_detectors.coupon_keys import redemption_batch_keys, station_redemption_key
from riskkit_detectors.coupon_scan import redemption_bursts
from riskkit_detectors.identity import (
    IdentityKey,
    LazyLabels,
    address_key,
    build_identity_graph,
    describe_value,
    ip24_key,
    is_drop_point_key,
    phone_key,
    sku_bursts,
)
from riskkit_detectors.order_view import ItemIndex, build_order_view
from riskkit_detectors.sections import publish_rings
from riskkit_detectors.strings import TextCodes, factorize_text, normalised_codes

__all__ = ["CouponAbuseDetector"]


class CouponAbuseDetector(Detector):
    """Find coupon-abuse rings and their orders.

    Parameters
    ----------
    threshold
        Flag the orders of groups scoring at least this (0-1).
    min_accounts
        Smallest group (accounts) that can be flagged; households of up to
        five people share an address and a router.
    coupons
        Comma-separated new-user coupon codes; by default, codes redeemed on
        an account's first order at least 90% of the time.
    burst_minutes
        Accounts registered within this many minutes of their group's median
        registration form a registration burst.
    near_threshold_ratio
        An order value up to this multiple of the coupon threshold is "just over".
    churn_days
        Churn is judged only for redemptions at least this long before the
        export ends.
    max_shared_accounts
        An identifier shared by more accounts links nobody (devices: ten times more).
    show_pii
        Name identifiers unmasked in reasons.
    random_state
        Seed (the detector is deterministic; kept for the estimator contract).
    """

    name: ClassVar[str] = "coupon-abuse"
    description: ClassVar[str] = "Coupon abuse (薅羊毛): rings of fresh accounts farming coupons."
    options: ClassVar[tuple[DetectorOption, ...]] = (
        DetectorOption("threshold", float, 0.5, "Flag groups scoring at least this (0-1)."),
        DetectorOption("min_accounts", int, 5, "Smallest ring (accounts) that can be flagged."),
        DetectorOption(
            "coupons", str, "", "New-user coupon codes, comma-separated (default: detected)."
        ),
        DetectorOption(
            "burst_minutes", float, 60.0, "Registration burst window around a group's median."
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
        min_accounts: int = 5,
        coupons: str = "",
        burst_minutes: float = 60.0,
        near_threshold_ratio: float = 1.12,
        churn_days: float = 3.0,
        max_shared_accounts: int = 50,
        phone_gap: int = 100,
        show_pii: bool = False,
        random_state: int = 0,
    ) -> None:
        self.threshold = threshold
        self.min_accounts = min_accounts
        self.coupons = coupons
        self.burst_minutes = burst_minutes
        self.near_threshold_ratio = near_threshold_ratio
        self.churn_days = churn_days
        self.max_shared_accounts = max_shared_accounts
        self.phone_gap = phone_gap
        self.show_pii = show_pii
        self.random_state = random_state

    def fit(self, orders: pd.DataFrame) -> Self:
        view = build_order_view(orders)
        n = len(view)
        buyer_codes = factorize_text(view.orders["buyer_id"])
        buyer = np.where(buyer_codes.codes >= 0, buyer_codes.codes, len(buyer_codes))
        n_buyers = int(buyer.max()) + 1 if n else 0
        codes = tuple(c.strip() for c in self.coupons.split(",") if c.strip()) or None
        facts = account_facts(
            view, buyer, n_buyers, codes, self.near_threshold_ratio, self.churn_days
        )
        unavailable = dict(facts.unavailable)
        keys = self._keys(view, buyer, unavailable)
        keys.extend(self._coupon_burst_keys(view, buyer, facts))
        cap = 4 * self.max_shared_accounts
        keys.extend(redemption_batch_keys(view, buyer, facts, self.burst_minutes * 60.0, cap))
        station = next((k for k in keys if k.kind == "station"), None)
        if station is not None:
            keys.extend(
                station_redemption_key(view, buyer, facts, station.codes, station.values, cap)
            )
        bursts, in_audience = redemption_bursts(view, buyer, facts, cap, self.min_accounts)
        if bursts is not None:
            keys.append(bursts.key)
        graph = build_identity_graph(n_buyers, keys)
        groups = score_coupon_groups(
            view=view,
            buyer=buyer,
            graph=graph,
            keys={k.kind: k for k in keys},
            facts=facts,
            threshold=self.threshold,
            min_accounts=self.min_accounts,
            burst_minutes=self.burst_minutes,
            show_pii=self.show_pii,
            bursts=bursts,
            traits=arrival_traits(view.orders, phone_codes(keys)),
            in_audience=in_audience,
        )
        summary: dict[str, Any] = {
            "orders": n,
            "accounts": n_buyers,
            "new_user_coupons": facts.coupons,
            "coupon_threshold": None if np.isnan(facts.threshold) else facts.threshold,
            "redeeming_accounts": int(facts.redeemed.sum()),
            "redemption_bursts": 0 if bursts is None else len(bursts.p),
        }
        publish_rings(
            self, view, groups, "Coupon-abuse rings", "coupon_section.html", summary, unavailable
        )
        return self

    def _keys(self, view: Any, buyer: np.ndarray, unavailable: dict[str, str]) -> list[IdentityKey]:
        orders = view.orders
        cap = self.max_shared_accounts
        keys: list[IdentityKey] = []
        device = factorize_text(orders["device_id"])
        ips = factorize_text(orders["ip"])
        phones = normalised_codes(factorize_text(orders["ship_phone"]), phone_key)
        addresses = normalised_codes(factorize_text(orders["ship_address"]), address_key)
        stations = np.append(is_drop_point_key(addresses.values), False)
        for kind, codes, limit, missing in (
            ("device", device, 10 * cap, "no device_id column (shared devices unknown)"),
            ("phone", phones, cap, "no unmasked ship_phone values"),
            ("ip", ips, cap, "no ip column (shared IPs and /24 subnets unknown)"),
        ):
            if (codes.codes >= 0).any():
                keys.append(IdentityKey(kind, buyer, codes.codes, codes.values, limit))
            else:
                unavailable[kind] = missing
        if (addresses.codes >= 0).any():
            # A parcel station serves a district: it links a handful of accounts at most.
            at_station = (addresses.codes >= 0) & stations[np.maximum(addresses.codes, 0)]
            home = np.where(at_station, -1, addresses.codes)
            station = np.where(at_station, addresses.codes, -1)
            keys.append(IdentityKey("address", buyer, home, addresses.values, 4 * cap))
            # Parcel stations serve a whole district: they link nobody.
            keys.append(IdentityKey("station", buyer, station, addresses.values, 1))
        else:
            unavailable["address"] = "no unmasked ship_address values"
        runs = phone_runs(phones, self.phone_gap)
        if (runs >= 0).any():
            run_values = phone_run_labels(phones, runs, self.show_pii)
            # Chance puts two honest numbers close together; five in one run is a batch.
            keys.append(IdentityKey("phone_run", buyer, runs, run_values, 4 * cap, 5))
        subnet = normalised_codes(ips, ip24_key)
        ip24 = subnet.codes
        keys_ip24 = IdentityKey("ip24", buyer, ip24, subnet.values, 0)
        keys.extend(
            self._subnet_hour_keys(view, buyer, ip24, subnet.values, 4 * cap, self.min_accounts)
        )
        return [*keys, keys_ip24]

    def _coupon_burst_keys(self, view: Any, buyer: np.ndarray, facts: Any) -> list[IdentityKey]:
        """Redemptions just over the threshold, bunched on one SKU that otherwise
        barely sells: a batch of accounts working one listing together."""
        items = ItemIndex(view)
        line_order = view.lines["order_pos"].to_numpy()
        created = view.orders["created_at"]
        seconds = (created - created.min()).dt.total_seconds().to_numpy(dtype=float)
        burst = sku_bursts(items.codes, seconds[line_order], 72 * 3600.0, self.min_accounts, 0.3)
        near = facts.near_threshold_order[line_order]
        burst = np.where(near, burst, -1)
        if not (burst >= 0).any():
            return []
        return [
            IdentityKey(
                "coupon_burst",
                buyer[line_order],
                burst,
                items,
                4 * self.max_shared_accounts,
                self.min_accounts,
            )
        ]

    def _subnet_hour_keys(
        self,
        view: Any,
        buyer: np.ndarray,
        ip24: np.ndarray,
        subnets: Any,
        cap: int,
        min_accounts: int,
    ) -> list[IdentityKey]:
        """Accounts registered in the same hour from the same /24.

        A /24 alone holds dozens of unrelated households; a /24 in which a
        batch of accounts was registered within the hour is one operator.
        Two half-hour-shifted grids keep a batch that straddles the hour.
        """
        registered = view.orders["buyer_registered_at"]
        if not registered.notna().any() or not (ip24 >= 0).any():
            return []
        origin = registered.min()
        seconds = (registered - origin).dt.total_seconds().to_numpy()
        # A /24 with more accounts than the cap is a carrier NAT pool: no link.
        present = ip24 >= 0
        pairs = pd.DataFrame({"b": buyer[present], "s": ip24[present]}).drop_duplicates()
        per_subnet = np.bincount(pairs["s"].to_numpy(), minlength=int(ip24.max()) + 1)
        ip24 = np.where(present & (per_subnet[np.maximum(ip24, 0)] <= cap), ip24, -1)
        keys: list[IdentityKey] = []
        for shift in (0.0, 1800.0):
            hour = np.floor((seconds + shift) / 3600.0)
            valid = (ip24 >= 0) & np.isfinite(hour)
            pair = np.where(valid, ip24 * 1_000_000 + np.nan_to_num(hour), -1).astype(np.int64)
            codes, uniques = pd.factorize(pair)
            codes = np.where(pair >= 0, codes, -1).astype(np.int64)
            labels = LazyLabels(
                len(uniques),
                partial(
                    _subnet_hour_label,
                    subnets=subnets,
                    uniques=np.asarray(uniques),
                    shift=shift,
                    origin=origin,
                    show_pii=self.show_pii,
                ),
            )
            kind = "ip24_hour" if shift == 0.0 else "ip24_half_hour"
            keys.append(
                IdentityKey(
                    kind,
                    buyer,
                    codes,
                    labels,
                    cap,
                    min_accounts,
                    counts_toward_degree=shift == 0.0,
                )
            )
        return keys


def phone_codes(keys: list[IdentityKey]) -> TextCodes | None:
    """The normalised phone numbers the phone key links by, if any."""
    phone = next((k for k in keys if k.kind == "phone"), None)
    return None if phone is None else TextCodes(phone.codes, phone.values)


def _subnet_hour_label(
    code: int,
    subnets: Any,
    uniques: np.ndarray,
    shift: float,
    origin: pd.Timestamp,
    show_pii: bool,
) -> str:
    value = int(uniques[code])
    subnet = describe_value("ip24", subnets[value // 1_000_000], show_pii)
    hour = float(value % 1_000_000)
    start = origin.floor("h") + pd.Timedelta(hours=hour) - pd.Timedelta(seconds=shift)
    return f"{subnet} in the hour from {start:%Y-%m-%d %H:%M}"
