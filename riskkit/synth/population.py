"""Who and what the marketplace is made of: addresses, buyers, shops and SKUs.

All tables are structs of numpy arrays indexed by integer codes; strings are
only produced when the canonical frame is assembled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.synth import geo
from riskkit.synth.config import PLATFORMS

__all__ = [
    "ADDRESS_FIELDS",
    "BUYER_FIELDS",
    "DISTRICT_NAMES",
    "DISTRICT_WEIGHT",
    "STATION",
    "AddressBook",
    "Buyers",
    "Catalog",
    "GrowingColumns",
    "build_catalog",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DISTRICT_CITY = np.array(
    [c for c, city in enumerate(geo.CITIES) for _ in city.districts], dtype=np.int64
)
DISTRICT_NAMES: tuple[str, ...] = tuple(d for city in geo.CITIES for d in city.districts)
DISTRICT_LOCAL = np.array([i for city in geo.CITIES for i in range(len(city.districts))])
_CITY_WEIGHT = np.array([c.weight for c in geo.CITIES])
DISTRICT_WEIGHT = _CITY_WEIGHT[DISTRICT_CITY] / np.bincount(DISTRICT_CITY)[DISTRICT_CITY]
DISTRICT_WEIGHT = DISTRICT_WEIGHT / DISTRICT_WEIGHT.sum()

ADDRESS_FIELDS: tuple[str, ...] = (
    "district",
    "street",
    "street_no",
    "community",
    "building",
    "unit",
    "room",
    "building_word",  # 0 号楼, 1 栋, 2 幢: the same building written three ways
    "show_province",
    "spaced",
    "drop_kind",  # 0 home, 1 菜鸟驿站 of the street, 2 快递柜 of the community
)
BUILDING_WORDS: tuple[str, ...] = ("号楼", "栋", "幢")
HOME, STATION, LOCKER = 0, 1, 2


class GrowingColumns:
    """Integer columns grown by appending: appends are amortised O(1), reads are views."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._data: dict[str, IntArray] = {name: np.zeros(1024, np.int64) for name in names}
        self.size = 0

    def append(self, columns: Mapping[str, IntArray]) -> IntArray:
        """Add rows; returns their codes (row numbers)."""
        lengths = {len(values) for values in columns.values()}
        if len(lengths) != 1 or set(columns) != set(self.names):
            raise ValueError("columns must be complete and of equal length")
        count = lengths.pop()
        end = self.size + count
        capacity = len(self._data[self.names[0]])
        if end > capacity:
            grown = max(2 * capacity, end)
            for name, old in self._data.items():
                bigger = np.zeros(grown, np.int64)
                bigger[: self.size] = old[: self.size]
                self._data[name] = bigger
        for name, values in columns.items():
            self._data[name][self.size : end] = values
        codes = np.arange(self.size, end, dtype=np.int64)
        self.size = end
        return codes

    def column(self, name: str) -> IntArray:
        """A read-only view of one column."""
        view = self._data[name][: self.size]
        view.flags.writeable = False
        return view

    def replace(self, name: str, values: IntArray) -> None:
        self._data[name][: self.size] = values


