"""FRAUDAR-style dense-block search in the buyer x item graph, in time windows.

Greedy peeling (Hooi et al., KDD 2016): repeatedly remove the node whose
removal costs the least weight; the densest prefix-removed subgraph is the
block.  Edges to popular items are down-weighted by ``1/log(degree + 5)``
(camouflage on popular items then barely helps the ring), and buyers carry a
prior weight (their identity links and behaviour), so a block of linked
accounts stands out.  Peeling a whole month finds the honest customer base
of a shop; short windows find rings.  Each block is then expanded with the
buyers that have most of their weight on the block's items, because plain
peeling keeps only the densest core.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

__all__ = ["DenseBlock", "find_dense_blocks", "peel_densest"]


@njit(cache=True)
def _peel(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, prior: np.ndarray
) -> tuple[np.ndarray, int, float]:  # pragma: no cover - compiled
    n = len(prior)
    degree = prior.copy()
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            degree[i] += weights[k]
    # Every edge appears twice in the symmetric adjacency: count it once.
    total = prior.sum() + weights.sum() / 2.0
    alive = np.ones(n, dtype=np.bool_)
    heap = [(degree[i], i) for i in range(n)]
    heapq.heapify(heap)
    removed_order = np.empty(n, dtype=np.int64)
    removed = 0
    remaining = n
    best = total / n if n > 0 else 0.0
    best_removed = 0
    while len(heap) > 0:
        value, node = heapq.heappop(heap)
        if not alive[node] or value > degree[node] + 1e-12:
            continue
        alive[node] = False
        removed_order[removed] = node
        removed += 1
        remaining -= 1
        total -= degree[node]
        for k in range(indptr[node], indptr[node + 1]):
            other = indices[k]
            if alive[other]:
                degree[other] -= weights[k]
                heapq.heappush(heap, (degree[other], other))
        if remaining > 0 and total / remaining > best:
            best = total / remaining
            best_removed = removed
    return removed_order, best_removed, best


def peel_densest(
    n_buyers: int,
    n_items: int,
    buyers: np.ndarray,
    items: np.ndarray,
    edge_weight: np.ndarray,
    buyer_prior: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The densest block: (buyer indices, item indices, density)."""
    n = n_buyers + n_items
    rows = np.concatenate([buyers, n_buyers + items])
    cols = np.concatenate([n_buyers + items, buyers])
    adjacency = csr_matrix((np.concatenate([edge_weight, edge_weight]), (rows, cols)), shape=(n, n))
    adjacency.sum_duplicates()
    prior = np.concatenate([buyer_prior, np.zeros(n_items)]).astype(np.float64)
    order, cut, density = _peel(
        adjacency.indptr.astype(np.int64),
        adjacency.indices.astype(np.int64),
        adjacency.data.astype(np.float64),
        prior,
    )
    keep = order[cut:]
    return keep[keep < n_buyers], keep[keep >= n_buyers] - n_buyers, float(density)


@dataclass(frozen=True)
class DenseBlock:
    """A dense buyer x item block found in one window (global buyer/item codes)."""

    buyers: np.ndarray
    items: np.ndarray
    density: float
    window_start: float
    window_end: float


def find_dense_blocks(
    buyer: np.ndarray,
    item: np.ndarray,
    time: np.ndarray,
    buyer_prior: np.ndarray,
    item_degree: np.ndarray,
    window: float,
    min_density: float,
    min_buyers: int = 3,
    max_blocks_per_window: int = 8,
    expand_share: float = 0.5,
    expand_prior: float = 0.3,
) -> list[DenseBlock]:
    """Dense blocks in overlapping windows of length ``window`` (half-window steps).

    ``buyer``/``item``/``time`` are one edge per order line (codes and
    seconds); ``item_degree`` is each item's number of buyers over the whole
    export (the popularity that down-weights it).  Blocks below
    ``min_density`` end the search in a window.  Expansion adds buyers of the
    window whose edge weight on the block's items is at least
    ``expand_share`` of their total weight in the window.
    """
    blocks: list[DenseBlock] = []
    if len(time) == 0:
        return blocks
    weight_of_item = 1.0 / np.log(item_degree.astype(np.float64) + 5.0)
    order = np.argsort(time, kind="stable")
    time_sorted = time[order]
    start = float(time_sorted[0])
    end = float(time_sorted[-1])
    step = window / 2.0
    while start <= end:
        lo = np.searchsorted(time_sorted, start, side="left")
        hi = np.searchsorted(time_sorted, start + window, side="left")
        edges = order[lo:hi]
        if len(edges) >= min_buyers:
            blocks.extend(
                _blocks_in_window(
                    buyer[edges],
                    item[edges],
                    weight_of_item,
                    buyer_prior,
                    min_density,
                    min_buyers,
                    max_blocks_per_window,
                    expand_share,
                    expand_prior,
                    start,
                    start + window,
                )
            )
        start += step
    return blocks


