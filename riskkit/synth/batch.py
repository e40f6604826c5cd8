"""Orders and their lines as structs of numpy arrays, before any string exists."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol, Self, TypeVar

import numpy as np
import numpy.typing as npt

from riskkit.synth.config import HONEST, NO_LOOKALIKE

__all__ = ["NARROW_FIELDS", "UNSET", "Lines", "OrderBatch", "concat_batches"]

IntArray = npt.NDArray[np.int64]

UNSET = -1


@dataclass
class Lines:
    """Order lines; ``order`` indexes the owning batch's orders and is non-decreasing."""

    order: IntArray
    sku: IntArray
    quantity: IntArray
    unit_price: IntArray  # cents, before coupons
    list_price: IntArray  # cents

    @property
    def size(self) -> int:
        return len(self.order)


@dataclass
class OrderBatch:
    """Order-level facts of a group of orders.

    Timestamps are integer seconds since the period start. ``UNSET`` (-1) in
    ``paid``/``shipped``/``received``/``reviewed``/``waybill``/``carrier``
    asks :func:`riskkit.synth.behaviour.fill_fulfilment` for the honest default.
    Boolean-like integer flags (0/1) select ring behaviour.
    """

    buyer: IntArray
    created: IntArray
    platform: IntArray
    channel: IntArray
    device: IntArray
    ip: IntArray
    address: IntArray
    coupon: IntArray
    label: IntArray
    group: IntArray
    lookalike: IntArray
    instant_pay: IntArray
    empty_parcel: IntArray
    instant_review: IntArray
    carrier: IntArray
    waybill: IntArray
    no_refund: IntArray

    @property
    def size(self) -> int:
        return len(self.buyer)

    @classmethod
    def honest(
        cls,
        buyer: IntArray,
        created: IntArray,
        platform: IntArray,
        channel: IntArray,
        device: IntArray,
        ip: IntArray,
        address: IntArray,
        lookalike: IntArray | None = None,
    ) -> OrderBatch:
        """A batch with honest defaults for everything not given."""
        size = len(buyer)
        zeros = np.zeros(size, dtype=np.int64)
        unset = np.full(size, UNSET, dtype=np.int64)
        return cls(
            buyer=buyer,
            created=created,
            platform=platform,
            channel=channel,
            device=device,
            ip=ip,
            address=address,
            coupon=zeros.copy(),
            label=np.full(size, HONEST, dtype=np.int64),
            group=unset.copy(),
            lookalike=(
                np.full(size, NO_LOOKALIKE, dtype=np.int64) if lookalike is None else lookalike
            ),
            instant_pay=zeros.copy(),
            empty_parcel=zeros.copy(),
            instant_review=zeros.copy(),
            carrier=unset.copy(),
            waybill=unset.copy(),
            no_refund=zeros.copy(),
        )

    def take(self, index: IntArray) -> OrderBatch:
        return OrderBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


# Small codes and flags are stored narrow: at ten million orders this halves the batch.
NARROW_FIELDS: dict[str, type[np.integer]] = {
    "platform": np.int8,
    "channel": np.int8,
    "coupon": np.int8,
    "label": np.int8,
    "lookalike": np.int8,
    "instant_pay": np.int8,
    "empty_parcel": np.int8,
    "instant_review": np.int8,
    "carrier": np.int8,
    "no_refund": np.int8,
    "group": np.int32,
}


def concat_batches(
    parts: list[tuple[OrderBatch, Lines]],
) -> tuple[OrderBatch, Lines]:
    """Stack batches; line ``order`` indices are shifted to the combined batch."""
    orders = OrderBatch(
        **{
            f.name: np.concatenate(
                [getattr(batch, f.name) for batch, _ in parts],
                dtype=NARROW_FIELDS.get(f.name, np.int64),
            )
            for f in fields(OrderBatch)
        }
    )
    offsets = np.cumsum([0] + [batch.size for batch, _ in parts[:-1]])
    lines = Lines(
        order=np.concatenate([ln.order + off for (_, ln), off in zip(parts, offsets, strict=True)]),
        sku=np.concatenate([ln.sku for _, ln in parts]),
        quantity=np.concatenate([ln.quantity for _, ln in parts]),
        unit_price=np.concatenate([ln.unit_price for _, ln in parts]),
        list_price=np.concatenate([ln.list_price for _, ln in parts]),
    )
    return orders, lines


class _TimedOrders(Protocol):
    @property
    def created(self) -> npt.NDArray[np.int64]: ...

    def take(self, index: npt.NDArray[np.int64]) -> Self: ...


TimedOrders = TypeVar("TimedOrders", bound=_TimedOrders)


def sorted_by_time(orders: TimedOrders, lines: Lines) -> tuple[TimedOrders, Lines]:
    """Orders in time order (stable) and their lines renumbered and sorted with them."""
    order_perm = np.argsort(orders.created, kind="stable")
    rank = np.empty_like(order_perm)
    rank[order_perm] = np.arange(len(order_perm))
    new_order = rank[lines.order]
    line_perm = np.argsort(new_order, kind="stable")
    return orders.take(order_perm), Lines(
        order=new_order[line_perm],
        sku=lines.sku[line_perm],
        quantity=lines.quantity[line_perm],
        unit_price=lines.unit_price[line_perm],
        list_price=lines.list_price[line_perm],
    )
