"""Per-order facts of brushing (刷单), each computed only where the export has it.

A fake order is paid at once, its empty parcel (空包) is shipped within the
hour (a waybill bought, nothing packed) and signed for a day later, a
five-star review follows immediately, the account is days old and its phone
is a cheap virtual-operator SIM, and its waybill number is the next
one after another fake order's.  Each indicator is 0/1 with a ``known`` mask:
an order that has not been delivered yet says nothing about receipt speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit_detectors.identity import (
    IdentityKey,
    address_key,
    ip24_key,
    is_drop_point_key,
    is_virtual_key,
    phone_key,
    sequential_runs,
    waybill_runs,
)
from riskkit_detectors.order_view import OrderView, known, seconds_between
from riskkit_detectors.strings import TextCodes, factorize_text, normalised_codes

__all__ = [
    "Indicator",
    "OrderFacts",
    "identity_keys",
    "order_facts",
    "phone_run_labels",
    "phone_runs",
    "repeat_links",
    "repeat_sku_indicator",
    "seller_runs",
]

DAY = 86_400.0
# A shop whose parcels of one carrier sit in runs this often prints in batches.
_BATCH_SHARE = 0.5
# Signs that describe the buyer (a saved card pays at once, a cheap SIM),
# not what happened to the order.
_BUYER_TRAITS = frozenset({"instant_pay", "virtual_phone", "title_name"})
# A recipient written as a surname (one or two characters) and a title only
# (an RE2 pattern: pyarrow reads it).
_TITLE_NAME = r"[\x{4e00}-\x{9fff}]{1,2}(?:先生|女士|小姐)"
# Signs a sale's honest cohort shows together: its traits, and reordering
# the SKU within the day when the sale limits one per order.
_COHORT_SIGNS = _BUYER_TRAITS | {"repeat_sku"}


@dataclass
class Indicator:
    """One per-order yes/no fact with the weight it carries in the behaviour score."""

    name: str
    weight: float
    hit: np.ndarray
    known: np.ndarray
    signal: str
    reliability: float = 0.8


@dataclass
class OrderFacts:
    indicators: list[Indicator]
    unavailable: dict[str, str]
    phones: TextCodes
    addresses: TextCodes
    account_age_days: np.ndarray
    pay_seconds: np.ndarray
    receipt_days: np.ndarray
    ship_hours: np.ndarray
    review_hours: np.ndarray
    waybill_run: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    # How the order reached the shop (a keyword search is what brushing buys
    # rank for); not part of the behaviour score: half of honest orders arrive so.
    search_entry: Indicator | None = None

    def behaviour(self) -> np.ndarray:
        """Weighted share of the known indicators that hit (0-1; 0 when none known)."""
        n = len(self.waybill_run)
        num = np.zeros(n)
        den = np.zeros(n)
        for ind in self.indicators:
            num += ind.weight * (ind.hit & ind.known)
            den += ind.weight * ind.known
        return np.divide(num, den, out=np.zeros(n), where=den > 0)

    def sign_indicators(self) -> list[Indicator]:
        """The signs of a fake order itself (a young account alone is not one:
        every new customer has one)."""
        return [i for i in self.indicators if i.name != "young_account"]

    def signs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(hit, known) per sign of :meth:`sign_indicators`."""
        return [(i.hit, i.known) for i in self.sign_indicators()]

    def habits(self) -> list[bool]:
        """Per sign of :meth:`sign_indicators`: whether a sale's honest cohort
        shows it together (paying at once, a cheap SIM, reordering the SKU
        within the day when one per order is allowed); alone, such a sign
        convicts no burst."""
        return [i.name in _COHORT_SIGNS for i in self.sign_indicators()]

    def order_signs(self) -> list[Indicator]:
        """The signs of :meth:`sign_indicators` that tell what happened to
        the order (its receipt, review, waybill, a reorder), not who the
        buyer is."""
        return [i for i in self.sign_indicators() if i.name not in _BUYER_TRAITS]

    def get(self, name: str) -> Indicator | None:
        return next((i for i in self.indicators if i.name == name), None)