def _blocks_in_window(
    buyer: np.ndarray,
    item: np.ndarray,
    weight_of_item: np.ndarray,
    buyer_prior: np.ndarray,
    min_density: float,
    min_buyers: int,
    max_blocks: int,
    expand_share: float,
    expand_prior: float,
    window_start: float,
    window_end: float,
) -> list[DenseBlock]:
    # An item bought by fewer than ``min_buyers`` accounts in the window cannot
    # be part of a block: dropping those edges first shrinks the graph tenfold.
    pair_key = np.unique(buyer.astype(np.int64) * (int(item.max()) + 1) + item)
    pair_buyer, pair_item = np.divmod(pair_key, int(item.max()) + 1)
    item_buyers = np.bincount(pair_item)
    keep = item_buyers[pair_item] >= min_buyers
    if keep.sum() < min_buyers:
        return []
    buyer, item = pair_buyer[keep], pair_item[keep]
    buyer_local, buyer_global = _factorize(buyer)
    item_local, item_global = _factorize(item)
    # One edge per (buyer, item) pair: repeat purchases are not extra density.
    pair = np.unique(buyer_local * len(item_global) + item_local)
    b = pair // len(item_global)
    i = pair % len(item_global)
    w = weight_of_item[item_global[i]]
    prior = buyer_prior[buyer_global]
    alive = np.ones(len(pair), dtype=bool)
    buyer_total = np.bincount(b, weights=w, minlength=len(buyer_global))
    found: list[DenseBlock] = []
    for _ in range(max_blocks):
        if alive.sum() < min_buyers:
            break
        block_b, block_i, density = peel_densest(
            len(buyer_global), len(item_global), b[alive], i[alive], w[alive], prior
        )
        if density < min_density or len(block_b) < min_buyers or len(block_i) == 0:
            break
        in_items = np.zeros(len(item_global), dtype=bool)
        in_items[block_i] = True
        on_block = np.bincount(b, weights=w * in_items[i], minlength=len(buyer_global))
        edges_on_block = np.bincount(b, weights=in_items[i], minlength=len(buyer_global))
        # Expansion: buyers of the window whose purchases sit mostly on the block's
        # items, and who either bought several of them or are suspicious already.
        expanded = np.flatnonzero(
            (on_block >= expand_share * np.maximum(buyer_total, 1e-12))
            & ((edges_on_block >= 2) | (prior >= expand_prior))
        )
        core_edges = np.bincount(b[alive], weights=in_items[i[alive]], minlength=len(buyer_global))
        core = block_b[core_edges[block_b] > 0]
        members = np.union1d(core, expanded)
        found.append(
            DenseBlock(
                buyers=buyer_global[members],
                items=item_global[block_i],
                density=density,
                window_start=window_start,
                window_end=window_end,
            )
        )
        # Remove the block's buyers and go on peeling what is left of the window.
        is_member = np.zeros(len(buyer_global), dtype=bool)
        is_member[members] = True
        alive &= ~is_member[b]
        prior = np.where(is_member, 0.0, prior)
    return found


def _factorize(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques, local = np.unique(codes, return_inverse=True)
    return local.astype(np.int64), uniques.astype(np.int64)
