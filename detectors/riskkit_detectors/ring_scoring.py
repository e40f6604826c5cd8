"""From lines of evidence to scored, explained rings (brushing and coupon abuse alike)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit_detectors.evidence import (
    SPEAKS_AT,
    Line,
    bh_qvalues,
    binom_sf,
    combine_families,
    percent,
    score_of_q,
)
from riskkit_detectors.findings import GroupVerdicts, severity_of
from riskkit_detectors.groups import link_facts
from riskkit_detectors.identity import IdentityGraph, IdentityKey

__all__ = [
    "RingScores",
    "ValueMembers",
    "evidence_verdicts",
    "member_counts",
    "score_candidates",
    "spoke_for",
    "values_showing_sign",
]


@dataclass
class RingScores:
    score: np.ndarray  # per group, 0 outside the candidates
    q: np.ndarray  # Benjamini-Hochberg q-value over the candidates (1 elsewhere)
    family_p: dict[str, np.ndarray]


def score_candidates(lines: Sequence[Line], candidate: np.ndarray) -> RingScores:
    """Group p-values from their families, false discoveries controlled over candidates."""
    n_groups = len(candidate)
    group_p, family_p = combine_families(lines, n_groups)
    codes = np.flatnonzero(candidate)
    q = np.ones(n_groups)
    q[codes] = bh_qvalues(group_p[codes])
    return RingScores(np.where(candidate, score_of_q(q), 0.0), q, family_p)


def spoke_for(lines: Sequence[Line], comp_of_buyer: np.ndarray, at_least: int = 1) -> np.ndarray:
    """Per buyer: it shows itself ``at_least`` signs that spoke against its group."""
    count = np.zeros(len(comp_of_buyer), dtype=np.int64)
    safe = np.maximum(comp_of_buyer, 0)
    for line in lines:
        if line.account_hit is not None:
            count += line.account_hit & (comp_of_buyer >= 0) & (line.p[safe] <= SPEAKS_AT)
    return count >= at_least


def member_counts(
    comp_of_order: np.ndarray, buyer: np.ndarray, n_buyers: int, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group: member accounts and orders (what findings.csv counts)."""
    in_member = comp_of_order >= 0
    orders = np.bincount(comp_of_order[in_member], minlength=n_groups)
    pairs = np.unique(comp_of_order[in_member] * (n_buyers + 1) + buyer[in_member])
    accounts = np.bincount(pairs // (n_buyers + 1), minlength=n_groups)
    return accounts, orders


def evidence_verdicts(
    prefix: str,
    flagged_group: np.ndarray,
    scores: RingScores,
    accounts: np.ndarray,
    orders_per: np.ndarray,
    lines: Sequence[Line],
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    show_pii: bool,
) -> GroupVerdicts:
    """One row per flagged group, strongest first: the families that convicted
    it, its q-value, and every line that spoke, with its background rate."""
    columns = ["code", "group_id", "score", "severity", "reasons", "shared_identifiers"]
    codes = np.flatnonzero(flagged_group)
    codes = codes[np.argsort(-scores.score[codes], kind="stable")]
    if len(codes) == 0:
        return GroupVerdicts(pd.DataFrame(columns=columns))
    link_text = link_facts(graph, keys, codes, {}, show_pii)
    severity = severity_of(scores.score[codes], medium=0.7, high=0.85)
    rows: list[dict[str, object]] = []
    for rank, code in enumerate(codes):
        code = int(code)
        spoke = sorted(
            (f for f, p in scores.family_p.items() if p[code] <= SPEAKS_AT),
            key=lambda f: float(scores.family_p[f][code]),
        )
        reasons: list[str] = [
            f"{int(accounts[code])} accounts, {int(orders_per[code])} orders",
            f"convicted by {', '.join(spoke) or 'several weak lines'} evidence "
            f"(false-discovery q = {scores.q[code]:.2g})",
        ]
        for line in sorted(lines, key=lambda ln: float(ln.p[code])):
            if line.p[code] <= SPEAKS_AT and code in line.facts:
                reasons.append(line.facts[code])
        _, shared = link_text.get(code, ([], []))
        rows.append(
            {
                "code": code,
                "group_id": f"{prefix}-{rank + 1:04d}",
                "score": float(scores.score[code]),
                "severity": str(severity[rank]),
                "reasons": "; ".join(reasons),
                "shared_identifiers": "; ".join(shared),
            }
        )
    return GroupVerdicts(pd.DataFrame(rows, columns=columns))


@dataclass
class ValueMembers:
    """``tied`` per buyer; per group the strongest value's p-value and sentence."""

    tied: np.ndarray
    p: np.ndarray
    facts: dict[int, str]


def values_showing_sign(
    keys: Sequence[IdentityKey],
    comp_of_buyer: np.ndarray,
    convicted: np.ndarray,
    shows: np.ndarray,
    min_accounts: int,
    describe: Callable[[str, int], str],
    rate_of_group: np.ndarray | None = None,
    what: str = "redeemed just over the threshold and never came back",
) -> ValueMembers:
    """Per buyer: it shows the ring's sign and holds an identifier value of
    its convicted group on which far more holders show it than chance puts.

    A drop address written room by room (``…39栋5单元203室``, ``…204室``),
    a locker or a band of phone numbers links a ring's accounts a handful
    per value, each value below what an office or a district's station
    holds by chance, so it ties no one alone.  The value's holders are
    tested together: how many of them show the sign (``shows``: a coupon
    farm's redemption just over the threshold, never back; a brushing
    ring's SKU bought), against the share of that kind's holders outside
    every candidate group who do (binomial tail, Bonferroni over every value
    tested, at least ``min_accounts`` showing it).  An honest household or
    office on such a value shops as people do.
    ``describe(kind, value code)`` names a value in reasons (masked);
    ``rate_of_group``, where given, is the background share per group (a
    sign that depends on the group, such as buying its SKU) and ``what``
    says in reasons what the holders did."""
    n_groups = len(convicted)
    out = ValueMembers(np.zeros(len(comp_of_buyer), dtype=bool), np.ones(n_groups), {})
    found = []
    for key in keys:
        if not (key.codes >= 0).any():
            continue
        pair, _, _ = key.linking
        buyers = pair["b"].to_numpy()
        group = comp_of_buyer[buyers]
        outside = group < 0
        rate = (shows[buyers[outside]].sum() + 1.0) / (outside.sum() + 2.0)
        inside = (group >= 0) & convicted[np.maximum(group, 0)]
        frame = pd.DataFrame(
            {
                "v": pair["v"].to_numpy()[inside],
                "b": buyers[inside],
                "g": group[inside],
                "f": shows[buyers[inside]],
            }
        )
        per = frame.groupby("v").agg(n=("b", "size"), k=("f", "sum"), g=("g", "first"))
        per = per[per["k"] >= min_accounts]
        if len(per):
            found.append((key.kind, frame, per, float(rate)))
    tests = sum(len(per) for _, _, per, _ in found)
    for kind, frame, per, rate in found:
        if rate_of_group is not None:
            per["rate"] = rate_of_group[per["g"].to_numpy(dtype=np.int64)]
        else:
            per["rate"] = rate
        per["p"] = binom_sf(per["k"].to_numpy() - 1, per["n"].to_numpy(), per["rate"]) * tests
        spoke = per[per["p"] <= SPEAKS_AT]
        rows = frame[frame["v"].isin(spoke.index) & frame["f"]]
        out.tied[rows["b"].to_numpy()] = True
        for code, row in spoke.iterrows():
            group = int(row["g"])
            if row["p"] >= out.p[group]:
                continue
            out.p[group] = float(row["p"])
            out.facts[group] = (
                f"{int(row['k'])} of the {int(row['n'])} accounts on {describe(kind, int(code))} "
                f"{what}; in this export {percent(float(row['rate']))} of "
                f"{'other accounts' if rate_of_group is not None else 'accounts holding such values outside candidate groups'} do"
            )
    return out