def order_facts(
    view: OrderView,
    young_account_days: float,
    instant_pay_seconds: float,
    quick_receipt_days: float,
    instant_review_hours: float,
    waybill_gap: int,
    quick_ship_hours: float,
) -> OrderFacts:
    orders = view.orders
    n = len(orders)
    unavailable: dict[str, str] = {}
    indicators: list[Indicator] = []
    none = np.zeros(n, dtype=bool)

    age = seconds_between(orders["buyer_registered_at"], orders["created_at"]) / DAY
    if known(orders["buyer_registered_at"]):
        indicators.append(
            Indicator(
                "young_account",
                0.5,
                age < young_account_days,
                np.isfinite(age),
                "account_age",
                0.15,
            )
        )
    else:
        unavailable["account_age"] = "no buyer_registered_at column (account age unknown)"

    phones = normalised_codes(factorize_text(orders["ship_phone"]), phone_key)
    if (phones.codes >= 0).any():
        virtual_of = is_virtual_key(phones.values)
        indicators.append(
            Indicator(
                "virtual_phone",
                1.5,
                (phones.codes >= 0) & virtual_of[np.maximum(phones.codes, 0)],
                phones.codes >= 0,
                "phone",
                0.6,
            )
        )
    else:
        unavailable["phone"] = "no unmasked ship_phone values"

    # Each distinct name is read once (a million orders, far fewer names).
    names = factorize_text(orders["ship_name"])
    masked = np.asarray(
        pc.match_substring(names.values, "*").to_numpy(zero_copy_only=False), dtype=bool
    )
    unmasked = (names.codes >= 0) & (~masked[np.maximum(names.codes, 0)] if len(masked) else False)
    if unmasked.any():
        # A studio fills in a surname and a title (王先生, 李女士), not a person.
        titled_of = pc.match_substring_regex(names.values, f"^(?:{_TITLE_NAME})$")
        titled = np.asarray(titled_of.to_numpy(zero_copy_only=False), dtype=bool)
        indicators.append(
            Indicator(
                "title_name",
                0.0,
                unmasked & titled[np.maximum(names.codes, 0)],
                unmasked,
                "recipient_name",
                0.5,
            )
        )
    else:
        unavailable["recipient_name"] = "no unmasked ship_name values"

    pay = seconds_between(orders["created_at"], orders["paid_at"])
    if known(orders["paid_at"]):
        indicators.append(
            Indicator(
                "instant_pay",
                1.0,
                (pay >= 0) & (pay <= instant_pay_seconds),
                np.isfinite(pay),
                "payment_time",
                0.6,
            )
        )
    else:
        unavailable["payment_time"] = "no paid_at column (payment speed unknown)"

    start = orders["paid_at"].fillna(orders["created_at"])
    ship = seconds_between(start, orders["shipped_at"]) / 3600.0
    if known(orders["shipped_at"]):
        indicators.append(
            Indicator(
                "quick_shipment",
                1.0,
                (ship >= 0) & (ship <= quick_ship_hours),
                np.isfinite(ship),
                "shipment",
                0.9,
            )
        )
    else:
        unavailable["shipment"] = "no shipped_at column (shipping speed / empty parcels unknown)"

    receipt = seconds_between(start, orders["received_at"]) / DAY
    if known(orders["received_at"]):
        indicators.append(
            Indicator(
                "quick_receipt",
                1.0,
                (receipt >= 0) & (receipt <= quick_receipt_days),
                np.isfinite(receipt),
                "receipt",
                0.9,
            )
        )
    else:
        unavailable["receipt"] = "no received_at column (sign-for speed / empty parcels unknown)"

    review = seconds_between(orders["received_at"], orders["reviewed_at"]) / 3600.0
    rating = orders["review_rating"].to_numpy(dtype=float)
    if known(orders["reviewed_at"]) and np.isfinite(rating).any():
        # A review needs a receipt to be timed; without one, the order time stands in.
        fallback = seconds_between(orders["created_at"], orders["reviewed_at"]) / 3600.0
        review = np.where(np.isfinite(review), review, fallback - quick_receipt_days * 24)
        indicators.append(
            Indicator(
                "instant_review",
                2.0,
                (rating >= 5) & (review <= instant_review_hours),
                np.isfinite(review) & np.isfinite(rating),
                "review",
                0.9,
            )
        )
    else:
        unavailable["review"] = "no review_rating / reviewed_at (review speed unknown)"

    if known(orders["tracking_no"]):
        runs = waybill_runs(orders["carrier"], orders["tracking_no"], waybill_gap)
        indicators.append(
            Indicator(
                "sequential_waybill",
                1.5,
                runs >= 0,
                np.asarray(orders["tracking_no"].notna()),
                "waybill",
                0.9,
            )
        )
    else:
        runs = np.full(n, -1, dtype=np.int64)
        unavailable["waybill"] = "no tracking_no column (sequential waybills unknown)"

    search_entry = None
    if known(orders["channel"]):
        # Read each distinct wording once ("search", "Search", "搜索进店").
        codes, wordings = pd.factorize(orders["channel"])
        wording = pd.Series(wordings, dtype="string").str.strip().str.lower()
        is_search = np.asarray(wording.str.contains("search|搜索", regex=True), dtype=bool)
        is_blank = np.asarray(wording == "", dtype=bool)
        safe = np.maximum(codes, 0)
        search_entry = Indicator(
            "search_entry",
            0.0,
            (codes >= 0) & is_search[safe],
            (codes >= 0) & ~is_blank[safe],
            "channel",
            0.5,
        )
    else:
        unavailable["channel"] = "no channel column (search entries unknown)"

    if not known(orders["device_id"]):
        unavailable["device"] = "no device_id column (shared devices unknown)"
    if not known(orders["ip"]):
        unavailable["ip"] = "no ip column (shared IPs unknown)"
    addresses = normalised_codes(factorize_text(orders["ship_address"]), address_key)
    if not (addresses.codes >= 0).any():
        unavailable["address"] = "no unmasked ship_address values"
    del none
    return OrderFacts(
        indicators=indicators,
        unavailable=unavailable,
        phones=phones,
        addresses=addresses,
        account_age_days=age,
        pay_seconds=pay,
        receipt_days=receipt,
        ship_hours=ship,
        review_hours=review,
        waybill_run=runs,
        search_entry=search_entry,
    )