class AddressBook(GrowingColumns):
    """Shipping addresses as integer components; ``add`` returns their codes."""

    def __init__(self) -> None:
        super().__init__(ADDRESS_FIELDS)

    def add(self, columns: dict[str, IntArray]) -> IntArray:
        return self.append(columns)

    def sample(self, rng: np.random.Generator, size: int) -> dict[str, IntArray]:
        """Random home addresses (not yet added)."""
        district = rng.choice(len(DISTRICT_NAMES), size=size, p=DISTRICT_WEIGHT)
        return {
            "district": district.astype(np.int64),
            "street": rng.integers(0, len(geo.STREETS), size),
            "street_no": rng.integers(1, 400, size),
            "community": rng.integers(0, len(geo.COMMUNITIES), size),
            "building": rng.integers(1, 40, size),
            "unit": rng.integers(1, 7, size),
            "room": rng.integers(1, 33, size) * 100 + rng.integers(1, 7, size),
            "building_word": rng.choice(3, size=size, p=[0.5, 0.35, 0.15]).astype(np.int64),
            "show_province": np.ones(size, dtype=np.int64),
            "spaced": (rng.random(size) < 0.2).astype(np.int64),
            "drop_kind": np.zeros(size, dtype=np.int64),
        }

    def format(self, codes: IntArray) -> dict[str, pa.Array]:
        """Parts of the addresses at ``codes``.

        ``full`` is the address as the buyer wrote it; ``line`` the part after
        the city (district + detail); ``province_written`` is empty where the
        buyer left the province out.
        """
        col = {name: self.column(name)[codes] for name in ADDRESS_FIELDS}
        city_index = DISTRICT_CITY[col["district"]]
        province = geo.lookup([c.province for c in geo.CITIES], city_index)
        city = geo.lookup([c.city for c in geo.CITIES], city_index)
        district = geo.lookup(DISTRICT_NAMES, col["district"])
        street = geo.concat(geo.lookup(geo.STREETS, col["street"]), geo.numbers(col["street_no"]))
        community = geo.lookup(geo.COMMUNITIES, col["community"])
        building = geo.concat(
            geo.numbers(col["building"]), geo.lookup(BUILDING_WORDS, col["building_word"])
        )
        home = geo.concat(
            street,
            "号",
            community,
            building,
            geo.numbers(col["unit"]),
            "单元",
            geo.numbers(col["room"]),
            "室",
        )
        station = geo.concat(street, "号", community, "菜鸟驿站")
        locker = geo.concat(community, building, "丰巢快递柜")
        kind = pa.array(col["drop_kind"])
        detail = pc.if_else(
            pc.equal(kind, HOME), home, pc.if_else(pc.equal(kind, STATION), station, locker)
        )
        municipality = pc.equal(province, city)
        shown = pc.and_(pa.array(col["show_province"] == 1), pc.invert(municipality))
        province_part = pc.if_else(shown, province, pa.scalar("", pa.string()))
        tight = geo.concat(province_part, city, district, detail)
        spaced_province = pc.if_else(shown, geo.concat(province, " "), pa.scalar("", pa.string()))
        spaced = geo.concat(spaced_province, city, " ", district, " ", detail)
        is_spaced = pa.array(col["spaced"] == 1)
        full = pc.if_else(is_spaced, spaced, tight)
        line = pc.if_else(
            is_spaced, geo.concat(district, " ", detail), geo.concat(district, detail)
        )
        zip_prefix = geo.lookup([c.zip_prefix for c in geo.CITIES], city_index)
        zip_code = geo.concat(zip_prefix, geo.digits(DISTRICT_LOCAL[col["district"]] * 100, 3))
        return {
            "province": province,
            "province_written": province_part,
            "line": line,
            "city": city,
            "district": district,
            "detail": detail,
            "zip": zip_code,
            "full": full,
        }


BUYER_FIELDS: tuple[str, ...] = (
    "registered",  # seconds; -1 = derived from the first order
    "tier",
    "platform",
    "device",
    "home_ip",
    "address",
    "phone",
    "surname",
    "given",  # >= len(GIVEN_NAMES): an honorific (先生/女士)
    "new_account",
    "lookalike",
)


class Buyers(GrowingColumns):
    """Buyer accounts: one entry per account, honest and fraudulent alike."""

    def __init__(self) -> None:
        super().__init__(BUYER_FIELDS)

    def add(self, **columns: IntArray) -> IntArray:
        return self.append(columns)

    def sample_tiers(self, rng: np.random.Generator, size: int) -> IntArray:
        return rng.choice(4, size=size, p=[0.55, 0.25, 0.15, 0.05]).astype(np.int64)

    def sample_platforms(self, rng: np.random.Generator, size: int) -> IntArray:
        share = [0.3, 0.45, 0.1, 0.15]
        return rng.choice(len(PLATFORMS), size=size, p=share).astype(np.int64)


CATEGORIES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("女装", ("连衣裙", "针织开衫", "羊毛大衣", "卫衣", "半身裙"), 150.0),
    ("男装", ("纯棉T恤", "夹克", "休闲裤", "羽绒服"), 140.0),
    ("数码", ("蓝牙耳机", "充电宝", "数据线", "手机壳", "智能手表"), 95.0),
    ("家电", ("空气炸锅", "电热水壶", "吹风机", "电饭煲"), 260.0),
    ("美妆", ("面膜", "口红", "精华液", "防晒霜", "洗面奶"), 120.0),
    ("食品", ("坚果礼盒", "牛肉干", "螺蛳粉", "咖啡豆", "大米"), 55.0),
    ("家居", ("四件套", "收纳盒", "抱枕", "棉拖鞋", "毛巾"), 75.0),
    ("母婴", ("纸尿裤", "奶粉", "婴儿湿巾", "儿童保温杯"), 115.0),
    ("运动", ("瑜伽垫", "跑步鞋", "运动背包", "跳绳"), 160.0),
    ("图书", ("小说", "绘本", "教辅", "漫画"), 42.0),
)
_BRAND_SYLLABLES = tuple("优品佳美乐源悦森禾御星云木鹿熊初然野子小南北一半朵拾光")
_SHOP_SUFFIXES = ("旗舰店", "专营店", "企业店", "小店", "官方店")
_SPECS = ("", "经典款", "升级款", "加大码", "礼盒装", "2件装", "新款", "家庭装")


