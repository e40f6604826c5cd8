"""Checks that the facts quoted in ring reasons are true of the data they came from."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

_SHARED = re.compile(
    r"(\d+) accounts share (\w+) ([^;]+?); in this export ([\d.e+-]+) % of (\w+) values "
    r"have (\d+) or more accounts"
)
_ACCOUNTS = re.compile(
    r"(\d+)/(\d+) accounts ([^(;]+?) \(chance expects [^;]+?; in this export ([\d.e+-]+) % "
    r"of accounts outside candidate groups do\)"
)


def _close(quoted: float, actual: float) -> bool:
    # Reasons print two significant figures.
    return abs(quoted - actual) <= max(0.05 * actual, 0.006)


def check_shared_value_claims(
    reasons: str, orders: pd.DataFrame, columns: Mapping[str, str]
) -> int:
    """'N accounts share device X; in this export R % of device values have N or more
    accounts': N is the value's account count and R the share of the kind's values."""
    checked = 0
    for n, kind, value, rate, label, n_again in _SHARED.findall(reasons):
        if kind not in columns or label != kind:
            continue
        per_value = orders.groupby(columns[kind])["buyer_id"].nunique()
        assert per_value[value.strip()] == int(n), (kind, value)
        assert n == n_again
        actual = 100.0 * float((per_value >= int(n)).mean())
        assert _close(float(rate), actual), (reasons, actual)
        checked += 1
    return checked


def check_account_claims(
    reasons: str,
    phrase: str,
    shows: pd.Series,
    members: set[str],
    flagged_accounts: set[str],
) -> int:
    """'X/Y accounts <phrase> (...; in this export R % of accounts outside candidate
    groups do)': the group's members showing the sign are at most X of Y, and R is
    the share among the accounts outside the flagged groups (candidates that were
    not flagged are few beside them)."""
    checked = 0
    for x, y, said, rate in _ACCOUNTS.findall(reasons):
        if said.strip() != phrase:
            continue
        assert int(x) <= int(y)
        assert int(shows.reindex(sorted(members)).fillna(False).sum()) <= int(x)
        outside = shows[~shows.index.isin(flagged_accounts)]
        actual = 100.0 * float(outside.mean())
        assert abs(float(rate) - actual) <= 0.25 * actual + 0.2, (said, rate, actual)
        checked += 1
    return checked


def half_or_more(orders: pd.DataFrame, sign: Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
    """Per account: the sign holds on at least half its orders where it is known."""
    frame = orders.drop_duplicates("order_id").assign(_sign=sign)
    known = frame.dropna(subset=["_sign"])
    per = known.groupby("buyer_id")["_sign"].agg(["sum", "size"])
    return per["sum"] >= (per["size"] + 1) // 2