def identity_keys(
    view: OrderView,
    buyer: np.ndarray,
    facts: OrderFacts,
    max_shared_accounts: int,
    phone_gap: int,
    show_pii: bool,
    include_ip24: bool = False,
) -> list[IdentityKey]:
    """The identifiers two buyers can share, with per-kind caps on how many
    accounts a value may link (a CGNAT address links nobody)."""
    orders = view.orders
    keys: list[IdentityKey] = []

    def add(kind: str, codes: TextCodes, cap: int, per_account: float = 0.0) -> None:
        if (codes.codes >= 0).any():
            keys.append(IdentityKey(kind, buyer, codes.codes, codes.values, cap, 2, per_account))

    ips = factorize_text(orders["ip"])
    add("device", factorize_text(orders["device_id"]), 10 * max_shared_accounts)
    add("phone", facts.phones, max_shared_accounts)
    add("ip", ips, max_shared_accounts, per_account=1.5)
    # A parcel station serves a whole district: it links nobody.
    stations = np.append(is_drop_point_key(facts.addresses.values), False)
    at_station = (facts.addresses.codes >= 0) & stations[np.maximum(facts.addresses.codes, 0)]
    homes = TextCodes(np.where(at_station, -1, facts.addresses.codes), facts.addresses.values)
    add("address", homes, max_shared_accounts)
    if include_ip24:
        add("ip24", normalised_codes(ips, ip24_key), max_shared_accounts)
    phone_run = phone_runs(facts.phones, phone_gap)
    facts.extra["phone_run"] = phone_run
    if (phone_run >= 0).any():
        run_values = phone_run_labels(facts.phones, phone_run, show_pii)
        keys.append(
            IdentityKey("phone_run", buyer, phone_run, run_values, 4 * max_shared_accounts, 5)
        )
    linking_runs = seller_runs(view, facts.waybill_run)
    if (linking_runs >= 0).any():
        run_values = pd.Index(np.arange(facts.waybill_run.max() + 1))
        keys.append(
            IdentityKey("waybill_run", buyer, linking_runs, run_values, max_shared_accounts)
        )
    return keys


def seller_runs(view: OrderView, runs: np.ndarray) -> np.ndarray:
    """Waybill runs that can link accounts: not at a shop that prints in batches.

    A shop that prints its waybills in batches numbers most of its parcels
    with a carrier consecutively; there a run is how the shop works, not a
    waybill seller's stock (空包), and links no one.  Measured per shop and
    carrier: the share of its tracked parcels that sit in runs.
    """
    have = runs >= 0
    if not have.any():
        return runs
    orders = view.orders
    shop_carrier, _ = pd.factorize(
        orders["shop_id"].astype("object").fillna("").astype(str)
        + "|"
        + orders["carrier"].astype("object").fillna("").astype(str)
    )
    tracked = np.asarray(orders["tracking_no"].notna(), dtype=bool)
    size = int(shop_carrier.max()) + 1
    parcels = np.bincount(shop_carrier[tracked], minlength=size)
    in_runs = np.bincount(shop_carrier[tracked & have], minlength=size)
    batch_printer = in_runs >= _BATCH_SHARE * np.maximum(parcels, 1)
    return np.where(have & ~batch_printer[shop_carrier], runs, -1)


