"""Orders of the adversarial world as structs of integer arrays, before any string exists.

Every source of orders (honest segments, look-alikes, rings, bot days) returns
a ``Part``: its orders plus their lines. Sources decide what they know (who,
when, from which device/IP, to which address, how fast they pay, how they
review); :mod:`riskkit.synth.adversarial.logistics` fills in the rest the
same way for everybody.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from riskkit.synth.batch import Lines

__all__ = [
    "AUTO",
    "REVIEW_HONEST",
    "REVIEW_NEVER",
    "REVIEW_QUICK",
    "REVIEW_SCRIPTED",
    "Part",
    "concat_parts",
    "lines_for",
]

IntArray = npt.NDArray[np.int64]

AUTO = -1  # "let logistics decide the honest default"
# How an order gets reviewed.
REVIEW_HONEST, REVIEW_QUICK, REVIEW_SCRIPTED, REVIEW_NEVER = range(4)


@dataclass
class Part:
    """Order-level facts of one source's orders.

    ``recipient`` indexes the accounts table like ``buyer``: a gift sender's
    parcels go to other people. ``pay_delay`` is seconds from order to payment
    (``AUTO``: the honest distribution). ``seller_waybill``/``seller_carrier``
    are set for 空包 parcels whose waybill comes from a waybill seller, not
    from the shop's printer; ``transit`` forces the seconds from shipping to
    receipt. ``coupon`` is ``AUTO`` where the honest coupon rules decide.
    Codes index the tables of :mod:`riskkit.synth.adversarial.world`.
    """

    buyer: IntArray
    recipient: IntArray
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
    pay_delay: IntArray
    seller_carrier: IntArray
    seller_waybill: IntArray
    transit: IntArray
    review: IntArray
    refundable: IntArray

    @property
    def size(self) -> int:
        return len(self.buyer)

    @classmethod
    def start(
        cls,
        buyer: IntArray,
        created: IntArray,
        platform: IntArray,
        channel: IntArray,
        device: IntArray,
        ip: IntArray,
        address: IntArray,
    ) -> Part:
        """Honest defaults for everything not given (label 0 = honest, no group)."""
        size = len(buyer)
        auto = np.full(size, AUTO, dtype=np.int64)
        zeros = np.zeros(size, dtype=np.int64)
        return cls(
            buyer=np.asarray(buyer, dtype=np.int64),
            recipient=np.asarray(buyer, dtype=np.int64).copy(),
            created=np.asarray(created, dtype=np.int64),
            platform=np.asarray(platform, dtype=np.int64),
            channel=np.asarray(channel, dtype=np.int64),
            device=np.asarray(device, dtype=np.int64),
            ip=np.asarray(ip, dtype=np.int64),
            address=np.asarray(address, dtype=np.int64),
            coupon=auto.copy(),
            label=zeros.copy(),
            group=auto.copy(),
            lookalike=zeros.copy(),
            pay_delay=auto.copy(),
            seller_carrier=auto.copy(),
            seller_waybill=auto.copy(),
            transit=auto.copy(),
            review=np.full(size, REVIEW_HONEST, dtype=np.int64),
            refundable=np.ones(size, dtype=np.int64),
        )

    def take(self, index: IntArray) -> Part:
        return Part(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def lines_for(
    sku: IntArray, quantity: IntArray, owner: IntArray, price: IntArray, list_price: IntArray
) -> Lines:
    """Lines from explicit SKUs; ``owner`` (non-decreasing) indexes the part's orders."""
    return Lines(
        order=np.asarray(owner, dtype=np.int64),
        sku=np.asarray(sku, dtype=np.int64),
        quantity=np.asarray(quantity, dtype=np.int64),
        unit_price=price[sku].astype(np.int64),
        list_price=list_price[sku].astype(np.int64),
    )


def concat_parts(parts: list[tuple[Part, Lines]]) -> tuple[Part, Lines]:
    """Stack parts; line owners are shifted to the combined orders."""
    orders = Part(
        **{
            f.name: np.concatenate([getattr(part, f.name) for part, _ in parts]).astype(np.int64)
            for f in fields(Part)
        }
    )
    offsets = np.cumsum([0] + [part.size for part, _ in parts[:-1]])
    lines = Lines(
        order=np.concatenate([ln.order + off for (_, ln), off in zip(parts, offsets, strict=True)]),
        sku=np.concatenate([ln.sku for _, ln in parts]),
        quantity=np.concatenate([ln.quantity for _, ln in parts]),
        unit_price=np.concatenate([ln.unit_price for _, ln in parts]),
        list_price=np.concatenate([ln.list_price for _, ln in parts]),
    )
    return orders, lines
