"""Identity keys and the buyer identity graph shared by the detectors.

Two buyer accounts are linked when they share an identifier: a device, a
phone, an IP, a normalised shipping address, a run of near-sequential phone
numbers or waybills.  An identifier shared by very many accounts (a carrier-
grade NAT address, the parcel station of a whole district) says nothing about
a ring: it is down-weighted, and above a per-kind cap it links nobody.
Masked values (``138****5678``, ``****``) are unknown, never shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from riskkit.pii import mask_address, mask_ip, mask_phone
from riskkit_detectors.strings import factorize_text, normalised_codes

__all__ = [
    "VIRTUAL_OPERATOR_PREFIXES",
    "IdentityGraph",
    "IdentityKey",
    "address_key",
    "build_identity_graph",
    "describe_value",
    "ip24_key",
    "ip_subnet24",
    "is_drop_point",
    "is_drop_point_key",
    "is_virtual_key",
    "linked_accounts",
    "linked_only_among",
    "normalise_address",
    "normalise_phone",
    "phone_key",
    "sequential_runs",
    "waybill_runs",
]

VIRTUAL_OPERATOR_PREFIXES = ("170", "171", "162", "165", "167")
# Identifiers a household shares (an address, a home router): families of up to
# HOUSEHOLD_SIZE share them honestly.
HOUSEHOLD_KINDS = ("address", "ip")
HOUSEHOLD_SIZE = 5
# Parcel stations and lockers: one address for a whole neighbourhood.
_DROP_POINT = (
    r"(?:菜鸟驿站|快递驿站|妈妈驿站|兔喜|丰巢快递柜|丰巢柜|丰巢|快递柜|智能柜|代收点|自提点|驿站)"
)
_PROVINCE = r"^[^市县区]{2,7}?(?:省|自治区|特别行政区)"
_BUILDING_WORDS = r"(\d)(?:号楼|栋|幢|座|单元|号室|室|号房|房|楼|#)"


def phone_key(values: pa.Array) -> pa.Array:
    """Digits of a mobile number (``+86``/``0086`` dropped); masked values are null."""
    masked = pc.match_substring(values, "*")
    digits = pc.replace_substring_regex(values, r"\D", "")
    digits = pc.replace_substring_regex(digits, r"^(?:0086|86)(1\d{10})$", r"\1")
    short = pc.less(pc.utf8_length(digits), 7)
    return pc.if_else(pc.or_(masked, short), pa.scalar(None, pa.string()), digits)


def address_key(values: pa.Array) -> pa.Array:
    """A key equal for one household however its address was typed.

    Full-width characters, spaces, punctuation and case are folded; the
    province is dropped (exports omit it for municipalities, buyers omit it
    anyway); ``3号楼2单元501室``, ``3栋2单元501`` and ``3-2-501`` become
    ``3-2-501``.  A parcel-station or locker address becomes the station.
    Masked addresses (``**``) are null.
    """
    masked = pc.match_substring(values, "**")
    text = pc.utf8_lower(pc.utf8_normalize(values, "NFKC"))
    text = pc.replace_substring_regex(text, r"[\s,，、()（）]+", "")
    text = pc.replace_substring_regex(text, _PROVINCE, "")
    station = pc.struct_field(pc.extract_regex(text, "^(?P<s>.*?" + _DROP_POINT + ")"), [0])
    text = pc.replace_substring_regex(text, _BUILDING_WORDS, r"\1-")
    text = pc.replace_substring_regex(text, r"-+", "-")
    text = pc.replace_substring_regex(text, r"-$", "")
    text = pc.coalesce(station, text)
    empty = pc.equal(pc.utf8_length(text), 0)
    return pc.if_else(pc.or_(masked, empty), pa.scalar(None, pa.string()), text)


def ip24_key(values: pa.Array) -> pa.Array:
    """``a.b.c`` of an IPv4 address (the /24 a household or office sits in)."""
    pattern = r"^(?P<s>\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$"
    return pc.struct_field(pc.extract_regex(values, pattern), [0])


def is_virtual_key(values: pa.Array) -> np.ndarray:
    """Per distinct phone key: on a virtual operator (170/171/162/165/167)."""
    prefix = pc.utf8_slice_codeunits(values, 0, 3)
    hit = pc.is_in(prefix, value_set=pa.array(VIRTUAL_OPERATOR_PREFIXES))
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def _series_via(series: pd.Series, key: Callable[[pa.Array], pa.Array]) -> pd.Series:
    codes = normalised_codes(factorize_text(series), key)
    values = pd.Series(codes.values.to_pylist(), dtype="str")
    out = values.reindex(np.maximum(codes.codes, 0)).to_numpy(dtype=object)
    out[codes.codes < 0] = None
    return pd.Series(out, index=series.index, dtype="str")


def normalise_phone(series: pd.Series) -> pd.Series:
    """:func:`phone_key` of a column (for tests and callers outside the detectors)."""
    return _series_via(series, phone_key)


def normalise_address(series: pd.Series) -> pd.Series:
    """:func:`address_key` of a column."""
    return _series_via(series, address_key)


def ip_subnet24(series: pd.Series) -> pd.Series:
    return _series_via(series, ip24_key)


def is_drop_point_key(values: pa.Array) -> np.ndarray:
    """Per distinct address key: a parcel station or locker."""
    hit = pc.match_substring_regex(values, _DROP_POINT)
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def is_drop_point(series: pd.Series) -> np.ndarray:
    text = series.astype("str").str.replace(r"\s+", "", regex=True)
    return np.asarray(text.str.contains(_DROP_POINT, regex=True, na=False), dtype=bool)


def sequential_runs(values: np.ndarray, groups: np.ndarray, max_gap: int) -> np.ndarray:
    """Label runs of near-sequential integers (gap <= ``max_gap``) within each group.

    ``values`` is int64 with -1 for missing; returns a run id per row, -1 for
    rows that are missing or whose run has only one distinct value.
    """
    n = len(values)
    out = np.full(n, -1, dtype=np.int64)
    present = np.flatnonzero(values >= 0)
    if len(present) < 2:
        return out
    order = present[np.lexsort((values[present], groups[present]))]
    v, g = values[order], groups[order]
    step = np.diff(v)
    breaks = np.concatenate(([True], (g[1:] != g[:-1]) | (step > max_gap)))
    run = np.cumsum(breaks) - 1
    # A run of one distinct value (the same phone twice) links nothing new.
    distinct_step = np.concatenate(([False], (step > 0) & ~breaks[1:]))
    has_distinct = np.bincount(run, weights=distinct_step, minlength=run[-1] + 1) > 0
    out[order] = np.where(has_distinct[run], run, -1)
    return out


def waybill_runs(carrier: pd.Series, tracking: pd.Series, max_gap: int) -> np.ndarray:
    """Runs of near-sequential waybill numbers of one carrier (one shipping batch)."""
    values = pa.array(tracking, type=pa.string()) if len(tracking) else pa.array([], pa.string())
    digits = pc.struct_field(pc.extract_regex(values, r"(?P<d>\d{6,18})$"), [0])
    number = pc.fill_null(pc.cast(digits, pa.int64()), -1).to_numpy(zero_copy_only=False)
    prefix = pc.struct_field(pc.extract_regex(values, r"^(?P<p>\D*)"), [0])
    key = pc.binary_join_element_wise(
        pc.fill_null(pa.array(carrier, type=pa.string()), ""), pc.fill_null(prefix, ""), "|"
    )
    if isinstance(key, pa.ChunkedArray):  # arrow-backed pandas strings come chunked
        key = key.combine_chunks()
    groups = pc.dictionary_encode(key).indices.to_numpy(zero_copy_only=False)
    return sequential_runs(np.asarray(number, dtype=np.int64), groups.astype(np.int64), max_gap)


class LazyLabels:
    """Value labels made only when a reason names one: a key can hold
    hundreds of thousands of values, and formatting them all costs seconds."""

    def __init__(self, size: int, label: Callable[[int], str]) -> None:
        self._size = size
        self._label = label

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, code: int) -> str:
        return self._label(int(code))


@dataclass(frozen=True)
class IdentityKey:
    """One kind of identifier: (buyer, value code) pairs, -1 = unknown.

    ``max_accounts``: above this many accounts a value links nobody.
    ``kind`` names it in reasons (``device``, ``phone``, ``address``).
    """

    kind: str
    buyers: np.ndarray
    codes: np.ndarray
    values: Any
    max_accounts: int
    min_accounts: int = 2
    # Orders per account on the value: a carrier NAT address shows up once per
    # account among its other addresses; a ring's (or a home's) on every order.
    min_orders_per_account: float = 0.0
    # Keys that only gather candidates (time windows, a second shifted grid)
    # say nothing of how firmly an account is tied to its group.
    counts_toward_degree: bool = True

    def value(self, code: int) -> str:
        item = self.values[code]
        return str(item.as_py() if isinstance(item, pa.Scalar) else item)

    @cached_property
    def linking(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Distinct (buyer, value) pairs, accounts per value, and which values
        link (computed once: the graph and the bystander checks both ask)."""
        return _linking_values(self)