def phone_runs(phones: TextCodes, max_gap: int) -> np.ndarray:
    """Run id per order of near-sequential phone numbers (-1: none)."""
    as_int = pc.cast(
        pc.if_else(pc.match_substring_regex(phones.values, r"^\d{7,15}$"), phones.values, None),
        pa.int64(),
    )
    value_of = np.asarray(pc.fill_null(as_int, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    if len(value_of) == 0:
        return np.full(len(phones.codes), -1, dtype=np.int64)
    values = np.where(phones.codes >= 0, value_of[np.maximum(phones.codes, 0)], -1)
    return sequential_runs(values, np.zeros(len(values), dtype=np.int64), max_gap)


def phone_run_labels(phones: TextCodes, runs: np.ndarray, show_pii: bool) -> pd.Index:
    """``near-sequential phones 134****0016…134****0111`` per run id."""
    from riskkit_detectors.identity import describe_value

    n_runs = int(runs.max()) + 1 if len(runs) and runs.max() >= 0 else 0
    labels = [""] * n_runs
    have = (runs >= 0) & (phones.codes >= 0)
    if have.any():
        frame = pd.DataFrame({"run": runs[have], "code": phones.codes[have]}).drop_duplicates()
        frame["phone"] = [phones.value(int(c)) for c in frame["code"]]
        bounds = frame.groupby("run")["phone"].agg(["min", "max"])
        for run, low, high in zip(bounds.index, bounds["min"], bounds["max"], strict=True):
            labels[int(run)] = (
                f"{describe_value('phone', low, show_pii)}…{describe_value('phone', high, show_pii)}"
            )
    return pd.Index(labels)


def repeat_sku_indicator(
    line_buyer: np.ndarray,
    item: np.ndarray,
    line_time: np.ndarray,
    line_order: np.ndarray,
    n_orders: int,
    within_seconds: float,
    order_address: np.ndarray | None = None,
) -> Indicator:
    """Orders whose buyer ordered the same SKU again, in another order, soon after,
    to the same address (or where either address is unknown).

    A brushing account places the target SKU several times to lift its sales
    count; an honest buyer who wants more adds to the quantity of one order,
    and a gift sender ships each order to another address.
    """
    hit = np.zeros(n_orders, dtype=bool)
    has_item = item >= 0
    if has_item.any():
        frame = pd.DataFrame(
            {
                "b": line_buyer[has_item],
                "i": item[has_item],
                "t": line_time[has_item],
                "o": line_order[has_item],
            }
        ).drop_duplicates(["b", "i", "o"])
        frame = frame.sort_values(["b", "i", "t"], kind="stable")
        b = frame["b"].to_numpy()
        i = frame["i"].to_numpy()
        t = frame["t"].to_numpy(dtype=float)
        o = frame["o"].to_numpy()
        again = (b[1:] == b[:-1]) & (i[1:] == i[:-1]) & (o[1:] != o[:-1])
        again &= (t[1:] - t[:-1]) <= within_seconds
        if order_address is not None:
            a = order_address[o]
            again &= (a[1:] == a[:-1]) | (a[1:] < 0) | (a[:-1] < 0)
        hit[o[1:][again]] = True
        hit[o[:-1][again]] = True
    known_orders = np.zeros(n_orders, dtype=bool)
    known_orders[line_order[has_item]] = True
    return Indicator("repeat_sku", 1.0, hit, known_orders, "repeat_purchase", 0.6)


def repeat_links(
    repeat_hit: np.ndarray,
    line_buyer: np.ndarray,
    item: np.ndarray,
    item_values: Any,
    line_order: np.ndarray,
    created: pd.Series,
    cap: int,
) -> IdentityKey | None:
    """Accounts that re-ordered one SKU on one calendar day, linked.

    Honest buyers almost never re-order a SKU within a day; only SKU-days
    where the repeaters are at least half of the day's buyers link anyone
    (a popular SKU's day has a few honest repeaters among many buyers).
    """
    first_day = created.min().normalize()
    day = np.asarray((created - first_day).dt.total_seconds() // DAY, dtype=float)[line_order]
    known = np.isfinite(day) & (item >= 0)
    days = int(np.nanmax(day)) + 1 if known.any() else 1
    day_item = np.where(known, item * days + np.nan_to_num(day).astype(np.int64), -1)
    repeat_lines = repeat_hit[line_order] & known
    buyers_of = pd.DataFrame({"k": day_item, "b": line_buyer, "r": repeat_lines})
    buyers_of = buyers_of[known].drop_duplicates(["k", "b"])
    all_buyers = buyers_of.groupby("k").size()
    repeaters = buyers_of[buyers_of["r"]].groupby("k").size()
    mostly = repeaters.index[
        repeaters.to_numpy() >= 0.5 * all_buyers.reindex(repeaters.index).to_numpy()
    ]
    repeat_lines &= np.isin(day_item, mostly.to_numpy())
    if not repeat_lines.any():
        return None
    codes, values = pd.factorize(day_item[repeat_lines])
    all_codes = np.full(len(item), -1, dtype=np.int64)
    all_codes[repeat_lines] = codes
    labels = [
        f"{item_values[int(v) // days]} on {(first_day + pd.Timedelta(days=int(v) % days)).date()}"
        for v in values
    ]
    return IdentityKey("repeat", line_buyer, all_codes, pd.Index(labels), cap)
