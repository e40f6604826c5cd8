"""User column-mapping files (``--columns mapping.yaml``) for any other export.

Example::

    name: my-erp                  # shown as the detected format
    columns:                      # canonical column: header in your export
      order_id: 单号
      buyer_id: 客户编号
      created_at: 下单时间
      amount_paid: [实付金额, 支付金额]   # several headers: first non-empty wins
    constants:
      platform: erp
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from riskkit.datafile import load_yaml_model
from riskkit.orders.formats import FormatSpec
from riskkit.orders.schema import ALL_COLUMNS, REQUIRED_COLUMNS

__all__ = ["ColumnMapping", "load_mapping"]


class ColumnMapping(BaseModel):
    """A user's description of an export riskkit has no built-in reader for."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="custom", description="Name reported as the detected format")
    columns: dict[str, str | list[str]] = Field(
        description="Canonical column -> source header (or a list: first non-empty wins)"
    )
    constants: dict[str, str] = Field(default_factory=dict, description="Fixed canonical values")

    @field_validator("columns", "constants")
    @classmethod
    def _known_columns(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(value) - set(ALL_COLUMNS))
        if unknown:
            raise ValueError(f"not canonical riskkit columns: {unknown}")
        return value

    @field_validator("columns")
    @classmethod
    def _required_present(cls, value: dict[str, object]) -> dict[str, object]:
        missing = [c for c in REQUIRED_COLUMNS if c not in value]
        if missing:
            raise ValueError(f"the mapping must name the required columns {missing}")
        return value

    def to_spec(self) -> FormatSpec:
        columns = {
            canonical: (source,) if isinstance(source, str) else tuple(source)
            for canonical, source in self.columns.items()
        }
        signature = frozenset(h for canonical in REQUIRED_COLUMNS for h in columns[canonical][:1])
        return FormatSpec(
            name=self.name,
            title=f"column mapping {self.name}",
            signature=signature,
            columns=columns,
            constants=dict(self.constants),
        )


def load_mapping(path: str | Path) -> ColumnMapping:
    return load_yaml_model(path, ColumnMapping, "column mapping")