@dataclass
class IdentityGraph:
    """Buyer components and the identifier values that link them.

    ``component``: component id per buyer code.  ``links``: one row per
    linking value: ``kind``, ``value`` (raw), ``n_accounts``, ``component``,
    ``weight`` (1/log2(n_accounts + 1): the more accounts share a value, the
    less it says).  ``buyer_degree``: how many linking values each buyer has
    (household-sized sharing of an address or IP not counted).
    """

    component: np.ndarray
    links: pd.DataFrame
    value_accounts: dict[str, np.ndarray]
    buyer_degree: np.ndarray


def _linking_values(key: IdentityKey) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A key's distinct (buyer, value) pairs, accounts per value, and which values link."""
    present = key.codes >= 0
    buyers, codes = key.buyers[present].astype(np.int64), key.codes[present].astype(np.int64)
    width = int(codes.max()) + 1 if len(codes) else 1
    # First occurrence of each pair, in input order (as drop_duplicates keeps).
    _, first = np.unique(buyers * width + codes, return_index=True)
    first.sort()
    pair = pd.DataFrame({"b": buyers[first], "v": codes[first]})
    accounts = np.bincount(pair["v"].to_numpy(), minlength=len(key.values)).astype(np.int64)
    linking = (accounts >= max(key.min_accounts, 2)) & (accounts <= key.max_accounts)
    if key.min_orders_per_account > 0:
        uses = np.bincount(key.codes[present], minlength=len(accounts))
        linking &= uses >= key.min_orders_per_account * np.maximum(accounts, 1)
    return pair, accounts, linking