@dataclass(frozen=True)
class Catalog:
    """Shops and SKUs. SKUs of one shop are contiguous; ``sku_weight`` sums to one."""

    shop_weight: FloatArray
    shop_sku_start: IntArray
    shop_sku_count: IntArray
    shop_names: tuple[str, ...]
    shop_ids: tuple[str, ...]
    sku_shop: IntArray
    sku_price: IntArray  # cents, before coupons
    sku_list_price: IntArray  # cents, >= sku_price
    sku_weight: FloatArray
    sku_cumulative: FloatArray
    sku_titles: tuple[str, ...]
    sku_ids: tuple[str, ...]

    def same_shop_skus(self, rng: np.random.Generator, shops: IntArray) -> IntArray:
        """One SKU per entry of ``shops``, by popularity within that shop."""
        start = self.shop_sku_start[shops]
        end = start + self.shop_sku_count[shops]
        low = np.where(start > 0, self.sku_cumulative[np.maximum(start - 1, 0)], 0.0)
        high = self.sku_cumulative[end - 1]
        picked = np.searchsorted(self.sku_cumulative, low + rng.random(len(shops)) * (high - low))
        return np.asarray(np.clip(picked, start, end - 1), dtype=np.int64)

    def popular_skus(self, rng: np.random.Generator, size: int) -> IntArray:
        """SKUs drawn by marketplace-wide popularity."""
        picked = np.searchsorted(self.sku_cumulative, rng.random(size) * self.sku_cumulative[-1])
        return np.asarray(np.minimum(picked, len(self.sku_shop) - 1), dtype=np.int64)


def _zipf_weights(size: int, exponent: float, offset: float = 1.0) -> FloatArray:
    weights: FloatArray = 1.0 / (np.arange(size, dtype=np.float64) + offset) ** exponent
    return weights / float(weights.sum())


def build_catalog(rng: np.random.Generator, shop_count: int, sku_count: int) -> Catalog:
    """Shops with Zipf popularity, each selling SKUs with Zipf popularity."""
    shop_weight = _zipf_weights(shop_count, 0.9, 2.0)
    raw_counts = np.sqrt(shop_weight) / np.sqrt(shop_weight).sum() * sku_count
    shop_sku_count = np.maximum(5, raw_counts.astype(np.int64))
    shop_sku_start = np.concatenate([[0], np.cumsum(shop_sku_count)[:-1]]).astype(np.int64)
    total = int(shop_sku_count.sum())
    sku_shop = np.repeat(np.arange(shop_count, dtype=np.int64), shop_sku_count)
    rank_in_shop = np.arange(total) - shop_sku_start[sku_shop]
    within = 1.0 / (rank_in_shop + 1.0) ** 1.1
    within_total = np.bincount(sku_shop, weights=within)
    sku_weight = shop_weight[sku_shop] * within / within_total[sku_shop]
    sku_weight = sku_weight / sku_weight.sum()

    shop_category = rng.integers(0, len(CATEGORIES), shop_count)
    sku_category = shop_category[sku_shop]
    median = np.array([c[2] for c in CATEGORIES])[sku_category]
    yuan = np.maximum(5, np.round(median * rng.lognormal(0.0, 0.65, total)))
    sku_price = (yuan * 100 - np.where(rng.random(total) < 0.6, 10, 0)).astype(np.int64)
    markup = np.where(rng.random(total) < 0.3, 0.0, rng.uniform(0.1, 0.6, total))
    sku_list_price = np.maximum(sku_price, np.ceil(sku_price * (1 + markup) / 100) * 100)

    brand = [
        _BRAND_SYLLABLES[a] + _BRAND_SYLLABLES[b]
        for a, b in rng.integers(0, len(_BRAND_SYLLABLES), (shop_count, 2))
    ]
    suffix = rng.integers(0, len(_SHOP_SUFFIXES), shop_count)
    shop_names = tuple(
        f"{brand[s]}{CATEGORIES[shop_category[s]][0]}{_SHOP_SUFFIXES[suffix[s]]}"
        for s in range(shop_count)
    )
    shop_numbers = 57_000_000 + rng.choice(2_000_000, size=shop_count, replace=False)
    product = rng.integers(0, 1000, total)
    spec = rng.integers(0, len(_SPECS), total)
    sku_titles = tuple(
        f"{brand[sku_shop[k]]}{_pick(CATEGORIES[sku_category[k]][1], product[k])}{_SPECS[spec[k]]}"
        for k in range(total)
    )
    sku_numbers = 10_000_000 + rng.choice(80_000_000, size=total, replace=False)
    return Catalog(
        shop_weight=shop_weight,
        shop_sku_start=shop_sku_start,
        shop_sku_count=shop_sku_count,
        shop_names=shop_names,
        shop_ids=tuple(str(n) for n in shop_numbers),
        sku_shop=sku_shop,
        sku_price=sku_price,
        sku_list_price=sku_list_price.astype(np.int64),
        sku_weight=sku_weight,
        sku_cumulative=np.cumsum(sku_weight),
        sku_titles=sku_titles,
        sku_ids=tuple(f"SKU{n}" for n in sku_numbers),
    )


def _pick(options: tuple[str, ...], index: np.int64) -> str:
    return options[int(index) % len(options)]
