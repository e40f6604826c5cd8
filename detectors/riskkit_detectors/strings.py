"""Fast text keys: factorise a column once, normalise only its distinct values.

A million orders hold a few hundred thousand distinct addresses; normalising
those with pyarrow's RE2 kernels and mapping the result back through integer
codes is what keeps the detectors within seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["TextCodes", "factorize_text", "normalised_codes"]


class TextCodes:
    """Integer codes per row (-1 = missing) and the distinct values they index."""

    def __init__(self, codes: np.ndarray, values: pa.Array) -> None:
        self.codes = codes
        self.values = values

    def value(self, code: int) -> str:
        return str(self.values[code].as_py())

    def __len__(self) -> int:
        return len(self.values)


def factorize_text(series: pd.Series) -> TextCodes:
    """Codes of a text column; blank and missing values get -1."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = pa.array(np.asarray(uniques, dtype=object), type=pa.string())
    return normalised_codes(TextCodes(codes.astype(np.int64), values), _strip_blank)


def _strip_blank(values: pa.Array) -> pa.Array:
    stripped = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)


def normalised_codes(raw: TextCodes, normalise: Callable[[pa.Array], pa.Array]) -> TextCodes:
    """Apply ``normalise`` to the distinct values; equal results share a code.

    ``normalise`` returns null for a value that is unknown (masked)."""
    if len(raw.values) == 0:
        return TextCodes(np.full(len(raw.codes), -1, dtype=np.int64), pa.array([], pa.string()))
    normalised = normalise(raw.values)
    encoded = pc.dictionary_encode(normalised)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    valid = pc.is_valid(encoded.indices).to_numpy(zero_copy_only=False)
    remap = np.where(valid, np.nan_to_num(indices, nan=-1), -1).astype(np.int64)
    codes = np.where(raw.codes >= 0, remap[np.maximum(raw.codes, 0)], -1)
    return TextCodes(codes, encoded.dictionary)