def linked_accounts(n_buyers: int, keys: list[IdentityKey]) -> np.ndarray:
    """Per buyer: some value of these keys links it to another account."""
    linked = np.zeros(n_buyers, dtype=bool)
    for key in keys:
        if not (key.codes >= 0).any():
            continue
        pair, _, linking = key.linking
        linked[pair["b"].to_numpy()[linking[pair["v"].to_numpy()]]] = True
    return linked


def linked_only_among(n_buyers: int, keys: list[IdentityKey], among: np.ndarray) -> np.ndarray:
    """Per buyer: every account these keys link it to is ``among`` the given
    ones (True also where nothing links it)."""
    clean = np.ones(n_buyers, dtype=bool)
    for key in keys:
        if not (key.codes >= 0).any():
            continue
        pair, accounts, linking = key.linking
        b = pair["b"].to_numpy()
        v = pair["v"].to_numpy()
        keep = linking[v]
        b, v = b[keep], v[keep]
        outsiders = np.bincount(v, weights=~among[b], minlength=len(accounts))
        clean[b[outsiders[v] > 0]] = False
    return clean


def build_identity_graph(n_buyers: int, keys: list[IdentityKey]) -> IdentityGraph:
    """Connect buyers through shared values (vectorised; scipy connected_components)."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    offset = n_buyers
    link_frames: list[pd.DataFrame] = []
    degree = np.zeros(n_buyers, dtype=np.int64)
    value_accounts: dict[str, np.ndarray] = {}
    for key in keys:
        present = key.codes >= 0
        if not present.any():
            value_accounts[key.kind] = np.zeros(len(key.values), dtype=np.int64)
            continue
        pair, accounts, linking = key.linking
        value_accounts[key.kind] = accounts
        use = pair[linking[pair["v"].to_numpy()]]
        # A home address or router shared by a household says nothing about
        # membership of a ring: only larger sharing counts toward the degree.
        if key.kind in HOUSEHOLD_KINDS:
            counted = use[accounts[use["v"].to_numpy()] > HOUSEHOLD_SIZE]
        else:
            counted = use
        if key.counts_toward_degree:
            degree += np.bincount(counted["b"].to_numpy(), minlength=n_buyers)
        rows.append(use["b"].to_numpy())
        cols.append(offset + use["v"].to_numpy())
        linked_values = np.flatnonzero(linking)
        link_frames.append(
            pd.DataFrame(
                {
                    "kind": key.kind,
                    "value_code": linked_values,
                    "n_accounts": accounts[linked_values],
                    "first_buyer": pair.drop_duplicates("v")
                    .set_index("v")
                    .reindex(linked_values)["b"]
                    .to_numpy(),
                }
            )
        )
        offset += len(key.values)
    n_nodes = offset
    if rows:
        r = np.concatenate(rows)
        c = np.concatenate(cols)
    else:
        r = c = np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph.tocsr(), directed=False)
    component = labels[:n_buyers].astype(np.int64)
    links = (
        pd.concat(link_frames, ignore_index=True)
        if link_frames
        else pd.DataFrame(columns=["kind", "value_code", "n_accounts", "first_buyer"])
    )
    links["component"] = component[links["first_buyer"].to_numpy(dtype=np.int64)]
    links["weight"] = 1.0 / np.log2(links["n_accounts"].to_numpy(dtype=float) + 1.0)
    return IdentityGraph(
        component=component, links=links, value_accounts=value_accounts, buyer_degree=degree
    )


def describe_value(kind: str, value: object, show_pii: bool) -> str:
    """An identifier as a reason shows it: PII masked unless ``show_pii``."""
    text = str(value)
    if show_pii:
        return text
    if kind == "phone":
        return mask_phone(text)
    if kind == "address":
        return mask_address(text)
    if kind in ("ip", "ip24"):
        return mask_ip(text if kind == "ip" else text + ".0")
    if kind == "device":
        return text[:4] + "…" + text[-4:] if len(text) > 10 else text
    return text


def sku_bursts(
    item: np.ndarray,
    seconds: np.ndarray,
    window_seconds: float,
    min_orders: int,
    min_share: float,
) -> np.ndarray:
    """Per line: the item's code when the line falls in that item's busiest window,
    and that window holds at least ``min_orders`` lines and ``min_share`` of all the
    item's lines (a burst on a SKU that otherwise barely sells); else -1."""
    n = len(item)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out
    order = np.lexsort((seconds, item))
    it, t = item[order], seconds[order]
    # Window ends in a single sorted key: item-major, time-minor.
    span = float(t.max() - t.min()) + window_seconds + 1.0
    key = it.astype(np.float64) * span + (t - t.min())
    end = np.searchsorted(key, key + window_seconds, side="right")
    count = end - np.arange(n)
    total = np.bincount(it)
    frame = pd.DataFrame({"item": it, "count": count})
    best = frame.groupby("item", sort=False)["count"].idxmax()
    start_pos = best.to_numpy()
    best_count = count[start_pos]
    items = best.index.to_numpy()
    burst = (best_count >= min_orders) & (best_count >= min_share * total[items])
    for_items = items[burst]
    starts, stops = start_pos[burst], end[start_pos[burst]]
    if len(starts):
        # Mark [start, stop) ranges without a loop over orders: difference array.
        marks = np.zeros(n + 1, dtype=np.int64)
        np.add.at(marks, starts, 1)
        np.add.at(marks, stops, -1)
        inside = np.cumsum(marks[:-1]) > 0
        out[order[inside]] = it[inside]
    del for_items
    return out
