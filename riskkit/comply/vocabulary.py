"""Reading evidence values as the shop wrote them: wordings and price-basis labels.

Real exports write ``消费者定作`` or ``已退款``, not riskkit's codes.  The policy
files map each code to its usual wordings (``wordings:``) and say how to read a
compared price's stated basis (``price_basis_labels:``); files given with
``--policies-dir`` extend both.  A value no file knows is reported by the rules
as ``not_checked`` with the value quoted, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from riskkit.comply.models import PolicyFile, PriceBasisLabel, Wordings
from riskkit.datafile import yaml_line
from riskkit.errors import InputError

__all__ = [
    "WORDING_DOMAINS",
    "BasisReading",
    "Vocabulary",
    "build_vocabulary",
    "normalise_wording",
]

WORDING_DOMAINS: tuple[str, ...] = tuple(Wordings.model_fields)

_LIST_NUMBER = re.compile(
    r"^(?:\(?[0-9一二三四五六七八九十]+[)、.:]|\([0-9一二三四五六七八九十]+\))"
)
_EDGE_PUNCTUATION = " \t\r\n.,;:!?。，；：！？、'\"“”‘’"
# "鲜活易腐的商品" and "鲜活易腐" are the same wording; longest suffix first
_NOUN_SUFFIXES = ("的商品", "商品", "的")
_CHINESE_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def normalise_wording(text: str) -> str:
    """The form wordings are compared in (see :class:`riskkit.comply.models.Wordings`)."""
    folded = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    folded = _LIST_NUMBER.sub("", folded).strip(_EDGE_PUNCTUATION)
    for suffix in _NOUN_SUFFIXES:
        if folded.endswith(suffix) and len(folded) > len(suffix):
            return folded[: -len(suffix)]
    return folded


def parse_days(text: str) -> int | None:
    """``7``, ``七``, ``十五``, ``三十``, ``九十`` → the number (None when not a number)."""
    if text.isdigit():
        return int(text)
    if not text or any(c not in _CHINESE_DIGITS and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CHINESE_DIGITS[char]
    return total + current or None


@dataclass(frozen=True)
class BasisReading:
    """How one stated basis reads: the grammar entry, the text it matched, the window."""

    entry: PriceBasisLabel
    matched: str
    days: int | None


class Vocabulary:
    """Every wording and price-basis label of the loaded policy files, ready to look up."""

    def __init__(
        self, lookup: dict[str, dict[str, str]], price_bases: list[PriceBasisLabel]
    ) -> None:
        self._lookup = lookup
        self._patterns = [(entry, re.compile(entry.pattern)) for entry in price_bases]
        self.price_bases = price_bases

    def known_codes(self, domain: str) -> set[str]:
        return set(self._lookup[domain].values())

    def code(self, domain: str, value: object, also: Iterable[str] = ()) -> str | None:
        """The code ``value`` stands for in ``domain`` (``also``: codes a rule names
        that no file lists), or None when it is blank or unknown."""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return None
        key = normalise_wording(str(value))
        found = self._lookup[domain].get(key)
        if found is None:
            extra = {normalise_wording(c): c for c in also}
            found = extra.get(key)
        return found

    def codes(self, domain: str, values: pd.Series, also: Iterable[str] = ()) -> pd.Series:
        """:meth:`code` of every value (None where blank or unknown), each distinct value
        looked up once."""
        positions, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
        extra = tuple(also)
        mapped = [self.code(domain, u, extra) for u in uniques]
        result = [mapped[p] if p >= 0 else None for p in positions.tolist()]
        return pd.Series(result, index=values.index, dtype=object)

    def booleans(self, values: pd.Series) -> pd.Series:
        """True / False per value; blank is False; unknown wordings are NA."""
        codes = self.codes("boolean", values)
        blank = values.isna() | (values.astype("string").fillna("").str.strip() == "")
        flags = codes.map({"true": True, "false": False}).astype("boolean")
        flags[blank.to_numpy()] = False
        return flags

    def read_price_basis(self, label: str) -> BasisReading | None:
        """The first grammar entry found in ``label`` (None: no entry reads it)."""
        text = unicodedata.normalize("NFKC", label).strip()
        for entry, pattern in self._patterns:
            match = pattern.search(text)
            if match is None:
                continue
            days = entry.days
            if "days" in pattern.groupindex and match.group("days"):
                days = parse_days(match.group("days"))
            return BasisReading(entry, match.group(0), days)
        return None


def build_vocabulary(files: list[tuple[str, PolicyFile, str]]) -> Vocabulary:
    """One vocabulary from ``(name, policy file, text)`` in load order.

    A wording that means two codes of one kind of value is an error naming the file and
    line; so is a price-basis example read by an earlier entry than its own.
    """
    lookup: dict[str, dict[str, str]] = {domain: {} for domain in WORDING_DOMAINS}
    defined_in: dict[tuple[str, str], str] = {}
    price_bases: list[PriceBasisLabel] = []
    for name, policy, text in files:
        for domain in WORDING_DOMAINS:
            mapping: dict[str, list[str]] = getattr(policy.wordings, domain)
            for code, wordings in mapping.items():
                for wording in (code, *wordings):
                    key = normalise_wording(wording)
                    known = lookup[domain].get(key)
                    if known is not None and known != code:
                        raise InputError(
                            f"wording {wording!r} already means {known!r} "
                            f"(in {defined_in[(domain, key)]}), not {code!r}",
                            file=name,
                            row=yaml_line(text, ["wordings", domain, code]),
                            column=f"wordings.{domain}.{code}",
                        )
                    lookup[domain][key] = code
                    defined_in.setdefault((domain, key), name)
        price_bases += policy.price_basis_labels
    vocabulary = Vocabulary(lookup, price_bases)
    for entry in price_bases:
        for example in entry.examples:
            reading = vocabulary.read_price_basis(example)
            if reading is not None and reading.entry != entry:  # a copied entry is harmless
                raise InputError(
                    f"price_basis_labels example {example!r} of pattern {entry.pattern!r} is "
                    f"read by the earlier pattern {reading.entry.pattern!r}",
                    file=next(n for n, p, _ in files if entry in p.price_basis_labels),
                )
    return vocabulary
