"""Masking of personal data for every report and export (on by default).

``--show-pii`` turns masking off; reports record that choice in their header.
Masked values keep enough shape for an analyst to follow a case:
``138****5678``, ``张*``, an address cut after its district, ``ab***@x.com``.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = [
    "PII_COLUMNS",
    "mask_address",
    "mask_email",
    "mask_frame",
    "mask_name",
    "mask_phone",
    "mask_value",
]

_DIGITS = re.compile(r"\d")
# The district level of a Chinese address ends in one of these characters; everything
# after it (street, compound, building, room) identifies a household.
_DISTRICT_END = re.compile(r"^(.*?(?:区|县|旗))")
_CITY_END = re.compile(r"^(.*?市)")


def mask_phone(value: str) -> str:
    digits = "".join(_DIGITS.findall(value))
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if not digits:
        return value
    return "*" * len(digits)


def mask_name(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    if value.isascii() and " " in value:
        return " ".join(part[:1] + "*" * max(len(part) - 1, 1) for part in value.split())
    return value[0] + "*" * max(len(value) - 1, 1)


def mask_email(value: str) -> str:
    local, sep, domain = value.partition("@")
    if not sep:
        return mask_name(value)
    return f"{local[:2]}***@{domain}"


def mask_address(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    match = _DISTRICT_END.match(value) or _CITY_END.match(value)
    if match:
        return match.group(1) + "***"
    if value.isascii():
        # Western address: keep the last comma-separated parts (city, region, country).
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if len(parts) > 2:
            return "***, " + ", ".join(parts[-2:])
    return value[: min(6, max(len(value) // 3, 1))] + "***"


PII_COLUMNS: dict[str, str] = {
    "ship_phone": "phone",
    "ship_name": "name",
    "ship_address": "address",
    "email": "email",
    "buyer_email": "email",
    "ip": "ip",
}


def mask_ip(value: str) -> str:
    if "." in value:
        head = value.split(".")[:2]
        return ".".join([*head, "*", "*"])
    if ":" in value:
        return value.split(":")[0] + ":*"
    return value


_MASKERS = {
    "phone": mask_phone,
    "name": mask_name,
    "address": mask_address,
    "email": mask_email,
    "ip": mask_ip,
}


def mask_value(kind: str, value: object) -> object:
    """Mask one value of the given kind (``phone``, ``name``, ``address``, ``email``, ``ip``)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return value
    return _MASKERS[kind](str(value))


def mask_frame(frame: pd.DataFrame, show_pii: bool = False) -> pd.DataFrame:
    """Return a copy with every known PII column masked (unless ``show_pii``)."""
    if show_pii:
        return frame
    out = frame.copy()
    for column, kind in PII_COLUMNS.items():
        if column in out.columns:
            masker = _MASKERS[kind]
            col = out[column]
            present = col.notna()
            out[column] = col.astype(object)
            out.loc[present, column] = [masker(str(v)) for v in col[present]]
    return out
