"""Check templates: the Python half of a rule (the YAML half picks one and sets its parameters)."""

from __future__ import annotations

from typing import Any

from riskkit.comply.templates.base import CheckContext, Params, Template
from riskkit.comply.templates.price_basis import PRICE_BASIS_TEMPLATES
from riskkit.comply.templates.pricing import PRICING_TEMPLATES
from riskkit.comply.templates.privacy import PRIVACY_TEMPLATES
from riskkit.comply.templates.returns import RETURN_TEMPLATES

__all__ = ["TEMPLATES", "CheckContext", "Params", "Template"]

TEMPLATES: dict[str, Template[Any]] = {
    t.name: t
    for t in (*PRICING_TEMPLATES, *PRICE_BASIS_TEMPLATES, *RETURN_TEMPLATES, *PRIVACY_TEMPLATES)
}
