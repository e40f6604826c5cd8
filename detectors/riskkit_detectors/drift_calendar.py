"""The promotions calendar: expected spikes and declared offers.

A YAML file (read with ``yaml.safe_load``) listing promotions::

    promotions:
      - name: 双11
        start: 2026-11-11 00:00
        end: 2026-11-12 00:00        # exclusive; a bare date means the whole day
        kind: festival               # festival | flash_sale | coupon | new_user_offer | member_offer | other
      - name: evening flash sale
        start: 2026-11-03 20:00
        end: 2026-11-03 21:00
        kind: flash_sale
        skus: [SKU-0042, SKU-0043]   # optional: only these SKUs (default: the whole shop)
      - name: new-user price
        start: 2026-11-01
        end: 2026-11-30
        kind: new_user_offer
        audience: new                # optional: new | returning | <member tier> | <platform>

The traffic-drift detector annotates windows that overlap a shop-wide
promotion instead of alarming on them.  The price-discrimination detector
uses promotions as strata: orders inside a declared promotion are compared
only with orders inside the same promotion and audience, so a declared
flash sale or new-user offer is never read as discrimination.

A top-level list (without the ``promotions`` key) is accepted too; aliases
``starts_at``/``ends_at`` and ``sku_ids`` are read as ``start``/``end``/``skus``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from riskkit.datafile import read_yaml
from riskkit.errors import InputError

__all__ = ["Promotion", "PromotionCalendar", "load_calendar"]

PROMOTION_KINDS = (
    "festival",
    "flash_sale",
    "coupon",
    "new_user_offer",
    "member_offer",
    "other",
)
# A festival (双11, 618) is followed by days of returns, late parcels and a
# spending lull; a flash sale or coupon day is over when it ends.
AFTERMATH_DAYS: dict[str, float] = {"festival": 3.0}

_ALIASES = {"starts_at": "start", "ends_at": "end", "sku_ids": "skus", "title": "name"}


def _as_datetime(value: Any, is_end: bool) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else _wall_clock(value)
    if isinstance(value, dt.date):
        day = dt.datetime.combine(value, dt.time())
        return day + dt.timedelta(days=1) if is_end else day
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return _as_datetime(dt.date.fromisoformat(text), is_end)
            parsed = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not a date or datetime: {value!r}") from exc
        return parsed if parsed.tzinfo is None else _wall_clock(parsed)
    raise ValueError(f"not a date or datetime: {value!r}")


def _wall_clock(value: dt.datetime) -> dt.datetime:
    # Orders are in the shop's wall clock; a promotion written with an offset
    # means the wall-clock time of that offset (the same rule as the readers).
    return value.replace(tzinfo=None)


class Promotion(BaseModel):
    """One declared promotion: a time range, optionally limited to SKUs or an audience."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1)
    start: dt.datetime
    end: dt.datetime
    kind: str = "other"
    skus: tuple[str, ...] = ()
    audience: str | None = None
    # Days after the end during which orders still run differently (a
    # festival's lull, returns and late deliveries); default by kind.
    aftermath_days: float | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("each promotion must be a mapping with name, start and end")
        out = {_ALIASES.get(str(k), str(k)): v for k, v in data.items()}
        for key, is_end in (("start", False), ("end", True)):
            if key in out:
                out[key] = _as_datetime(out[key], is_end)
        if "skus" in out:
            skus = out["skus"]
            if isinstance(skus, str | int):
                skus = [skus]
            if not isinstance(skus, list | tuple):
                raise ValueError("skus must be a list of SKU ids")
            out["skus"] = tuple(str(s) for s in skus)
        if out.get("name") is not None:
            out["name"] = str(out["name"])
        if out.get("audience") is not None:
            out["audience"] = str(out["audience"]).strip().lower()
        return out

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        value = value.strip().lower().replace("-", "_")
        if value not in PROMOTION_KINDS:
            raise ValueError(f"kind must be one of {', '.join(PROMOTION_KINDS)}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Promotion:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self

    @property
    def shop_wide(self) -> bool:
        return not self.skus and self.audience is None

    def label(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def aftermath_end(self) -> dt.datetime:
        days = self.aftermath_days
        if days is None:
            days = AFTERMATH_DAYS.get(self.kind, 0.0)
        return self.end + dt.timedelta(days=days)


class PromotionCalendar(BaseModel):
    """All declared promotions of a shop."""

    promotions: tuple[Promotion, ...] = ()

    def overlapping(self, start: dt.datetime, end: dt.datetime) -> list[Promotion]:
        """Promotions whose time range overlaps ``[start, end)``."""
        return [p for p in self.promotions if p.start < end and p.end > start]

    def in_aftermath(self, start: dt.datetime, end: dt.datetime) -> list[Promotion]:
        """Promotions whose aftermath (after the end) overlaps ``[start, end)``."""
        return [p for p in self.promotions if p.end < end and p.aftermath_end > start]

    def promotion_codes(
        self,
        created_at: pd.Series,
        sku_id: pd.Series | None,
        audiences: dict[str, pd.Series],
    ) -> np.ndarray:
        """Per order line, 0 when no promotion applies, else 1 + the index of
        the last declared promotion that covers the line's time, SKU and audience.

        ``audiences`` maps lowercase audience values (``new``, ``returning``,
        a member tier, a platform) to boolean masks of the lines in them.
        """
        codes = np.zeros(len(created_at), dtype=np.int32)
        if not self.promotions:
            return codes
        times = created_at.to_numpy(dtype="datetime64[ns]")
        # Promotions are short: find each one's lines by binary search on sorted
        # times instead of comparing every line with every promotion.
        by_time = (
            None if bool(np.all(times[1:] >= times[:-1])) else np.argsort(times, kind="stable")
        )
        sorted_times = times if by_time is None else times[by_time]
        sku_codes: np.ndarray | None = None
        sku_index: dict[str, int] = {}
        if sku_id is not None and any(p.skus for p in self.promotions):
            sku_codes, uniques = pd.factorize(sku_id)
            sku_index = {str(s): i for i, s in enumerate(uniques)}
        for index, promo in enumerate(self.promotions, start=1):
            low, high = np.searchsorted(
                sorted_times, [np.datetime64(promo.start, "ns"), np.datetime64(promo.end, "ns")]
            )
            lines = np.arange(low, high) if by_time is None else by_time[low:high]
            if promo.skus:
                if sku_codes is None:
                    continue
                wanted = [sku_index[s] for s in promo.skus if s in sku_index]
                lines = lines[np.isin(sku_codes[lines], wanted)]
            if promo.audience is not None:
                audience_mask = audiences.get(promo.audience)
                if audience_mask is None:
                    continue  # an audience this export cannot tell: leave those lines alone
                lines = lines[audience_mask.to_numpy(dtype=bool)[lines]]
            codes[lines] = index
        return codes


def parse_calendar(data: Any, file: str | Path | None = None) -> PromotionCalendar:
    """Validate an already-loaded calendar document."""
    if data is None:
        return PromotionCalendar()
    if isinstance(data, dict):
        unknown = set(data) - {"promotions"}
        if unknown:
            raise InputError(
                f"unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}; "
                "expected 'promotions'",
                file=file,
            )
        items = data.get("promotions") or []
    elif isinstance(data, list):
        items = data
    else:
        raise InputError("a promotions calendar is a list of promotions", file=file)
    if not isinstance(items, list):
        raise InputError("'promotions' must be a list", file=file)
    promotions: list[Promotion] = []
    for number, item in enumerate(items, start=1):
        try:
            promotions.append(Promotion.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'promotion'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InputError(f"promotion #{number}: {problems}", file=file) from None
    return PromotionCalendar(promotions=tuple(promotions))


def load_calendar(path: str | Path | None) -> PromotionCalendar:
    """Read and validate a promotions calendar; a bad file raises :class:`InputError`."""
    if path is None or str(path) == "":
        return PromotionCalendar()
    file = Path(path)
    return parse_calendar(read_yaml(file, "promotions calendar"), file=file)
