"""Group-level helpers: per-group aggregates and reasons naming the shared keys."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from riskkit_detectors.identity import IdentityGraph, IdentityKey, describe_value

__all__ = ["group_mean", "group_sum", "link_facts", "value_label"]

_KIND_NAMES = {
    "device": "device",
    "phone": "phone",
    "ip": "IP",
    "ip24": "IP /24",
    "address": "address",
    "phone_run": "near-sequential phones",
    "waybill_run": "near-sequential waybills",
    "block": "dense buyer×SKU block",
    "burst": "order burst on SKU",
    "sign_surge": "surge of",
    "repeat": "same-day repeat orders of SKU",
    "station": "parcel station",
    "station_redeem": "parcel station",
    "redeem_batch": "redemptions",
    "redeem_batch_shifted": "redemptions",
    "coupon_burst": "redemption burst on SKU",
    "redeem_burst": "threshold-sized redemptions",
    "ip24_hour": "IP /24",
    "ip24_half_hour": "IP /24",
}


def group_sum(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    keep = codes >= 0
    return np.bincount(codes[keep], weights=values[keep].astype(float), minlength=n_groups)


def group_mean(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    total = group_sum(codes, values, n_groups)
    count = group_sum(codes, np.ones(len(codes)), n_groups)
    return np.divide(total, count, out=np.zeros(n_groups), where=count > 0)


def value_label(kind: str, value: object, show_pii: bool) -> str:
    return f"{_KIND_NAMES.get(kind, kind)} {describe_value(kind, value, show_pii)}"


def link_facts(
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    components: np.ndarray,
    run_labels: Mapping[tuple[str, int], str],
    show_pii: bool,
    limit: int = 3,
) -> dict[int, tuple[list[str], list[str]]]:
    """For each component: (reasons, shared identifiers) naming its linking values.

    Each reason states how many accounts share the value across the whole
    export (the count that decided whether the value links at all).
    """
    out: dict[int, tuple[list[str], list[str]]] = {}
    links = graph.links[graph.links["component"].isin(components)]
    if links.empty:
        return out
    links = links.sort_values(["component", "n_accounts"], ascending=[True, False])
    for component, frame in links.groupby("component", sort=False):
        reasons: list[str] = []
        shared: list[str] = []
        per_kind = frame.groupby("kind", sort=False)
        for kind, rows in per_kind:
            key = keys[str(kind)]
            for _, row in rows.head(limit).iterrows():
                code = int(row["value_code"])
                if kind == "phone_run":
                    label = f"near-sequential phones {key.value(code)}"
                elif kind in ("waybill_run", "block"):
                    label = run_labels.get((str(kind), code), f"{_KIND_NAMES[str(kind)]} #{code}")
                else:
                    label = value_label(str(kind), key.value(code), show_pii)
                shared.append(label)
                reasons.append(f"{int(row['n_accounts'])} accounts share {label}")
            if len(rows) > limit:
                reasons.append(f"and {len(rows) - limit} more shared {_KIND_NAMES[str(kind)]}")
        out[int(str(component))] = (reasons, shared)
    return out
